"""Generate a deterministic demo shop: catalog, customers, order history and promotions.

The same seed and sizes always give the same shop: every random choice comes from
:class:`random.Random` instances seeded from ``seed`` (one per stage, so the catalog does not
change when only the number of orders does), and every date is counted back from
:data:`BASE_DATE`, never from the clock. Rows are written with bulk inserts in chunks, all in
one transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from core.errors import ActionRefusedError, InvalidArgumentsError
from store.db import Database
from store.models import (
    Address,
    Base,
    Cart,
    CartItem,
    Customer,
    Fulfillment,
    IdempotencyRecord,
    Order,
    OrderItem,
    PaymentMethod,
    PaymentTransaction,
    Product,
    Promotion,
    Variant,
)
from tools.demo.catalog import CatalogGenerator, DemoProduct
from tools.demo.customers import CustomerGenerator, DemoCustomer
from tools.demo.data import catalog_data, shop_data
from tools.demo.orders import OrderGenerator, promotion_rows
from tools.demo.tastes import Tastes

BASE_DATE = datetime(2026, 10, 1, tzinfo=UTC)
DEFAULT_CHUNK_SIZE = 2000
MAX_SIZE = 1_000_000

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` after every chunk. Stages, in order:
``clearing`` (tables emptied, only with ``replace``), ``products``, ``customers``, ``orders``,
``promotions``."""

# Children before parents, so deleting respects the foreign keys.
SHOP_TABLES: tuple[type[Base], ...] = (
    CartItem,
    Cart,
    IdempotencyRecord,
    OrderItem,
    Fulfillment,
    PaymentTransaction,
    Order,
    Address,
    PaymentMethod,
    Customer,
    Variant,
    Product,
    Promotion,
)
# Tables whose rows mean "this store already holds a shop".
_OCCUPIED_BY: tuple[type[Base], ...] = (Product, Customer, Order, Promotion)


@dataclass(frozen=True)
class DemoReport:
    """What was generated: rows written per table, plus the seed and the status mix."""

    seed: int
    replaced: bool
    categories: int
    products: int
    variants: int
    customers: int
    addresses: int
    payment_methods: int
    orders: int
    order_items: int
    fulfillments: int
    payment_transactions: int
    promotions: int
    orders_by_status: dict[str, int] = field(default_factory=dict)


def generate_demo_shop(
    database: Database,
    *,
    products: int = 2000,
    customers: int = 200,
    orders: int = 1000,
    seed: int = 7,
    replace: bool = False,
    progress: ProgressCallback | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> DemoReport:
    """Fill ``database`` (already migrated) with a demo shop and report what was written.

    Refuses with :class:`ActionRefusedError` when the store already has products, customers,
    orders or promotions, unless ``replace`` is true: then the shop's rows (carts and
    idempotency records included) are deleted first, in the same transaction. ``chunk_size``
    only changes how rows are batched, never which rows are generated.
    """
    _check_sizes(products=products, customers=customers, orders=orders, chunk_size=chunk_size)
    notify: ProgressCallback = progress or _ignore_progress
    written: Counter[str] = Counter()
    with database.transaction() as session:
        existing = _existing_rows(session)
        if existing and not replace:
            held = ", ".join(f"{count} {table}" for table, count in existing.items())
            raise ActionRefusedError(
                f"The store already holds a shop ({held}); generate the demo shop with replace "
                "to delete it first.",
                existing=existing,
            )
        if replace:
            _clear(session, notify)
        writer = _Writer(session, seed, chunk_size, notify, written)
        catalog = writer.catalog(products)
        shoppers = writer.customers(customers)
        statuses = writer.orders(orders, catalog, shoppers)
        writer.promotions()

    return DemoReport(
        seed=seed,
        replaced=bool(existing),
        categories=len({product.category for product in catalog}),
        products=written[Product.__tablename__],
        variants=written[Variant.__tablename__],
        customers=written[Customer.__tablename__],
        addresses=written[Address.__tablename__],
        payment_methods=written[PaymentMethod.__tablename__],
        orders=written[Order.__tablename__],
        order_items=written[OrderItem.__tablename__],
        fulfillments=written[Fulfillment.__tablename__],
        payment_transactions=written[PaymentTransaction.__tablename__],
        promotions=written[Promotion.__tablename__],
        orders_by_status=dict(sorted(statuses.items())),
    )


class _Writer:
    """Generates each part of the shop and bulk-inserts it chunk by chunk, counting rows."""

    def __init__(
        self, session: Session, seed: int, chunk_size: int, notify: ProgressCallback, written: Counter[str]
    ) -> None:
        self._session = session
        self._seed = seed
        self._chunk_size = chunk_size
        self._notify = notify
        self._written = written

    def catalog(self, count: int) -> list[DemoProduct]:
        generator = CatalogGenerator(_rng(self._seed, "catalog"), catalog_data(), BASE_DATE)
        products: list[DemoProduct] = []
        for chunk in generator.chunks(count, self._chunk_size):
            self._insert(Product, chunk.product_rows)
            self._insert(Variant, chunk.variant_rows)
            products.extend(chunk.products)
            self._notify("products", len(products), count)
        return products

    def customers(self, count: int) -> list[DemoCustomer]:
        generator = CustomerGenerator(_rng(self._seed, "customers"), shop_data(), BASE_DATE)
        customers: list[DemoCustomer] = []
        for chunk in generator.chunks(count, self._chunk_size):
            self._insert(Customer, chunk.customer_rows)
            self._insert(Address, chunk.address_rows)
            self._insert(PaymentMethod, chunk.payment_method_rows)
            customers.extend(chunk.customers)
            self._notify("customers", len(customers), count)
        return customers

    def orders(self, count: int, products: list[DemoProduct], customers: list[DemoCustomer]) -> Counter[str]:
        statuses: Counter[str] = Counter()
        if not count:
            return statuses
        rng = _rng(self._seed, "orders")
        # Customers' tastes have their own random stream: the order mix draws stay as they were.
        tastes = Tastes(_rng(self._seed, "tastes"), products)
        generator = OrderGenerator(
            rng, shop_data(), BASE_DATE, products, customers, catalog_data().pairs, tastes
        )
        for chunk in generator.chunks(count, self._chunk_size):
            self._insert(Order, chunk.order_rows)
            self._insert(OrderItem, chunk.item_rows)
            self._insert(Fulfillment, chunk.fulfillment_rows)
            self._insert(PaymentTransaction, chunk.transaction_rows)
            statuses.update(chunk.statuses)
            self._notify("orders", statuses.total(), count)
        return statuses

    def promotions(self) -> None:
        rows = promotion_rows(shop_data(), BASE_DATE)
        self._insert(Promotion, rows)
        self._notify("promotions", len(rows), len(rows))

    def _insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        if rows:
            # A Core insert of the mapped table: one executemany, without the ORM's per-row work.
            self._session.execute(insert(model.metadata.tables[model.__tablename__]), rows)
            self._written[model.__tablename__] += len(rows)


def _rng(seed: int, stage: str) -> random.Random:
    # A string seed is hashed deterministically (SHA-512), unlike hash() of a str.
    return random.Random(f"shopassist-demo:{seed}:{stage}")


def _ignore_progress(stage: str, done: int, total: int) -> None:
    return None


def _check_sizes(*, products: int, customers: int, orders: int, chunk_size: int) -> None:
    errors = [
        {"argument": name, "problem": f"must be between 0 and {MAX_SIZE:,}, got {value}"}
        for name, value in (("products", products), ("customers", customers), ("orders", orders))
        if not 0 <= value <= MAX_SIZE
    ]
    if orders > 0:
        errors.extend(
            {"argument": name, "problem": f"must be at least 1 to generate orders, got {value}"}
            for name, value in (("products", products), ("customers", customers))
            if value == 0
        )
    if chunk_size < 1:
        errors.append({"argument": "chunk_size", "problem": f"must be at least 1, got {chunk_size}"})
    if errors:
        detail = "; ".join(f"{e['argument']}: {e['problem']}" for e in errors)
        raise InvalidArgumentsError(f"Invalid demo shop sizes: {detail}", errors=errors)


def _existing_rows(session: Session) -> dict[str, int]:
    counts = {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in _OCCUPIED_BY
    }
    return {table: count for table, count in counts.items() if count}


def _clear(session: Session, notify: ProgressCallback) -> None:
    for done, model in enumerate(SHOP_TABLES, start=1):
        session.execute(delete(model))
        notify("clearing", done, len(SHOP_TABLES))
