"""Extractors for identifiers and money: order ids, emails, zip codes, prices.

Each extractor has a ``name`` and ``extract(text) -> list[Entity]`` (spans into ``text``, in
text order). Extractors that read digits yield to more specific ones: a zip code is never
read inside an order id or a price.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import ClassVar, Protocol

from email_validator import EmailNotValidError, validate_email

from dialogue_rules.entities.config import EntityConfig, alternation
from dialogue_rules.entities.values import Entity, PriceRange

CENT = Decimal("0.01")
_MAX_PRICE = Decimal(1_000_000)


class EntityExtractor(Protocol):
    """One kind of entity. ``extract`` is pure: the same text always gives the same entities."""

    @property
    def name(self) -> str: ...

    def extract(self, text: str) -> list[Entity]: ...


def pick_longest(candidates: Iterable[Entity]) -> list[Entity]:
    """Non-overlapping entities, preferring longer spans then higher confidence; text order."""
    kept: list[Entity] = []
    ordered = sorted(candidates, key=lambda e: (-(e.span[1] - e.span[0]), -e.confidence, e.span[0]))
    for entity in ordered:
        if not any(entity.overlaps(other) for other in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.span)


def outside(candidates: Iterable[Entity], blocked: Sequence[Entity]) -> list[Entity]:
    """The candidates that overlap none of ``blocked``."""
    return [c for c in candidates if not any(c.overlaps(b) for b in blocked)]


def blocked_by(text: str, extractors: Sequence[EntityExtractor]) -> list[Entity]:
    found: list[Entity] = []
    for extractor in extractors:
        found.extend(extractor.extract(text))
    return found


class OrderIdExtractor:
    """Order ids as ``#W1234567``: "#W1234567", "w1234567", "W 123 4567", "order number 1234567"."""

    name: ClassVar[str] = "order_id"

    def __init__(self, config: EntityConfig) -> None:
        self._pattern = config.compile(config.order_id.pattern, "order_id.pattern", flags=0)
        self._context = config.compile(config.order_id.context_pattern, "order_id.context_pattern")

    def extract(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        for match in self._pattern.finditer(text):
            digits = re.sub(r"\D", "", match.group("digits"))
            compact = " " not in match.group(0) and "-" not in match.group(0)
            confidence = (1.0 if match.group("hash") else 0.95) if compact else 0.85
            found.append(Entity(self.name, "#W" + digits, match.span(), match.group(0), confidence))
        for match in self._context.finditer(text):
            entity = Entity(
                self.name, "#W" + match.group("digits"), match.span("digits"), match.group("digits"), 0.7
            )
            if not any(entity.overlaps(other) for other in found):
                found.append(entity)
        return sorted(found, key=lambda e: e.span)


class EmailExtractor:
    """Email addresses, validated (syntax only) and lower-cased; also the spoken form
    "alice dot smith at example dot com" that speech recognition writes."""

    name: ClassVar[str] = "email"

    def __init__(self, config: EntityConfig) -> None:
        self._pattern = config.compile(config.email.pattern, "email.pattern")
        self._spoken = config.compile(config.email.spoken_pattern, "email.spoken_pattern")

    def extract(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        for match in self._pattern.finditer(text):
            address = _valid_email(match.group(0))
            if address:
                found.append(Entity(self.name, address, match.span(), match.group(0), 0.99))
        for match in self._spoken.finditer(text):
            local = _unspeak(match.group("local"))
            domain = _unspeak(match.group("domain"))
            address = _valid_email(f"{local}@{domain}")
            entity = Entity(self.name, address or "", match.span(), match.group(0), 0.7)
            if address and not any(entity.overlaps(other) for other in found):
                found.append(entity)
        return sorted(found, key=lambda e: e.span)


def _unspeak(words: str) -> str:
    text = re.sub(r"\s+dot\s+", ".", words.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+underscore\s+", "_", text, flags=re.IGNORECASE).replace(" ", "")


def _valid_email(candidate: str) -> str | None:
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return str(checked.normalized).lower()


class ZipCodeExtractor:
    """US zip codes: 5 digits or ZIP+4, never inside an order id, a price or a longer number."""

    name: ClassVar[str] = "zip_code"

    def __init__(self, config: EntityConfig, *, yields_to: Sequence[EntityExtractor] = ()) -> None:
        self._pattern = config.compile(config.zip_code.pattern, "zip_code.pattern")
        self._keyword = config.compile(config.zip_code.keyword, "zip_code.keyword")
        units = [*config.money.non_money_units, "dollars", "dollar", "bucks", "usd"]
        self._unit_after = config.compile(rf"\s*(?:{alternation(units)})(?!\w)", "money.non_money_units")
        self._yields_to = tuple(yields_to)

    def extract(self, text: str) -> list[Entity]:
        blocked = blocked_by(text, self._yields_to)
        found: list[Entity] = []
        for match in self._pattern.finditer(text):
            if self._unit_after.match(text, match.end()):
                continue
            value = match.group("zip") + (f"-{match.group('plus4')}" if match.group("plus4") else "")
            before = text[max(0, match.start() - 30) : match.start()]
            if self._keyword.search(before):
                confidence = 0.95
            elif match.group("plus4"):
                confidence = 0.9
            else:
                confidence = 0.6
            found.append(Entity(self.name, value, match.span(), match.group(0), confidence))
        return outside(found, blocked)


class CardDigitsExtractor:
    """The last 4 digits of a payment card, said with the card ("visa ending in 4242", "last
    four digits 4242"); a second fact for verification. Never part of an order id."""

    name: ClassVar[str] = "card_digits"

    def __init__(self, config: EntityConfig, *, yields_to: Sequence[EntityExtractor] = ()) -> None:
        self._pattern = config.compile(config.card_digits.pattern, "card_digits.pattern")
        self._yields_to = tuple(yields_to)

    def extract(self, text: str) -> list[Entity]:
        blocked = blocked_by(text, self._yields_to)
        found = [
            Entity(self.name, m.group("digits"), m.span("digits"), m.group("digits"), 0.9)
            for m in self._pattern.finditer(text)
        ]
        return outside(found, blocked)


class PriceExtractor:
    """Prices and price ranges: "under $80", "less than 80 dollars", "between 20 and 50",
    "$30-$60", "around 100", "max 80", "cheaper than 50", "$45", "80 or less".

    A bare number needs a comparator ("under 80") or a currency mark ("$45", "45 bucks"); a
    number followed by a unit that is not money ("under 3 days", "2 of them") is not a price.
    """

    name: ClassVar[str] = "price"

    def __init__(self, config: EntityConfig) -> None:
        money = config.money
        one = money.amount.replace("{n}", "1")
        two = money.amount.replace("{n}", "2")
        self._tolerance = Decimal(str(money.around_tolerance))
        self._unmarked_prefixes = tuple(p.lower() for p in money.range_unmarked_prefixes) or ("between",)
        self._range = config.compile(
            rf"(?:(?<!\w)(?P<prefix>{money.range_prefix})\s+)?{one}\s?(?P<sep>{money.range_separator})\s?{two}",
            "money.range_prefix/range_separator",
        )
        self._bounds: list[tuple[str, bool, bool, re.Pattern[str]]] = []
        for kind, comp in money.comparators.items():
            where = f"money.comparators.{kind}"
            for is_prefix, words in ((True, comp.prefix), (False, comp.suffix)):
                for weak in (False, True):
                    chosen = [w for w in words if (w in comp.weak) == weak]
                    if not chosen:
                        continue
                    alts = "|".join(chosen)
                    pattern = (
                        rf"(?<!\w)(?:{alts})\s*:?\s*{one}" if is_prefix else rf"{one}\s*(?:{alts})(?!\w)"
                    )
                    self._bounds.append((kind, weak, is_prefix, config.compile(pattern, where)))
        self._plain = config.compile(one, "money.amount")
        self._unit_after = config.compile(
            rf"\s*(?:{alternation(money.non_money_units)})(?!\w)", "money.non_money_units"
        )

    def extract(self, text: str) -> list[Entity]:
        candidates: list[Entity] = []
        for match in self._range.finditer(text):
            entity = self._from_range(text, match)
            if entity:
                candidates.append(entity)
        for kind, weak, is_prefix, pattern in self._bounds:
            for match in pattern.finditer(text):
                entity = self._from_bound(text, match, kind, weak=weak, is_prefix=is_prefix)
                if entity:
                    candidates.append(entity)
        for match in self._plain.finditer(text):
            amount = _amount(match, "1")
            if amount is not None and _marked(match, "1") and not self._unit_after.match(text, match.end()):
                value = PriceRange(target=amount)
                candidates.append(Entity(self.name, value, _trimmed_span(match), _trimmed(match), 0.9))
        return pick_longest(candidates)

    def _from_range(self, text: str, match: re.Match[str]) -> Entity | None:
        low, high = _amount(match, "1"), _amount(match, "2")
        if low is None or high is None or self._unit_after.match(text, match.end()):
            return None
        marked = _marked(match, "1") or _marked(match, "2")
        prefix = (match.group("prefix") or "").lower()
        if match.group("sep").lower() == "and" and not prefix.startswith("between"):
            return None
        if not marked and not prefix.startswith(self._unmarked_prefixes):
            return None
        low, high = min(low, high), max(low, high)
        value = PriceRange(min_price=low, max_price=high)
        return Entity(self.name, value, _trimmed_span(match), _trimmed(match), 0.95 if marked else 0.85)

    def _from_bound(
        self, text: str, match: re.Match[str], kind: str, *, weak: bool, is_prefix: bool
    ) -> Entity | None:
        amount = _amount(match, "1")
        if amount is None:
            return None
        marked = _marked(match, "1")
        if (weak and not marked) or (is_prefix and self._unit_after.match(text, match.end())):
            return None
        if kind == "max":
            value = PriceRange(max_price=amount)
        elif kind == "min":
            value = PriceRange(min_price=amount)
        else:
            low = (amount * (1 - self._tolerance)).quantize(CENT)
            high = (amount * (1 + self._tolerance)).quantize(CENT)
            value = PriceRange(min_price=low, max_price=high, target=amount, approximate=True)
        confidence = 0.95 if marked else (0.8 if kind == "around" else 0.85)
        return Entity(self.name, value, _trimmed_span(match), _trimmed(match), confidence)


def _amount(match: re.Match[str], n: str) -> Decimal | None:
    number = match.group(f"num{n}")
    if number is None:
        return None
    try:
        value = Decimal(number.replace(",", "") + (match.group(f"dec{n}") or ""))
    except InvalidOperation:
        return None
    if match.group(f"k{n}"):
        value *= 1000
    if value <= 0 or value > _MAX_PRICE:
        return None
    return value


def _marked(match: re.Match[str], n: str) -> bool:
    return bool(match.group(f"pre{n}") or match.group(f"post{n}"))


def _trimmed_span(match: re.Match[str]) -> tuple[int, int]:
    raw = match.group(0)
    start = match.start() + (len(raw) - len(raw.lstrip()))
    return start, match.end() - (len(raw) - len(raw.rstrip()))


def _trimmed(match: re.Match[str]) -> str:
    return match.group(0).strip()
