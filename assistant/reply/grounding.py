"""The grounding check: an LLM-phrased reply may only state what the tool results say.

A :class:`FactSheet` holds what a reply may claim: every number, order id, status word,
availability claim, promise word and capitalised name found in the templated draft, the fact
lines given to the model, and the fact-marked fields of the tool results
(:meth:`tools.types.ToolResult.facts`). :func:`check_grounding` lists every claim of the phrased
text that the sheet does not back. One problem is enough to send the draft instead, so a price,
stock figure, status or product name that differs from the store never reaches a customer.

The vocabularies live in ``grounding.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from core.facts import FactValue

GROUNDING_FILE = "grounding.yaml"
_NUMBER = re.compile(r"(?<![A-Za-z#\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d])")
_ORDER_ID = re.compile(r"#?\b[Ww]\d{7}\b")
_CAPITALISED_RUN = re.compile(
    r"\b[A-Z][\w'&-]*(?:\s+(?:[A-Z0-9][\w'&-]*|&|of|and|with|for|in))*\s+[A-Z0-9][\w'&-]*"
)
_SPACES = re.compile(r"\s+")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status_words: list[str] = Field(min_length=1)
    claims: list[str] = Field(min_length=1)
    promises: list[str] = Field(min_length=1)
    name_prefix_words: list[str]
    max_length_ratio: float = Field(gt=1)


@lru_cache(maxsize=1)
def grounding_config() -> _Config:
    text = resources.files("assistant.reply").joinpath(GROUNDING_FILE).read_text(encoding="utf-8")
    return _Config.model_validate(yaml.safe_load(text))


def numbers_in(text: str) -> set[Decimal]:
    """Every number written in ``text`` (not inside ids such as #W0000001), normalised (12.00 -> 12)."""
    found: set[Decimal] = set()
    for match in _NUMBER.finditer(text):
        whole = match.group(1).replace(",", "")
        digits = f"{whole}.{match.group(2)}" if match.group(2) else whole
        try:
            found.add(Decimal(digits).normalize())
        except InvalidOperation:  # pragma: no cover - the pattern only matches digits
            continue
    return found


def _words(text: str) -> str:
    return " " + _SPACES.sub(" ", re.sub(r"[^\w#'-]+", " ", text.lower())).strip() + " "


def _has(haystack: str, phrase: str) -> bool:
    return f" {phrase.lower()} " in haystack


@dataclass(frozen=True)
class FactSheet:
    """What a reply may state; build it with :meth:`build`."""

    numbers: frozenset[Decimal]
    order_ids: frozenset[str]
    text: str = field(repr=False)  # every backing text, as lower-case words between spaces

    @classmethod
    def build(cls, *, draft: str, facts: Iterable[str] = (), values: Iterable[FactValue] = ()) -> FactSheet:
        parts = [draft, *facts]
        for value in values:
            parts.append(_fact_text(value.value))
        joined = "\n".join(parts)
        numbers = numbers_in(joined)
        for value in values:
            if isinstance(value.value, Decimal | int) and not isinstance(value.value, bool):
                numbers.add(Decimal(value.value).normalize())
        ids = {_norm_order(m.group(0)) for m in _ORDER_ID.finditer(joined)}
        return cls(frozenset(numbers), frozenset(ids), _words(joined))


def _fact_text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(map(str, value))
    return str(value)


def _norm_order(text: str) -> str:
    return "#W" + text.lstrip("#")[1:]


@dataclass(frozen=True)
class GroundingResult:
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_grounding(text: str, sheet: FactSheet, *, draft_length: int | None = None) -> GroundingResult:
    """Every claim in ``text`` that ``sheet`` does not back (empty: the text is grounded)."""
    config = grounding_config()
    problems: list[str] = []
    if not text.strip():
        return GroundingResult(("empty reply",))
    if draft_length and len(text) > config.max_length_ratio * max(draft_length, 40):
        problems.append(f"reply is {len(text)} characters, the draft {draft_length}")
    for number in sorted(numbers_in(text)):
        if number not in sheet.numbers:
            problems.append(f"number {number} is not in the facts")
    for match in _ORDER_ID.finditer(text):
        if _norm_order(match.group(0)) not in sheet.order_ids:
            problems.append(f"order id {match.group(0)} is not in the facts")
    words = _words(text)
    for vocabulary, label in (
        (config.status_words, "status"),
        (config.claims, "claim"),
        (config.promises, "promise"),
    ):
        for phrase in vocabulary:
            if _has(words, phrase) and not _has(sheet.text, phrase):
                problems.append(f"{label} {phrase!r} is not in the facts")
    prefixes = set(config.name_prefix_words)
    for match in _CAPITALISED_RUN.finditer(text):
        tokens = match.group(0).split()
        while tokens and tokens[0].lower().strip("'") in prefixes:
            tokens.pop(0)
        if len(tokens) < 2:
            continue
        name = " ".join(tokens)
        if not _has(sheet.text, _words(name).strip()):
            problems.append(f"name {name!r} is not in the facts")
    return GroundingResult(tuple(problems))
