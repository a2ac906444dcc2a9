from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from core.facts import Amount, FactKind, Price, StockCount
from core.money import to_money
from tools.arguments import OrderId
from tools.base import ArgsModel, ToolResult


class Line(ToolResult):
    price: Price
    stock: StockCount


class Sample(ToolResult):
    total: Amount
    balance: Amount | None = None
    lines: list[Line]
    note: str = "not a fact"


def test_facts_walk_nested_models_lists_and_optionals():
    sample = Sample(total="10.005", balance=Decimal("3"), lines=[Line(price=1.5, stock=2)])
    facts = {(f.kind, f.path, f.value) for f in sample.facts()}
    assert facts == {
        (FactKind.AMOUNT, "total", Decimal("10.01")),
        (FactKind.AMOUNT, "balance", Decimal("3.00")),
        (FactKind.PRICE, "lines[0].price", Decimal("1.50")),
        (FactKind.STOCK, "lines[0].stock", 2),
    }
    assert Sample(total=1, lines=[]).facts()[0].path == "total"  # a None optional is not a fact


def test_money_rounds_half_up_and_serializes_as_number():
    assert to_money("2.675") == Decimal("2.68") and to_money(0.125) == Decimal("0.13")
    assert Sample(total="19.999", lines=[]).model_dump(mode="json")["total"] == 20.0


class OrderArgs(ArgsModel):
    order_id: OrderId


@pytest.mark.parametrize("raw", ["#W1234567", "W1234567", " w1234567 "])
def test_order_ids_are_normalized(raw):
    assert OrderArgs(order_id=raw).order_id == "#W1234567"


@pytest.mark.parametrize("raw", ["#W123", "12345678", "#W1234567; drop", ""])
def test_malformed_order_ids_are_rejected(raw):
    with pytest.raises(ValidationError):
        OrderArgs(order_id=raw)
