"""Money: amounts rounded to cents the way a till does, and the pydantic type that carries them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")
"""No price, total or filter bound reaches a billion; larger numbers are input errors."""


def to_money(value: Decimal | float | int | str) -> Decimal:
    """Round to cents, half up, the way a till does. ``ValueError`` for what is not an amount
    (NaN, infinity, text) or is past :data:`MAX_AMOUNT` either way (which also cannot be
    rounded to cents within Decimal's precision)."""
    try:
        amount = Decimal(str(value))
        if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
            raise ValueError(f"not an amount of money up to {MAX_AMOUNT}: {str(value)[:40]}")
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount of money: {str(value)[:40]}") from exc


Money = Annotated[
    Decimal,
    BeforeValidator(lambda v: to_money(v) if isinstance(v, (int, float, str, Decimal)) else v),
    PlainSerializer(float, return_type=float, when_used="json"),
]
