"""Extractors for how many and what size: quantities and sizes (apparel, shoe, capacity...)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

from dialogue_rules.entities.config import EntityConfig, alternation
from dialogue_rules.entities.extractors import EntityExtractor, blocked_by, outside, pick_longest
from dialogue_rules.entities.values import Entity, SizeValue

# Units after a number that still leave it a count ("3 items", "2 of them").
_COUNT_UNITS = frozenset(
    {"item", "items", "unit", "units", "piece", "pieces", "pcs", "pair", "pairs", "pack", "packs", "of", "x"}
)
_LOOKBACK = 24


class QuantityExtractor:
    """How many: "2 of them", "three", "a pair" (2), "x3", "qty 4", "buy 2", "two pairs".

    A number is not a quantity inside an order id, price, zip code, size or product reference
    ("the first two"), after words like "size" or "option", or before a unit such as "days".
    """

    name: ClassVar[str] = "quantity"

    def __init__(self, config: EntityConfig, *, yields_to: Sequence[EntityExtractor] = ()) -> None:
        q = config.quantity
        self._config = config
        self._max = q.max
        words = config.number_words_pattern()
        num = rf"(?P<n>\d{{1,3}}|(?:{words})(?:[\s-](?:{words}))?)"
        self._counted = config.compile(rf"(?<![\w$#.,/-]){num}\s+(?:{q.counted})", "quantity.counted")
        self._verb = config.compile(
            rf"\b(?:{q.verbs})\s+(?:just\s+|only\s+|another\s+)?{num}(?![\w%$]|[.,]\d)", "quantity.verbs"
        )
        self._explicit = config.compile(q.explicit, "quantity.explicit")
        self._phrases = config.compile(rf"(?<!\w)(?P<p>{alternation(q.phrases)})(?!\w)", "quantity.phrases")
        self._bare = config.compile(rf"(?<![\w$#.,/-]){num}(?![\w%$]|[.,]\d)", "quantity (bare number)")
        self._not_after = config.compile(rf"\b(?:{q.not_after})\s*$", "quantity.not_after")
        units = [u for u in config.money.non_money_units if u not in _COUNT_UNITS]
        units += ["dollars", "dollar", "bucks", "usd", "am", "pm"]
        self._unit_after = config.compile(rf"\s*(?:{alternation(units)})(?!\w)", "money.non_money_units")
        self._yields_to = tuple(yields_to)

    def extract(self, text: str) -> list[Entity]:
        candidates: list[Entity] = []
        for match in self._explicit.finditer(text):
            digits = match.group("a") or match.group("b") or match.group("c")
            self._add(candidates, int(digits), match.span(), text, 0.95)
        for match in self._phrases.finditer(text):
            phrase = " ".join(match.group("p").lower().split())
            self._add(candidates, self._config.quantity.phrases[phrase], match.span(), text, 0.85)
        for pattern, confidence in ((self._counted, 0.95), (self._verb, 0.85)):
            for match in pattern.finditer(text):
                value = self._config.number_value(match.group("n"))
                if value is not None and not self._unit_after.match(text, match.end("n")):
                    # The span is the number alone: "2 of the blue ones" leaves "the blue ones" a reference.
                    self._add(candidates, value, match.span("n"), text, confidence)
        for match in self._bare.finditer(text):
            token = match.group("n").lower()
            if token in ("one", "zero") or self._unit_after.match(text, match.end()):
                continue
            if self._not_after.search(text[max(0, match.start() - _LOOKBACK) : match.start()]):
                continue
            value = self._config.number_value(token)
            if value is not None:
                self._add(candidates, value, match.span(), text, 0.5 if token.isdigit() else 0.55)
        blocked = blocked_by(text, self._yields_to)
        return outside(pick_longest(candidates), blocked)

    def _add(
        self, into: list[Entity], value: int, span: tuple[int, int], text: str, confidence: float
    ) -> None:
        if 1 <= value <= self._max:
            into.append(Entity(self.name, value, span, text[span[0] : span[1]], confidence))


class SizeExtractor:
    """Sizes: XS..XXL and "medium" (M), "size 10", "10.5", "waist 32", capacities ("750ml",
    "1L", "12 cups", "2 person"), storage ("32GB"), thickness ("6mm"), length ("8 inch")."""

    name: ClassVar[str] = "size"

    def __init__(self, config: EntityConfig, *, yields_to: Sequence[EntityExtractor] = ()) -> None:
        s = config.size
        self._config = config
        self._letters = {" ".join(k.lower().split()): v for k, v in s.letters.items()}
        self._units = [
            (
                unit,
                config.compile(
                    r"(?<![\w.$])" + unit.pattern,
                    f"size.units[{i}]",
                    flags=0 if unit.case_sensitive else re.IGNORECASE,
                ),
            )
            for i, unit in enumerate(s.units)
        ]
        self._numeric = [
            (spec, config.compile(spec.pattern, f"size.numeric[{i}]")) for i, spec in enumerate(s.numeric)
        ]
        every = alternation(self._letters)
        self._after_size_word = config.compile(
            rf"\b(?:size|sz)\s*:?\s*(?P<l>{every})(?![\w-])", "size.letters (after 'size')"
        )
        words = alternation(k for k in self._letters if len(k) > 3)
        self._words = config.compile(rf"(?<![\w-])(?P<l>{words})(?![\w-])", "size.letters (words)")
        self._letter_sizes = config.compile(s.letter_sizes, "size.letter_sizes")
        self._single = config.compile(s.single_letters, "size.single_letters", flags=0)
        self._before = config.compile(s.word_before, "size.word_before")
        self._weak_before = config.compile(s.weak_word_before, "size.weak_word_before")
        self._weak_words = frozenset(w.lower() for w in s.weak_words)
        self._after = config.compile(s.word_after, "size.word_after")
        self._not_after = config.compile(s.not_word_after, "size.not_word_after")
        self._yields_to = tuple(yields_to)

    def extract(self, text: str) -> list[Entity]:
        candidates: list[Entity] = []
        for unit, pattern in self._units:
            for match in pattern.finditer(text):
                raw = match.group("n")
                number = self._config.number_value(raw)
                amount = Decimal(number) if number is not None else Decimal(raw)
                shown = _plain(amount)
                value = SizeValue(unit.format.format(n=shown), unit.axis, amount * unit.factor, unit.unit)
                candidates.append(self._entity(value, match.span(), text, 0.9))
        for spec, pattern in self._numeric:
            for match in pattern.finditer(text):
                group = "n" if match.group("n") else "m"
                amount = Decimal(match.group(group))
                value = SizeValue(_plain(amount), spec.axis, amount)
                inseam = match.groupdict().get("inseam")
                span = match.span(group) if inseam else match.span()
                candidates.append(self._entity(value, span, text, spec.confidence))
                if inseam:
                    length = Decimal(inseam)
                    inseam_value = SizeValue(_plain(length), "inseam", length)
                    candidates.append(self._entity(inseam_value, match.span("inseam"), text, spec.confidence))
        for match in self._after_size_word.finditer(text):
            candidates.append(self._letter(match, text, 0.95))
        for match in self._letter_sizes.finditer(text):
            candidates.append(self._letter(match, text, 0.85))
        for match in self._single.finditer(text):
            candidates.append(self._letter(match, text, 0.6))
        for match in self._words.finditer(text):
            entity = self._size_word(match, text)
            if entity:
                candidates.append(entity)
        return outside(pick_longest(candidates), blocked_by(text, self._yields_to))

    def _size_word(self, match: re.Match[str], text: str) -> Entity | None:
        word = " ".join(match.group("l").lower().split())
        rest = text[match.end() :]
        if self._not_after.match(rest):
            return None
        before = text[max(0, match.start() - 12) : match.start()]
        after = bool(self._after.match(rest))
        if word in self._weak_words:
            in_context = after or bool(self._weak_before.search(before))
            return self._letter(match, text, 0.75) if in_context else None
        in_context = after or bool(self._before.search(before))
        return self._letter(match, text, 0.9 if in_context else 0.8)

    def _letter(self, match: re.Match[str], text: str, confidence: float) -> Entity:
        key = " ".join(match.group("l").lower().split())
        value = SizeValue(self._letters.get(key, key.upper()), "size")
        return self._entity(value, match.span(), text, confidence)

    def _entity(self, value: SizeValue, span: tuple[int, int], text: str, confidence: float) -> Entity:
        return Entity(self.name, value, span, text[span[0] : span[1]], confidence)


def _plain(amount: Decimal) -> str:
    """ "10.5" stays, "1.0" becomes "1"."""
    text = format(amount.normalize(), "f")
    return text
