"""Argument vocabulary shared by the tools: owned resource ids and addresses.

Argument fields annotated with :class:`Owned` name a resource that must belong to the
authenticated customer; the policy layer (:mod:`tools.policy`) enforces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

from tools.base import ArgsModel


@dataclass(frozen=True)
class Owned:
    """Marks an argument as the id of a resource that must belong to the authenticated customer."""

    resource: str


ORDER_ID_DIGITS = 7
"""Order ids are ``#W`` and this many digits (tau-bench's format, used by every importer)."""
_ORDER_ID = re.compile(rf"^#?W\d{{{ORDER_ID_DIGITS}}}$", re.IGNORECASE)


def _normalize_order_id(value: str) -> str:
    value = value.strip()
    if not _ORDER_ID.match(value):
        raise ValueError("an order id looks like #W1234567")
    return "#W" + value.lstrip("#")[1:]


OrderId = Annotated[str, AfterValidator(_normalize_order_id), Owned("order")]
PaymentMethodId = Annotated[str, Field(min_length=1, max_length=64), Owned("payment_method")]
ProductId = Annotated[str, Field(min_length=1, max_length=64)]
VariantId = Annotated[str, Field(min_length=1, max_length=64)]


class Address(ArgsModel):
    address1: str = Field(min_length=1, max_length=200, description="Street and number.")
    address2: str = Field(default="", max_length=200, description="Apartment, suite (optional).")
    city: str = Field(min_length=1, max_length=120)
    state: str = Field(min_length=1, max_length=60)
    country: str = Field(min_length=1, max_length=60)
    zip: str = Field(min_length=3, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")
