"""The records importers produce and :mod:`tools.importers.writer` upserts: one per aggregate.

A product record carries its variants, a customer record its address and payment methods, an
order record its items, fulfillments and payment transactions; each lands whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from store.models import OrderStatus, PaymentSource, TransactionKind


@dataclass(frozen=True)
class VariantRecord:
    id: str
    price: Decimal
    stock: int
    options: dict[str, Any] = field(default_factory=dict)
    sku: str | None = None


@dataclass(frozen=True)
class ProductRecord:
    id: str
    title: str
    category: str
    variants: tuple[VariantRecord, ...]
    description: str = ""
    brand: str = ""
    image_url: str | None = None
    tags: tuple[str, ...] = ()
    source: str = "manual"


@dataclass(frozen=True)
class AddressRecord:
    address1: str
    city: str
    state: str
    country: str
    zip: str
    address2: str = ""


@dataclass(frozen=True)
class PaymentRecord:
    id: str
    source: PaymentSource
    brand: str | None = None
    last_four: str | None = None
    balance: Decimal | None = None


@dataclass(frozen=True)
class CustomerRecord:
    id: str
    first_name: str
    last_name: str
    email: str
    address: AddressRecord | None = None
    payment_methods: tuple[PaymentRecord, ...] = ()


@dataclass(frozen=True)
class OrderRecord:
    id: str
    customer_id: str
    status: OrderStatus
    shipping_address: dict[str, str]
    # (product_id, variant_id, name, options, price, quantity)
    items: tuple[tuple[str, str, str, dict[str, Any], Decimal, int], ...]
    # (carrier, tracking ids, variant ids)
    fulfillments: tuple[tuple[str, list[str], list[str]], ...] = ()
    # (kind, amount, payment method id)
    transactions: tuple[tuple[TransactionKind, Decimal, str], ...] = ()
