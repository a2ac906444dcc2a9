"""Checkable facts: the values a reply may state (prices, stock, statuses, ids, names, amounts).

A result field annotated with a :class:`Fact` marker (``Price``, ``StockCount``...) is a fact;
:func:`facts_of` collects every one in a model, nested models and lists included, so the dialogue
layer can check generated text against them. Tools and search results both mark their fields.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from core.money import Money


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


Price = Annotated[Money, Fact(FactKind.PRICE)]
Amount = Annotated[Money, Fact(FactKind.AMOUNT)]
StockCount = Annotated[int, Fact(FactKind.STOCK)]
Status = Annotated[str, Fact(FactKind.STATUS)]
Name = Annotated[str, Fact(FactKind.NAME)]
Id = Annotated[str, Fact(FactKind.ID)]


def facts_of(model: BaseModel) -> list[FactValue]:
    """Every value in ``model`` (nested models and lists included) marked as a checkable fact."""
    found: list[FactValue] = []
    _collect(model, "", found)
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
