"""Money: rounding to cents, and what is refused as not an amount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from core.money import MAX_AMOUNT, Money, to_money


class Priced(BaseModel):
    price: Money


def test_amounts_round_half_up_to_cents() -> None:
    assert to_money("2.345") == Decimal("2.35")
    assert to_money(0.1 + 0.2) == Decimal("0.30")
    assert to_money(-1.005) == Decimal("-1.01")
    assert to_money(MAX_AMOUNT) == MAX_AMOUNT


@pytest.mark.parametrize(
    "value", ["3.8444048332929844e+307", "NaN", "Infinity", "-inf", "twelve", MAX_AMOUNT + 1, float("nan")]
)
def test_what_is_not_an_amount_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="not an amount of money"):
        to_money(value)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Priced(price=value)  # type: ignore[arg-type]
