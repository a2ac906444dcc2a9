"""Money: amounts rounded to cents the way a till does, and the pydantic type that carries them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")


def to_money(value: Decimal | float | int | str) -> Decimal:
    """Round to cents, half up, the way a till does."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


Money = Annotated[
    Decimal,
    BeforeValidator(lambda v: to_money(v) if isinstance(v, (int, float, str, Decimal)) else v),
    PlainSerializer(float, return_type=float, when_used="json"),
]
