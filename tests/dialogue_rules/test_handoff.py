"""Handoff triggers a message fires by itself (sentiment, out-of-scope requests, failures), in order.

Intents that hand off (asking for a person, a complaint) are actions of the registry: see
tests/assistant/decide/test_actions.py.
"""

from __future__ import annotations

import pytest

from core.errors import UnknownNameError
from dialogue_rules.handoff import default_handoff_rules
from dialogue_rules.intents import IntentMatcher

RULES = default_handoff_rules()


def _check(matcher: IntentMatcher, text: str, failed: int = 0) -> str | None:
    sentiment = matcher.match(text).sentiment
    found = RULES.check(sentiment=sentiment, text=text, failed_turns=failed, max_failed_turns=2)
    return found.name if found else None


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("this is ridiculous, worst service ever", "negative_sentiment"),
        ("do you price match amazon?", "out_of_scope"),
        ("I need to reset my password", "out_of_scope"),
        ("my package never arrived", "out_of_scope"),
        ("can I speak to a real person please", None),
        ("show me socks", None),
        ("I want to return the damaged shoes", None),
    ],
)
def test_triggers(rules_only: IntentMatcher, text: str, trigger: str | None) -> None:
    assert _check(rules_only, text) == trigger


def test_repeated_failure_fires_at_the_limit(rules_only: IntentMatcher) -> None:
    assert _check(rules_only, "blorp", failed=1) is None
    assert _check(rules_only, "blorp", failed=2) == "repeated_failure"
    assert RULES.trigger("repeated_failure").template == "handoff_offer"


def test_an_unknown_trigger_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="customer_request"):
        RULES.trigger("customer_requests")


@pytest.mark.parametrize(
    ("text", "out_of_scope"),
    [
        ("can you engrave my name on it", True),
        ("I need a custom order for my company", True),
        ("do you do gift wrapping", True),
        ("I'd like the skateboard in design custom instead", False),  # a catalog's option value
    ],
)
def test_custom_work_is_out_of_scope_but_an_option_called_custom_is_not(
    text: str, out_of_scope: bool
) -> None:
    assert RULES.is_out_of_scope(text) is out_of_scope
