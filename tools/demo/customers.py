"""Demo customers with tau-bench-style ids, unique emails, US addresses and payment methods."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from store.models import PaymentSource
from tools.demo.catalog import unique_number
from tools.demo.data import ShopData

SECOND_ADDRESS_RATE = 0.2
UNIT_RATE = 0.35
PAYMENT_METHOD_COUNT_WEIGHTS = (45, 35, 20)  # 1..3 methods
# Drawn without replacement: at most two cards, one PayPal account and one gift card.
PAYMENT_SOURCE_POOL = (
    PaymentSource.CREDIT_CARD,
    PaymentSource.CREDIT_CARD,
    PaymentSource.PAYPAL,
    PaymentSource.GIFT_CARD,
)
MAX_GIFT_CARD_BALANCE = 300


@dataclass
class DemoCustomer:
    id: str
    created_at: datetime
    addresses: list[dict[str, str]]
    payment_method_ids: list[str]


@dataclass
class CustomerRows:
    customers: list[DemoCustomer] = field(default_factory=list)
    customer_rows: list[dict[str, Any]] = field(default_factory=list)
    address_rows: list[dict[str, Any]] = field(default_factory=list)
    payment_method_rows: list[dict[str, Any]] = field(default_factory=list)


class CustomerGenerator:
    def __init__(self, rng: random.Random, data: ShopData, base: datetime) -> None:
        self._rng = rng
        self._data = data
        self._base = base
        self._ids: set[str] = set()
        self._emails: set[str] = set()
        self._method_numbers: set[int] = set()

    def chunks(self, count: int, chunk_size: int) -> Iterator[CustomerRows]:
        for start in range(0, count, chunk_size):
            rows = CustomerRows()
            for _ in range(min(chunk_size, count - start)):
                self._customer(rows)
            yield rows

    def _customer(self, rows: CustomerRows) -> None:
        rng = self._rng
        first = rng.choice(self._data.first_names)
        last = rng.choice(self._data.last_names)
        slug = f"{first}_{last}".lower().replace(" ", "")
        customer_id = self._unique(self._ids, lambda: f"{slug}_{rng.randint(1000, 9999)}")
        email = self._unique(
            self._emails,
            lambda: f"{first}.{last}{rng.randint(1000, 9999)}@example.com".lower().replace(" ", ""),
        )
        created_at = self._base - timedelta(days=rng.randint(400, 1500), seconds=rng.randrange(86400))
        rows.customer_rows.append(
            {
                "id": customer_id,
                "first_name": first,
                "last_name": last,
                "email": email,
                "created_at": created_at,
            }
        )
        addresses = [self._address()]
        if rng.random() < SECOND_ADDRESS_RATE:
            addresses.append(self._address())
        for position, address in enumerate(addresses):
            rows.address_rows.append({"customer_id": customer_id, **address, "is_default": position == 0})
        rows.customers.append(
            DemoCustomer(customer_id, created_at, addresses, self._payment_methods(customer_id, rows))
        )

    def _address(self) -> dict[str, str]:
        rng = self._rng
        data = self._data
        city, state, zip_prefix = rng.choice(data.cities)
        street = f"{rng.randint(1, 9999)} {rng.choice(data.street_names)} {rng.choice(data.street_suffixes)}"
        unit = (
            rng.choice(data.unit_formats).format(n=rng.randint(100, 999)) if rng.random() < UNIT_RATE else ""
        )
        return {
            "address1": street,
            "address2": unit,
            "city": city,
            "state": state,
            "country": "USA",
            "zip": f"{zip_prefix}{rng.randint(1, 99):02d}",
        }

    def _payment_methods(self, customer_id: str, rows: CustomerRows) -> list[str]:
        rng = self._rng
        count = rng.choices(
            range(1, len(PAYMENT_METHOD_COUNT_WEIGHTS) + 1), weights=PAYMENT_METHOD_COUNT_WEIGHTS
        )[0]
        ids = []
        for source in rng.sample(PAYMENT_SOURCE_POOL, count):
            method_id = f"{source.value}_{unique_number(rng, self._method_numbers, 7)}"
            row: dict[str, Any] = {
                "id": method_id,
                "customer_id": customer_id,
                "source": source,
                "brand": None,
                "last_four": None,
                "balance": None,
            }
            if source is PaymentSource.CREDIT_CARD:
                row["brand"] = rng.choice(self._data.card_brands)
                row["last_four"] = f"{rng.randrange(10000):04d}"
            elif source is PaymentSource.GIFT_CARD:
                row["balance"] = Decimal(rng.randint(0, MAX_GIFT_CARD_BALANCE)).quantize(Decimal("0.01"))
            rows.payment_method_rows.append(row)
            ids.append(method_id)
        return ids

    @staticmethod
    def _unique(seen: set[str], draw: Callable[[], str]) -> str:
        while True:
            value = draw()
            if value not in seen:
                seen.add(value)
                return value
