"""Entity values: what the extractors find in a message (prices, colors, sizes, names,
product references, identities) and :class:`Entities`, all of one message.

All are frozen dataclasses: extractors produce them, the turn pipeline reads them, nothing
mutates them. Prices are :class:`~decimal.Decimal` (never float), spans are ``(start, end)`` character
offsets into the guarded text, confidences are in ``[0, 1]``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Span = tuple[int, int]


@dataclass(frozen=True)
class PriceRange:
    """A price constraint. ``target`` is a price named without a bound ("$45", "around 100");
    for "around" the bounds are the target plus/minus the configured tolerance."""

    min_price: Decimal | None = None
    max_price: Decimal | None = None
    target: Decimal | None = None
    approximate: bool = False

    def contains(self, price: Decimal) -> bool:
        if self.min_price is not None and price < self.min_price:
            return False
        if self.max_price is not None and price > self.max_price:
            return False
        if self.min_price is None and self.max_price is None and self.target is not None:
            return price == self.target
        return True


@dataclass(frozen=True)
class ColorValue:
    """``name`` is the catalog's value (or a basic color word); ``family`` lists the catalog
    values that satisfy it ("blue" -> blue, navy, sky blue...)."""

    name: str
    family: tuple[str, ...] = ()

    def matches(self, option_value: str) -> bool:
        value = option_value.strip().lower()
        return value == self.name or value in self.family


_UNIT_VALUE = re.compile(r"^(\d+(?:\.\d+)?)\s*-?\s*([a-z\"]+)$")
_UNIT_ALIASES = {
    "ml": ("ml", Decimal(1)),
    "l": ("ml", Decimal(1000)),
    "cup": ("cup", Decimal(1)),
    "cups": ("cup", Decimal(1)),
    "person": ("person", Decimal(1)),
    "gb": ("gb", Decimal(1)),
    "mm": ("mm", Decimal(1)),
    "inch": ("inch", Decimal(1)),
    "in": ("inch", Decimal(1)),
    '"': ("inch", Decimal(1)),
}


def size_key(value: str) -> tuple[str, Decimal] | str:
    """A comparable key for a size or option value: "1L" and "1000ml" share ``("ml", 1000)``."""
    text = value.strip().lower()
    found = _UNIT_VALUE.match(text)
    if found and found.group(2) in _UNIT_ALIASES:
        unit, factor = _UNIT_ALIASES[found.group(2)]
        return unit, (Decimal(found.group(1)) * factor).normalize()
    try:
        return "number", Decimal(text).normalize()
    except ArithmeticError:
        return text.upper()


@dataclass(frozen=True)
class SizeValue:
    """``value`` is written the way the catalog writes option values ("M", "10.5", "750ml",
    "1L", "2-person", "8 inch"); ``axis`` is the kind of size; ``amount``/``unit`` hold the
    measure in a base unit (volumes in ml) when there is one."""

    value: str
    axis: str
    amount: Decimal | None = None
    unit: str | None = None

    def matches(self, option_value: str) -> bool:
        return size_key(self.value) == size_key(option_value)


@dataclass(frozen=True)
class PersonName:
    first: str
    last: str | None = None

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}" if self.last else self.first


class RefKind(enum.StrEnum):
    ORDINAL = "ordinal"  # "the second one", "the last one"
    RANGE = "range"  # "the first two", "the last 3"
    ALL = "all"  # "all of them", "both"
    DEMONSTRATIVE = "demonstrative"  # "that one", "this one"
    ATTRIBUTE = "attribute"  # "the blue one", "the 750ml one", "the Apex one"
    CHEAPEST = "cheapest"  # "the cheaper one", "the cheapest"
    PRICIEST = "priciest"  # "the more expensive one"


@dataclass(frozen=True)
class ProductRef:
    """A reference to products shown earlier; resolve with ``resolve_reference``.

    ORDINAL: ``index`` is 0-based, negative from the end. RANGE: ``count`` products from the
    start (``index`` 0) or the end (``index`` -1). ATTRIBUTE: ``color``, ``size`` and/or
    ``words`` (other words, matched against titles and option values)."""

    kind: RefKind
    index: int | None = None
    count: int | None = None
    color: ColorValue | None = None
    size: SizeValue | None = None
    words: tuple[str, ...] = ()


EntityValue = str | int | PriceRange | ColorValue | SizeValue | PersonName | ProductRef


@dataclass(frozen=True)
class Entity:
    """One extracted value. ``text`` is the matched surface text (``span`` into the input);
    ``synonym`` is the customer's word when it was mapped to a canonical one ("gray")."""

    kind: str
    value: EntityValue
    span: Span
    text: str
    confidence: float
    synonym: str | None = None

    def overlaps(self, other: Entity | Span) -> bool:
        start, end = other.span if isinstance(other, Entity) else other
        return self.span[0] < end and start < self.span[1]


@dataclass(frozen=True)
class LastProduct:
    """A product shown to the customer, as references are resolved against it."""

    product_id: str
    title: str
    min_price: Decimal
    max_price: Decimal
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    brand: str = ""

    @classmethod
    def from_summary(cls, summary: Any) -> LastProduct:
        """From a catalog tool result (``ProductSummary``/``ProductDetails``/search hit)."""
        values = getattr(summary, "option_values", None) or {}
        return cls(
            product_id=str(summary.product_id),
            title=str(summary.title),
            min_price=Decimal(str(summary.min_price)),
            max_price=Decimal(str(summary.max_price)),
            options={str(k): tuple(str(v) for v in vs) for k, vs in values.items()},
            brand=str(getattr(summary, "brand", "") or ""),
        )


@dataclass(frozen=True)
class AuthIdentity:
    """What a customer gave to identify themselves: who they say they are (an email, a full
    name) and what shows it (a zip code, the last 4 digits of a card on file)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    zip_code: str | None = None
    card_digits: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.email or self.last_name or self.zip_code or self.card_digits)

    def merged(self, later: AuthIdentity) -> AuthIdentity:
        """These facts with what ``later`` adds or says again (its values win)."""
        name = (later.first_name, later.last_name) if later.last_name else (self.first_name, self.last_name)
        return AuthIdentity(
            email=later.email or self.email,
            first_name=name[0],
            last_name=name[1],
            zip_code=later.zip_code or self.zip_code,
            card_digits=later.card_digits or self.card_digits,
        )


@dataclass(frozen=True)
class Entities:
    """Every entity found in one message, in text order, with typed accessors."""

    items: tuple[Entity, ...] = ()

    def of(self, kind: str) -> list[Entity]:
        return [e for e in self.items if e.kind == kind]

    def first(self, kind: str) -> Entity | None:
        found = self.of(kind)
        return found[0] if found else None

    @property
    def order_ids(self) -> list[str]:
        return [str(e.value) for e in self.of("order_id")]

    @property
    def emails(self) -> list[str]:
        return [str(e.value) for e in self.of("email")]

    @property
    def zip_codes(self) -> list[str]:
        return [str(e.value) for e in self.of("zip_code")]

    @property
    def prices(self) -> list[PriceRange]:
        return [e.value for e in self.of("price") if isinstance(e.value, PriceRange)]

    @property
    def quantities(self) -> list[int]:
        return [e.value for e in self.of("quantity") if isinstance(e.value, int)]

    @property
    def colors(self) -> list[ColorValue]:
        return [e.value for e in self.of("color") if isinstance(e.value, ColorValue)]

    @property
    def sizes(self) -> list[SizeValue]:
        return [e.value for e in self.of("size") if isinstance(e.value, SizeValue)]

    @property
    def product_refs(self) -> list[Entity]:
        return self.of("product_ref")

    @property
    def person_names(self) -> list[PersonName]:
        return [e.value for e in self.of("person_name") if isinstance(e.value, PersonName)]

    @property
    def card_digits(self) -> list[str]:
        return [str(e.value) for e in self.of("card_digits")]

    @property
    def identity_facts(self) -> AuthIdentity:
        """Every identity fact the message gives (maybe none): the first email, full name, zip
        code and card digits."""
        names = [n for n in self.person_names if n.last]
        return AuthIdentity(
            email=self.emails[0] if self.emails else None,
            first_name=names[0].first if names else None,
            last_name=names[0].last if names else None,
            zip_code=self._identity_zip(),
            card_digits=self.card_digits[0] if self.card_digits else None,
        )

    def _identity_zip(self) -> str | None:
        """The zip code given as one ("zip 10001") before one inside an address being typed."""
        zips = self.of("zip_code")
        return str(max(zips, key=lambda e: e.confidence).value) if zips else None

    @property
    def identity(self) -> AuthIdentity | None:
        """The message's identity facts when they name someone (an email, or a full name plus a
        zip code), else None."""
        facts = self.identity_facts
        if facts.email or (facts.last_name and facts.zip_code):
            return facts
        return None
