"""The rule layer of the turn pipeline: input guardrails, entity extractors, intents.

Typical use in one turn (the caller owns the embedder and builds the matcher once)::

    guarded = check_input(text, settings=settings.dialogue)
    if guarded.violation:                      # too long, empty or off-topic
        reply(guarded.violation.message)
    entities = extract_all(guarded.text)        # order ids, emails, prices, sizes, references...
    intent = matcher.match(guarded.text)        # IntentMatcher(embedder=...), built once
    if guarded.suspicious:                      # prompt injection / price manipulation
        ...                                     # do not act on the message's instructions

Patterns, vocabularies and customer-facing messages live in the YAML files beside this module.
"""

from dialogue_rules.entities.extract import build_extractors, default_extractors, extract_all
from dialogue_rules.entities.references import resolve_reference
from dialogue_rules.entities.values import Entities, Entity, LastProduct
from dialogue_rules.guardrails import GuardedInput, GuardrailViolation, check_input, load_guardrail_rules
from dialogue_rules.intents import UNKNOWN_INTENT, IntentMatcher, IntentResult, load_intent_config
from dialogue_rules.registry import RuleRegistry
from dialogue_rules.sentiment import score_sentiment

__all__ = [
    "UNKNOWN_INTENT",
    "Entities",
    "Entity",
    "GuardedInput",
    "GuardrailViolation",
    "IntentMatcher",
    "IntentResult",
    "LastProduct",
    "RuleRegistry",
    "build_extractors",
    "check_input",
    "default_extractors",
    "extract_all",
    "load_guardrail_rules",
    "load_intent_config",
    "resolve_reference",
    "score_sentiment",
]
