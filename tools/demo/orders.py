"""Demo order history: every status, payments and refunds, shipments, returns and exchanges.

Order contents are not uniform: a few fixed product pairs from complementary categories
("bundles", e.g. a running shoe and a sock) appear together in many orders, complementary
categories are often bought together, and a small set of popular products sells more, so
"frequently bought together" and best-seller features have a real signal to find.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.money import to_money
from store.models import OrderStatus, TransactionKind
from tools.demo.catalog import DemoProduct, DemoVariant, unique_number
from tools.demo.customers import DemoCustomer
from tools.demo.data import ShopData
from tools.demo.tastes import Tastes

STATUS_WEIGHTS = {
    OrderStatus.PENDING: 20,
    OrderStatus.PROCESSED: 15,
    OrderStatus.DELIVERED: 40,
    OrderStatus.CANCELLED: 10,
    OrderStatus.RETURNED: 8,
    OrderStatus.EXCHANGED: 7,
}
# How many days before the base date an order with this status was placed.
STATUS_AGE_DAYS = {
    OrderStatus.PENDING: (0, 4),
    OrderStatus.PROCESSED: (1, 10),
    OrderStatus.DELIVERED: (8, 365),
    OrderStatus.CANCELLED: (1, 365),
    OrderStatus.RETURNED: (20, 365),
    OrderStatus.EXCHANGED: (20, 365),
}
SHIPPED = frozenset(
    {OrderStatus.PROCESSED, OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.EXCHANGED}
)
OPEN = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSED})
LINE_COUNT_WEIGHTS = (45, 30, 15, 10)  # 1..4 lines
BUNDLE_RATE = 0.25
COMPLEMENT_RATE = 0.25
POPULAR_SHARE = 0.03
POPULAR_RATE = 0.3
DOUBLE_QUANTITY_RATE = 0.08
SPLIT_SHIPMENT_RATE = 0.15
SECOND_ADDRESS_USE_RATE = 0.25


@dataclass
class OrderChunk:
    order_rows: list[dict[str, Any]] = field(default_factory=list)
    item_rows: list[dict[str, Any]] = field(default_factory=list)
    fulfillment_rows: list[dict[str, Any]] = field(default_factory=list)
    transaction_rows: list[dict[str, Any]] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


class OrderGenerator:
    def __init__(
        self,
        rng: random.Random,
        data: ShopData,
        base: datetime,
        products: list[DemoProduct],
        customers: list[DemoCustomer],
        pairs: list[tuple[str, str]],
        tastes: Tastes | None = None,
    ) -> None:
        self._rng = rng
        self._data = data
        self._base = base
        self._products = products
        self._customers = customers
        self._tastes = tastes
        self._customer_weights = list(itertools.accumulate(rng.uniform(0.3, 3.0) for _ in customers))
        self._order_numbers: set[int] = set()
        self._tracking_numbers: set[int] = set()
        self._by_category: dict[str, list[DemoProduct]] = {}
        for product in products:
            self._by_category.setdefault(product.category, []).append(product)
        self._partners: dict[str, list[str]] = {}
        for left, right in pairs:
            if left in self._by_category and right in self._by_category:
                self._partners.setdefault(left, []).append(right)
                self._partners.setdefault(right, []).append(left)
        shuffled = rng.sample(products, len(products))
        self._popular = shuffled[: max(1, int(len(products) * POPULAR_SHARE))]
        self._exchangeable = [p for p in products if any(p.exchange_target(v) for v in p.variants)]
        self.bundles = self._bundles(pairs)

    def _bundles(self, pairs: list[tuple[str, str]]) -> list[tuple[DemoProduct, DemoProduct]]:
        """One in-stock product from each side of every complementary pair of categories."""
        bundles = []
        for left, right in pairs:
            sides = [[p for p in self._by_category.get(name, []) if p.in_stock] for name in (left, right)]
            if all(sides):
                bundles.append((self._rng.choice(sides[0]), self._rng.choice(sides[1])))
        return bundles

    def statuses(self, count: int) -> list[OrderStatus]:
        """A realistic mix that has every status (when there are enough orders)."""
        kinds = [s for s in STATUS_WEIGHTS if s is not OrderStatus.EXCHANGED or self._exchangeable]
        weights = [STATUS_WEIGHTS[s] for s in kinds]
        statuses = kinds[:count] + self._rng.choices(kinds, weights=weights, k=max(0, count - len(kinds)))
        self._rng.shuffle(statuses)
        return statuses

    def chunks(self, count: int, chunk_size: int) -> Iterator[OrderChunk]:
        statuses = self.statuses(count)
        for start in range(0, count, chunk_size):
            chunk = OrderChunk()
            for status in statuses[start : start + chunk_size]:
                self._order(status, chunk)
            yield chunk

    # One order ----------------------------------------------------------------------------
    def _order(self, status: OrderStatus, chunk: OrderChunk) -> None:
        rng = self._rng
        customer = rng.choices(self._customers, cum_weights=self._customer_weights)[0]
        low, high = STATUS_AGE_DAYS[status]
        created = self._base - timedelta(days=rng.randint(low, high), seconds=rng.randrange(86400))
        updated = (
            created
            if status is OrderStatus.PENDING
            else min(self._base, created + timedelta(days=rng.randint(1, 14)))
        )
        order_id = f"#W{unique_number(rng, self._order_numbers, 7)}"
        address = customer.addresses[0]
        if len(customer.addresses) > 1 and rng.random() < SECOND_ADDRESS_USE_RATE:
            address = customer.addresses[1]
        chunk.order_rows.append(
            {
                "id": order_id,
                "customer_id": customer.id,
                "status": status,
                "shipping_address": dict(address),
                "cancel_reason": rng.choice(self._data.cancel_reasons)
                if status is OrderStatus.CANCELLED
                else None,
                "created_at": created,
                "updated_at": updated,
            }
        )
        chunk.statuses[status.value] += 1
        picks = self._picks(status, created, customer.id)
        lines: list[dict[str, Any]] = []
        for product, variant in picks:
            lines.append(
                {
                    "order_id": order_id,
                    "product_id": product.id,
                    "variant_id": variant.id,
                    "name": product.title,
                    "options": dict(variant.options),
                    "price": variant.price,
                    "quantity": 2 if rng.random() < DOUBLE_QUANTITY_RATE else 1,
                    "disposition": None,
                }
            )
        method = rng.choice(customer.payment_method_ids)
        total = _total(lines)
        self._transaction(chunk, order_id, TransactionKind.PAYMENT, total, method, created)
        if status is OrderStatus.CANCELLED:
            self._transaction(chunk, order_id, TransactionKind.REFUND, total, method, updated)
        elif status is OrderStatus.RETURNED:
            returned = [lines[i] for i in sorted(rng.sample(range(len(lines)), rng.randint(1, len(lines))))]
            for line in returned:
                line["disposition"] = "returned"
            self._transaction(chunk, order_id, TransactionKind.REFUND, _total(returned), method, updated)
        elif status is OrderStatus.EXCHANGED:
            for position, (product, variant) in enumerate(picks):
                target = product.exchange_target(variant)
                # The first line is always exchangeable (see _picks); others sometimes join it.
                if target is not None and (position == 0 or rng.random() < 0.3):
                    lines[position]["disposition"] = f"exchanged:{target.id}"
        chunk.item_rows.extend(lines)
        if status in SHIPPED:
            self._fulfillments(chunk, order_id, [variant.id for _, variant in picks])

    def _picks(
        self, status: OrderStatus, created: datetime, customer_id: str
    ) -> list[tuple[DemoProduct, DemoVariant]]:
        rng = self._rng
        tastes = self._tastes
        picks: list[tuple[DemoProduct, DemoVariant]] = []
        wanted = rng.choices(range(1, len(LINE_COUNT_WEIGHTS) + 1), weights=LINE_COUNT_WEIGHTS)[0]

        def add(product: DemoProduct, variants: tuple[DemoVariant, ...] | None = None) -> None:
            pool = variants or (product.in_stock if status in OPEN and product.in_stock else product.variants)
            variant = rng.choice(pool) if tastes is None else tastes.variant(customer_id, product, pool)
            if all(variant.id != v.id for _, v in picks):
                picks.append((product, variant))

        if status is OrderStatus.EXCHANGED:
            product = self._random_product(created, self._exchangeable)
            add(product, tuple(v for v in product.variants if product.exchange_target(v)))
        if self.bundles and rng.random() < BUNDLE_RATE:
            bundle = rng.choice(self.bundles)
            if all(p.created_at <= created for p in bundle):
                for product in bundle:
                    add(product)
                wanted = max(wanted, len(picks))
        attempts = 0
        while len(picks) < wanted and attempts < 6 * wanted:
            attempts += 1
            liked = tastes.pick(customer_id, created) if tastes is not None else None
            product = liked or self._random_product(created, self._products, self._popular)
            add(product)
            partners = self._partners.get(product.category)
            if partners and len(picks) < wanted and rng.random() < COMPLEMENT_RATE:
                add(self._random_product(created, self._by_category[rng.choice(partners)]))
        if tastes is not None:
            tastes.bought(customer_id, [product for product, _ in picks])
        return picks

    def _random_product(
        self, created: datetime, products: list[DemoProduct], popular: list[DemoProduct] | None = None
    ) -> DemoProduct:
        """A product that already existed when the order was placed (when one can be found)."""
        rng = self._rng
        product = products[0]
        for _attempt in range(8):
            source = popular if popular and rng.random() < POPULAR_RATE else products
            product = rng.choice(source)
            if product.created_at <= created:
                break
        return product

    def _fulfillments(self, chunk: OrderChunk, order_id: str, variant_ids: list[str]) -> None:
        rng = self._rng
        groups = [variant_ids]
        if len(variant_ids) > 1 and rng.random() < SPLIT_SHIPMENT_RATE:
            cut = rng.randint(1, len(variant_ids) - 1)
            groups = [variant_ids[:cut], variant_ids[cut:]]
        for group in groups:
            chunk.fulfillment_rows.append(
                {
                    "order_id": order_id,
                    "carrier": rng.choice(self._data.carriers),
                    "tracking_ids": [str(unique_number(rng, self._tracking_numbers, 12))],
                    "variant_ids": group,
                }
            )

    @staticmethod
    def _transaction(
        chunk: OrderChunk, order_id: str, kind: TransactionKind, amount: Decimal, method: str, at: datetime
    ) -> None:
        chunk.transaction_rows.append(
            {
                "order_id": order_id,
                "kind": kind,
                "amount": amount,
                "payment_method_id": method,
                "created_at": at,
            }
        )


def _total(lines: list[dict[str, Any]]) -> Decimal:
    return to_money(sum((line["price"] * line["quantity"] for line in lines), Decimal("0")))


def promotion_rows(data: ShopData, base: datetime) -> list[dict[str, Any]]:
    def at(days: int | None) -> datetime | None:
        return None if days is None else base + timedelta(days=days)

    return [
        {
            "code": spec.code,
            "description": spec.description,
            "percent_off": spec.percent_off,
            "amount_off": spec.amount_off,
            "min_subtotal": spec.min_subtotal,
            "category": spec.category,
            "starts_at": at(spec.starts_days),
            "ends_at": at(spec.ends_days),
            "active": spec.active,
        }
        for spec in data.promotions
    ]
