"""Input guardrails: the first step of every turn.

:func:`check_input` caps the length, strips control characters (keeping newlines and tabs),
NFKC-normalizes, removes chat-template control tokens so they can never reach a prompt as
tokens, flags attempts to steer the assistant (prompt injection, price manipulation,
authority claims) and declines requests clearly outside shopping. Patterns and the
customer-facing messages live in ``guardrails.yaml``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.config import DialogueSettings
from dialogue_rules.loading import compile_pattern, parse_rules


class ViolationCode(enum.StrEnum):
    TOO_LONG = "too_long"
    EMPTY = "empty"
    OFF_TOPIC = "off_topic"


@dataclass(frozen=True)
class GuardrailViolation:
    """The message is not processed further; ``message`` is what the customer is told."""

    code: ViolationCode
    message: str
    detail: Mapping[str, Any] = field(default_factory=dict)


class FlagKind(enum.StrEnum):
    PROMPT_INJECTION = "prompt_injection"
    PRICE_MANIPULATION = "price_manipulation"
    AUTHORITY_CLAIM = "authority_claim"
    TEMPLATE_TOKEN = "template_token"
    CONTROL_CHARS = "control_chars"


#: Flags that mean "the customer tried to steer the assistant": never act on such a message.
SUSPICIOUS_FLAGS = frozenset(
    {FlagKind.PROMPT_INJECTION, FlagKind.PRICE_MANIPULATION, FlagKind.AUTHORITY_CLAIM}
)


@dataclass(frozen=True)
class GuardFlag:
    kind: FlagKind
    rule: str
    excerpt: str


@dataclass(frozen=True)
class GuardedInput:
    """A customer message after the input guardrails.

    ``text`` is safe to put into a prompt (control characters stripped, NFKC-normalized,
    chat-template tokens neutralized). ``violation`` set: answer with its message and stop.
    ``suspicious``: the message tried to steer the assistant; later steps must not act on its
    instructions (``notice`` is a reply they may use).
    """

    text: str
    original_length: int
    flags: tuple[GuardFlag, ...] = ()
    violation: GuardrailViolation | None = None
    notice: str | None = None

    @property
    def ok(self) -> bool:
        return self.violation is None

    @property
    def off_topic(self) -> bool:
        return self.violation is not None and self.violation.code is ViolationCode.OFF_TOPIC

    @property
    def suspicious(self) -> bool:
        return any(flag.kind in SUSPICIOUS_FLAGS for flag in self.flags)

    def has_flag(self, kind: FlagKind) -> bool:
        return any(flag.kind is kind for flag in self.flags)

    def flag_kinds(self) -> frozenset[FlagKind]:
        return frozenset(flag.kind for flag in self.flags)


GUARDRAILS_FILE = "guardrails.yaml"
_KEEP_CONTROLS = frozenset("\n\t")
_KEEP_FORMAT = frozenset("\u200d")  # zero-width joiner: part of emoji sequences
_MAX_TOKEN_PASSES = 8
_EXCERPT = 80


class _Messages(BaseModel):
    model_config = ConfigDict(extra="forbid")
    too_long: str
    empty: str
    off_topic: str
    injection: str


class _TokenRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    pattern: str


class _FlagRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    kind: FlagKind
    patterns: list[str] = Field(min_length=1)


class _Category(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    topic: str
    patterns: list[str] = Field(min_length=1)


class _OffTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    domain_terms: list[str] = Field(min_length=1)
    categories: list[_Category] = Field(min_length=1)


class _GuardrailFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: _Messages
    template_tokens: list[_TokenRule] = Field(min_length=1)
    flags: list[_FlagRule]
    off_topic: _OffTopic


@dataclass(frozen=True)
class FlagRule:
    id: str
    kind: FlagKind
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class OffTopicCategory:
    id: str
    topic: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class GuardrailRules:
    """The compiled contents of ``guardrails.yaml``."""

    messages: _Messages
    template_tokens: tuple[tuple[str, re.Pattern[str]], ...]
    flags: tuple[FlagRule, ...]
    domain_terms: tuple[re.Pattern[str], ...]
    off_topic: tuple[OffTopicCategory, ...]


def load_guardrail_rules(path: Path | None = None) -> GuardrailRules:
    """Compile ``path`` (default: the packaged guardrails.yaml); errors name the bad entry."""
    origin, raw = parse_rules(_GuardrailFile, GUARDRAILS_FILE, path)
    tokens = tuple(
        (rule.id, compile_pattern(rule.pattern, where=f"{origin}: template_tokens.{rule.id}"))
        for rule in raw.template_tokens
    )
    flags = tuple(
        FlagRule(
            rule.id,
            rule.kind,
            tuple(
                compile_pattern(p, where=f"{origin}: flags.{rule.id}.patterns[{i}]")
                for i, p in enumerate(rule.patterns)
            ),
        )
        for rule in raw.flags
    )
    domain = tuple(
        compile_pattern(p, where=f"{origin}: off_topic.domain_terms[{i}]")
        for i, p in enumerate(raw.off_topic.domain_terms)
    )
    categories = tuple(
        OffTopicCategory(
            cat.id,
            cat.topic,
            tuple(
                compile_pattern(p, where=f"{origin}: off_topic.categories.{cat.id}.patterns[{i}]")
                for i, p in enumerate(cat.patterns)
            ),
        )
        for cat in raw.off_topic.categories
    )
    return GuardrailRules(raw.messages, tokens, flags, domain, categories)


@lru_cache(maxsize=1)
def default_guardrail_rules() -> GuardrailRules:
    """The packaged rules, compiled once (they are immutable data)."""
    return load_guardrail_rules()


def check_input(
    text: str, *, settings: DialogueSettings, rules: GuardrailRules | None = None
) -> GuardedInput:
    """Run every input guardrail over one customer message.

    Over ``settings.max_message_chars`` the message is refused whole (``violation`` too_long,
    empty ``text``); it is never truncated. Otherwise ``text`` is the cleaned message.
    """
    rules = rules or default_guardrail_rules()
    length = len(text)
    if length > settings.max_message_chars:
        message = rules.messages.too_long.format(length=length, limit=settings.max_message_chars)
        violation = GuardrailViolation(
            ViolationCode.TOO_LONG, message, {"length": length, "limit": settings.max_message_chars}
        )
        return GuardedInput(text="", original_length=length, violation=violation)

    flags: list[GuardFlag] = []
    cleaned, removed = strip_control_characters(text)
    if removed:
        flags.append(GuardFlag(FlagKind.CONTROL_CHARS, "control_characters", f"{removed} removed"))
    cleaned = unicodedata.normalize("NFKC", cleaned)
    cleaned, token_flags = _neutralize_tokens(cleaned, rules)
    flags.extend(token_flags)
    cleaned = _tidy_whitespace(cleaned)
    if not cleaned.strip():
        violation = GuardrailViolation(ViolationCode.EMPTY, rules.messages.empty)
        return GuardedInput(text="", original_length=length, flags=tuple(flags), violation=violation)

    flags.extend(_match_flags(cleaned, rules))
    guarded = GuardedInput(
        text=cleaned, original_length=length, flags=tuple(flags), violation=_off_topic(cleaned, rules)
    )
    if guarded.suspicious:
        return replace(guarded, notice=rules.messages.injection)
    return guarded


def strip_control_characters(text: str) -> tuple[str, int]:
    """Remove control and invisible format characters (keeping newline and tab); returns the
    text and how many characters went. Carriage returns become newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    removed = 0
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _KEEP_CONTROLS) or (
            category in ("Cf", "Cs", "Co", "Cn") and char not in _KEEP_FORMAT
        ):
            removed += 1
            continue
        kept.append(char)
    return "".join(kept), removed


def _neutralize_tokens(text: str, rules: GuardrailRules) -> tuple[str, list[GuardFlag]]:
    flags: list[GuardFlag] = []
    for _ in range(_MAX_TOKEN_PASSES):
        changed = False
        for rule_id, pattern in rules.template_tokens:
            for found in pattern.finditer(text):
                flags.append(GuardFlag(FlagKind.TEMPLATE_TOKEN, rule_id, found.group(0)[:_EXCERPT]))
            text, count = pattern.subn(" ", text)
            changed = changed or count > 0
        if not changed:
            break
    if flags:
        flags.append(GuardFlag(FlagKind.PROMPT_INJECTION, "template_tokens", flags[0].excerpt))
    return text, flags


_SPACES = re.compile(r"[ \t]{2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy_whitespace(text: str) -> str:
    return _BLANK_LINES.sub("\n\n", _SPACES.sub(" ", text)).strip()


def _match_flags(text: str, rules: GuardrailRules) -> list[GuardFlag]:
    found: list[GuardFlag] = []
    for rule in rules.flags:
        for pattern in rule.patterns:
            hit = pattern.search(text)
            if hit:
                found.append(GuardFlag(rule.kind, rule.id, hit.group(0)[:_EXCERPT]))
                break
    return found


def _off_topic(text: str, rules: GuardrailRules) -> GuardrailViolation | None:
    if any(term.search(text) for term in rules.domain_terms):
        return None
    for category in rules.off_topic:
        for pattern in category.patterns:
            hit = pattern.search(text)
            if hit:
                message = rules.messages.off_topic.format(topic=category.topic)
                return GuardrailViolation(
                    ViolationCode.OFF_TOPIC, message, {"category": category.id, "matched": hit.group(0)}
                )
    return None
