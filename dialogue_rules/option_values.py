"""Which of a catalog's option values a message names, whatever the shop's options are.

Option names and values come from the shop's own data (a product's variants); nothing here knows
a catalog. Text and values are compared in a canonical form: lower case, punctuation as spaces,
and measures in a base unit from ``units.yaml`` ("1.5 liters", "1.5L" and "1500ml" are all
``1500ml``; "5 feet" is ``60in``), so a customer's spelling meets the catalog's. A value ``none``
is named by "no <option>" or "without <option>" ("no backlight").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError
from dialogue_rules.loading import parse_rules

UNITS_FILE = "units.yaml"
_PUNCTUATION = re.compile(r"[^a-z0-9.%+]+|(?<!\d)\.|\.(?!\d)")


class _Unit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: str = Field(min_length=1)
    factor: Decimal = Field(gt=0)
    spellings: list[str] = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: dict[str, _Unit] = Field(min_length=1)
    none_words: list[str] = Field(default_factory=list)
    keep_words: list[str] = Field(default_factory=list)
    bigger_words: list[str] = Field(default_factory=list)
    smaller_words: list[str] = Field(default_factory=list)
    size_order: list[str] = Field(default_factory=list)
    ambiguous: list[str] = Field(default_factory=list)
    not_distinctive: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class OptionValues:
    measure: re.Pattern[str]
    units: Mapping[str, tuple[str, Decimal]]  # spelling -> (base unit, factor)
    none_words: tuple[str, ...]
    keep_words: tuple[str, ...] = ()
    bigger_words: tuple[str, ...] = ()
    smaller_words: tuple[str, ...] = ()
    size_order: tuple[str, ...] = ()
    not_distinctive: frozenset[str] = frozenset()

    def direction(self, text: str) -> int:
        """1 for "a bigger one", -1 for "a smaller one", 0 for neither."""
        said = set(self.canonical(text).split())
        if said & set(self.bigger_words):
            return 1
        return -1 if said & set(self.smaller_words) else 0

    def rank(self, value: str) -> Decimal | None:
        """Where ``value`` stands among its option's values: its amount ("750ml", "10", "6 ft"
        as 72in) or its place among letter sizes; None for a value with no order ("red")."""
        canonical = self.canonical(value)
        if canonical in self.size_order:
            return Decimal(self.size_order.index(canonical))
        number = re.match(r"^(\d+(?:\.\d+)?)(?:[a-z%]+)?(?:\s+[a-z-]+)?$", canonical)
        return Decimal(number.group(1)) if number else None

    def canonical(self, text: str) -> str:
        """``text`` lower-cased, measures in base units, punctuation as single spaces."""
        lowered = text.lower().replace("\u2019", "'").replace("\u201d", '"')
        measured = self.measure.sub(self._measure, lowered)
        return " ".join(_PUNCTUATION.sub(" ", measured).split())

    def _measure(self, match: re.Match[str]) -> str:
        spelling = next(g for g in match.groups()[1:] if g)
        unit, factor = self.units[spelling]
        try:
            amount = (Decimal(match.group(1)) * factor).normalize()
        except InvalidOperation:  # pragma: no cover - the pattern only matches numbers
            return match.group(0)
        return f" {amount:f}{unit} "

    def mentions(self, text: str, value: str, *, option: str | None = None) -> bool:
        """Whether ``text`` names ``value`` (of ``option``, which lets "no <option>" name none)."""
        said = f" {self.canonical(text)} "
        wanted = self.canonical(value)
        if wanted and f" {wanted} " in said:
            return True
        if wanted == "none" and option:
            name = self.canonical(option)
            return any(f" {word} {name} " in said for word in self.none_words)
        return False

    def _values_named(self, said: str, option: str, values: set[str]) -> set[str]:
        """The values of ``option`` in canonical text ``said``, not counting the option's own name
        ("bagged/bagless: bagged" names bagged, not bagless)."""
        name = self.canonical(option)
        inside = _spans(said, name)
        found = set()
        for value in values:
            wanted = self.canonical(value)
            if wanted and any(
                not any(a <= start and end <= b for a, b in inside) for start, end in _spans(said, wanted)
            ):
                found.add(value)
        if "none" in values and any(f" {word} {name} " in said for word in self.none_words):
            found.add("none")
        return found or self._by_distinct_words(said, values, inside)

    def _by_distinct_words(self, said: str, values: set[str], inside: list[tuple[int, int]]) -> set[str]:
        """The values of several words named by a word only they have among the option's values
        ("the google one": Google Assistant), when no value is named whole."""
        words = {value: set(self.canonical(value).split()) for value in values}
        found = set()
        for value, own in words.items():
            if len(own) < 2:
                continue
            others = set().union(*(w for v, w in words.items() if v != value))
            distinct = {
                w
                for w in own - others
                if len(w) >= 4 and not w[0].isdigit() and w not in self.not_distinctive
            }
            if any(
                not any(a <= start and end <= b for a, b in inside)
                for word in distinct
                for start, end in _spans(said, word)
            ):
                found.add(value)
        return found

    def named(self, text: str, options: Mapping[str, set[str]]) -> dict[str, set[str]]:
        """For each option, the values of it that ``text`` names (options with none left out).

        A value two options share ("black" frame and lens colors) counts for the option the text
        names with it ("frame color black") when it names one; otherwise for both."""
        said = f" {self.canonical(text)} "
        found = {name: self._values_named(said, name, values) for name, values in options.items()}
        for value in {v for values in found.values() for v in values}:
            holders = [name for name, values in found.items() if value in values]
            wanted = self.canonical(value)
            named = [name for name in holders if f" {self.canonical(name)} {wanted} " in said]
            if len(holders) > 1 and named:
                for name in holders:
                    if name not in named:
                        found[name].discard(value)
        return {name: values for name, values in found.items() if values}

    def kept(self, text: str, current: Mapping[str, str]) -> dict[str, str]:
        """The options of ``current`` (a variant's options) that ``text`` asks to keep as they are:
        a keep word up to three words before the option's name ("the same backlight and size")
        or before its current value ("still black")."""
        said = f" {self.canonical(text)} "
        keep = "|".join(re.escape(word) for word in self.keep_words)
        if not keep:
            return {}
        found = {}
        for name, value in current.items():
            for phrase in {self.canonical(name), self.canonical(value)} - {""}:
                if re.search(rf" (?:{keep})(?: [a-z0-9.%+]+){{0,3}}? {re.escape(phrase)} ", said):
                    found[name] = value
        return found


def _spans(said: str, phrase: str) -> list[tuple[int, int]]:
    """Where ``phrase`` stands as whole words in ``said`` (canonical text padded with spaces)."""
    if not phrase:
        return []
    return [(m.start(), m.end()) for m in re.finditer(rf"(?<= ){re.escape(phrase)}(?= )", said)]


def load_option_values(path: Path | None = None) -> OptionValues:
    _origin, raw = parse_rules(_File, UNITS_FILE, path)
    spellings: dict[str, tuple[str, Decimal]] = {}
    for unit in raw.units.values():
        for spelling in unit.spellings:
            spellings[spelling.lower()] = (unit.base, unit.factor)
    ambiguous = {a.lower() for a in raw.ambiguous}
    unknown = ambiguous - set(spellings)
    if unknown:
        raise ConfigError(
            f"{UNITS_FILE}: ambiguous spellings that no unit has: {sorted(unknown)}", key="ambiguous"
        )

    def alternation(chosen: set[str]) -> str:
        return "|".join(re.escape(s) for s in sorted(chosen, key=len, reverse=True))

    plain, words = alternation(set(spellings) - ambiguous), alternation(ambiguous)
    # An ambiguous spelling: against the number, or spaced but with no word after it.
    either = rf"\s*-?\s*({plain})(?![a-z])"
    if words:
        either = rf"(?:{either}|-?({words})(?![a-z])|\s+({words})(?![a-z])(?!\s*[a-z0-9]))"
    measure = re.compile(rf"(\d+(?:\.\d+)?){either}")
    return OptionValues(
        measure,
        spellings,
        tuple(w.lower() for w in raw.none_words),
        tuple(w.lower() for w in raw.keep_words),
        tuple(w.lower() for w in raw.bigger_words),
        tuple(w.lower() for w in raw.smaller_words),
        tuple(w.lower() for w in raw.size_order),
        frozenset(w.lower() for w in raw.not_distinctive),
    )


@lru_cache(maxsize=1)
def default_option_values() -> OptionValues:
    return load_option_values()
