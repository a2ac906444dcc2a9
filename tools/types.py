"""Wire shapes shared by the tools: money, checkable facts, owned resource ids.

Result fields annotated with a :class:`Fact` marker are the facts a reply may state (prices,
stock, statuses, ids, names); :meth:`ToolResult.facts` collects them so the dialogue layer can
check generated text against them. Argument fields annotated with :class:`Owned` name a
resource that must belong to the authenticated customer; the policy layer enforces it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

CENT = Decimal("0.01")


def to_money(value: Decimal | float | int | str) -> Decimal:
    """Round to cents, half up, the way a till does."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class FactKind(enum.StrEnum):
    PRICE = "price"
    STOCK = "stock"
    STATUS = "status"
    ID = "id"
    NAME = "name"
    AMOUNT = "amount"


@dataclass(frozen=True)
class Fact:
    """Marks a result field as a checkable fact of the given kind."""

    kind: FactKind


@dataclass(frozen=True)
class FactValue:
    kind: FactKind
    value: Any
    path: str


@dataclass(frozen=True)
class Owned:
    """Marks an argument as the id of a resource that must belong to the authenticated customer."""

    resource: str


Money = Annotated[
    Decimal,
    BeforeValidator(lambda v: to_money(v) if isinstance(v, (int, float, str, Decimal)) else v),
    PlainSerializer(float, return_type=float, when_used="json"),
]
Price = Annotated[Money, Fact(FactKind.PRICE)]
Amount = Annotated[Money, Fact(FactKind.AMOUNT)]
StockCount = Annotated[int, Fact(FactKind.STOCK)]
Status = Annotated[str, Fact(FactKind.STATUS)]
Name = Annotated[str, Fact(FactKind.NAME)]
Id = Annotated[str, Fact(FactKind.ID)]

_ORDER_ID = re.compile(r"^#?W\d{7}$", re.IGNORECASE)


def _normalize_order_id(value: str) -> str:
    value = value.strip()
    if not _ORDER_ID.match(value):
        raise ValueError("an order id looks like #W1234567")
    return "#W" + value.lstrip("#")[1:]


OrderId = Annotated[str, AfterValidator(_normalize_order_id), Owned("order")]
PaymentMethodId = Annotated[str, Field(min_length=1, max_length=64), Owned("payment_method")]
ProductId = Annotated[str, Field(min_length=1, max_length=64)]
VariantId = Annotated[str, Field(min_length=1, max_length=64)]


def collect_option_values(option_sets: Iterable[Mapping[str, Any] | None]) -> dict[str, list[str]]:
    """Every option name and its values over a product's variants, in first-seen order."""
    found: dict[str, list[str]] = {}
    for options in option_sets:
        for key, value in (options or {}).items():
            values = found.setdefault(str(key), [])
            if str(value) not in values:
                values.append(str(value))
    return found


class ArgsModel(BaseModel):
    """Base of every tool's argument model: unknown arguments are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolResult(BaseModel):
    """Base of every tool's result."""

    model_config = ConfigDict(extra="forbid")

    def facts(self) -> list[FactValue]:
        """Every value in this result that is marked as a checkable fact."""
        found: list[FactValue] = []
        _collect(self, "", found)
        return found


def _collect(model: BaseModel, prefix: str, found: list[FactValue]) -> None:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        kinds = [m.kind for m in info.metadata if isinstance(m, Fact)] or _union_fact_kinds(info.annotation)
        if kinds and value is not None:
            found.append(FactValue(kinds[0], value, path))
        _collect_value(value, path, found)


def _union_fact_kinds(annotation: Any) -> list[FactKind]:
    """Fact markers inside an Optional/Union annotation such as ``Amount | None``."""
    if get_origin(annotation) not in (Union, UnionType):
        return []
    kinds: list[FactKind] = []
    for member in get_args(annotation):
        if get_origin(member) is Annotated:
            kinds.extend(m.kind for m in get_args(member)[1:] if isinstance(m, Fact))
    return kinds


def _collect_value(value: Any, path: str, found: list[FactValue]) -> None:
    if isinstance(value, BaseModel):
        _collect(value, path + ".", found)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _collect_value(item, f"{path}[{index}]", found)


class Address(ArgsModel):
    address1: str = Field(min_length=1, max_length=200, description="Street and number.")
    address2: str = Field(default="", max_length=200, description="Apartment, suite (optional).")
    city: str = Field(min_length=1, max_length=120)
    state: str = Field(min_length=1, max_length=60)
    country: str = Field(min_length=1, max_length=60)
    zip: str = Field(min_length=3, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")
