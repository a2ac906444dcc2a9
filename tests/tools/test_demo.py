"""The demo shop generator: sizes, realism invariants, determinism, refusal and replace."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Executable, func, select
from sqlalchemy.orm import Session, selectinload

from core.errors import ActionRefusedError, InvalidArgumentsError
from store.db import Database
from store.models import (
    Address,
    Cart,
    CartItem,
    Customer,
    Fulfillment,
    IdempotencyRecord,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PaymentSource,
    PaymentTransaction,
    Product,
    Promotion,
    TransactionKind,
    Variant,
)
from tests.shop_fixture import ALICE
from tools.demo import DemoReport, generate_demo_shop

BASE = datetime(2026, 10, 1, tzinfo=UTC)


def _fresh(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    database.migrate()
    return database


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, DemoReport]]:
    """One default-size demo shop (seed 7), shared by the read-only tests."""
    database = _fresh(tmp_path_factory.mktemp("demo") / "shop.db")
    report = generate_demo_shop(database)
    yield database, report
    database.dispose()


@pytest.fixture
def session(shop: tuple[Database, DemoReport]) -> Iterator[Session]:
    with shop[0].session() as opened:
        yield opened


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _digest(database: Database) -> str:
    """Everything that makes the shop this shop, as one hash."""
    queries: list[Executable] = [
        select(Product.id, Product.title, Product.description).order_by(Product.id),
        select(Variant.id, Variant.sku, Variant.price, Variant.stock).order_by(Variant.id),
        select(Customer.id, Customer.email).order_by(Customer.id),
        select(Order.id, Order.status, Order.customer_id, Order.created_at).order_by(Order.id),
        select(OrderItem.order_id, OrderItem.variant_id, OrderItem.price).order_by(OrderItem.id),
    ]
    hasher = hashlib.sha256()
    with database.session() as s:
        for query in queries:
            hasher.update(repr([tuple(row) for row in s.execute(query)]).encode())
    return hasher.hexdigest()


def _small(database: Database, **options: Any) -> DemoReport:
    return generate_demo_shop(database, products=300, customers=40, orders=150, **options)


# Sizes and coverage --------------------------------------------------------------------------
def test_default_sizes_fill_every_table(shop, session):
    _, report = shop
    assert (report.products, report.customers, report.orders) == (2000, 200, 1000)
    assert _count(session, Product) == 2000
    assert _count(session, Customer) == 200
    assert _count(session, Order) == 1000
    assert _count(session, Variant) == report.variants >= 2000
    assert _count(session, OrderItem) == report.order_items >= 1000
    assert _count(session, PaymentTransaction) == report.payment_transactions
    assert _count(session, Promotion) == report.promotions >= 4
    categories = session.scalars(select(Product.category).distinct()).all()
    assert len(categories) == report.categories >= 15
    assert {"Running Shoes", "Running Socks", "Water Bottles", "Headphones", "Tents"} <= set(categories)
    assert set(session.scalars(select(Product.source).distinct())) == {"demo"}


def test_every_status_is_present_in_a_realistic_mix(shop, session):
    statuses = Counter(session.scalars(select(Order.status)))
    assert set(statuses) == set(OrderStatus)
    assert statuses == Counter({OrderStatus(k): v for k, v in shop[1].orders_by_status.items()})
    assert statuses[OrderStatus.DELIVERED] == max(statuses.values())
    assert all(count >= 30 for count in statuses.values())


def _products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).options(selectinload(Product.variants))))


def test_products_look_like_a_real_catalog(session):
    products = _products(session)
    titles = [p.title for p in products]
    assert len(set(titles)) == len(titles)
    for product in products:
        assert product.brand and product.brand in product.title
        sentences = [s for s in re.split(r"(?<=\.)\s+", product.description) if s]
        assert 2 <= len(sentences) <= 4, product.description
        assert "{" not in product.description and "{" not in product.title
        assert 1 <= len(product.variants) <= 8
        assert re.fullmatch(r"\d{10}", product.id)
        assert product.created_at.replace(tzinfo=UTC) < BASE


def test_variants_have_ids_skus_options_prices_and_stock(session):
    variants = session.scalars(select(Variant)).all()
    assert all(re.fullmatch(r"\d{10}", v.id) for v in variants)
    skus = [v.sku for v in variants]
    assert None not in skus and len(set(skus)) == len(skus)
    ids = [v.id for v in variants] + list(session.scalars(select(Product.id)))
    assert len(set(ids)) == len(ids)  # product and variant ids never collide
    assert {str(v.price)[-3:] for v in variants} <= {".99", ".49", ".00", ".95"}
    assert all(Decimal("1") <= v.price < Decimal("1000") for v in variants)
    assert all(0 <= v.stock <= 60 for v in variants)
    shoes = session.scalars(select(Product).where(Product.category == "Running Shoes")).all()
    assert all(set(v.options) == {"color", "size"} for p in shoes for v in p.variants)
    bottles = session.scalars(select(Product).where(Product.category == "Water Bottles")).all()
    assert all(set(v.options) == {"capacity", "color"} for p in bottles for v in p.variants)
    for product in shoes:
        options = [tuple(v.options.items()) for v in product.variants]
        assert len(set(options)) == len(options)


def test_some_variants_and_a_few_products_are_out_of_stock(session):
    variants = session.scalars(select(Variant)).all()
    sold_out = sum(1 for v in variants if v.stock == 0)
    assert 0.04 <= sold_out / len(variants) <= 0.13
    products = _products(session)
    fully_sold_out = [p for p in products if all(v.stock == 0 for v in p.variants)]
    assert 5 <= len(fully_sold_out) <= 0.06 * len(products)


# Customers -----------------------------------------------------------------------------------
def test_customers_have_unique_emails_addresses_and_payment_methods(session):
    query = select(Customer).options(selectinload(Customer.addresses), selectinload(Customer.payment_methods))
    customers = session.scalars(query).all()
    emails = [c.email for c in customers]
    assert len(set(emails)) == len(emails) == 200
    for customer in customers:
        first, last = customer.first_name.lower(), customer.last_name.lower()
        assert re.fullmatch(rf"{first}_{last}_\d{{4}}", customer.id)
        assert re.fullmatch(rf"{first}\.{last}\d{{4}}@example\.com", customer.email)
        assert customer.addresses[0].is_default
        assert sum(a.is_default for a in customer.addresses) == 1 and len(customer.addresses) <= 2
        assert all(re.fullmatch(r"\d{5}", a.zip) and len(a.state) == 2 for a in customer.addresses)
        assert 1 <= len(customer.payment_methods) <= 3
    assert any(len(c.addresses) == 2 for c in customers)
    methods = session.scalars(select(PaymentMethod)).all()
    assert {m.source for m in methods} == set(PaymentSource)
    for method in methods:
        assert re.fullmatch(rf"{method.source.value}_\d{{7}}", method.id)
        if method.source is PaymentSource.CREDIT_CARD:
            assert method.brand and re.fullmatch(r"\d{4}", method.last_four or "")
        if method.source is PaymentSource.GIFT_CARD:
            assert method.balance is not None and method.balance >= 0


# Orders --------------------------------------------------------------------------------------
def _orders(session: Session) -> list[Order]:
    query = select(Order).options(
        selectinload(Order.items),
        selectinload(Order.transactions),
        selectinload(Order.fulfillments),
        selectinload(Order.customer).selectinload(Customer.addresses),
        selectinload(Order.customer).selectinload(Customer.payment_methods),
    )
    return list(session.scalars(query))


def test_every_order_is_paid_its_item_total_and_refunds_match(session):
    for order in _orders(session):
        assert re.fullmatch(r"#W\d{7}", order.id)
        assert 1 <= len(order.items) <= 4
        payments = [t for t in order.transactions if t.kind is TransactionKind.PAYMENT]
        refunds = [t for t in order.transactions if t.kind is TransactionKind.REFUND]
        assert len(payments) == 1 and payments[0].amount == order.total
        methods = {m.id for m in order.customer.payment_methods}
        assert {t.payment_method_id for t in order.transactions} <= methods
        returned = [i for i in order.items if i.disposition == "returned"]
        if order.status is OrderStatus.CANCELLED:
            assert [r.amount for r in refunds] == [order.total] and order.cancel_reason
        elif order.status is OrderStatus.RETURNED:
            assert returned and [r.amount for r in refunds] == [sum(i.price * i.quantity for i in returned)]
        else:
            assert refunds == [] and returned == []
        assert order.shipping_address in [a.as_dict() for a in order.customer.addresses]
        assert order.created_at.replace(tzinfo=UTC) <= BASE


def test_order_items_copy_existing_variants_of_their_product(session):
    variants = {v.id: v for v in session.scalars(select(Variant))}
    titles = {product_id: title for product_id, title in session.execute(select(Product.id, Product.title))}
    for item in session.scalars(select(OrderItem)).all():
        variant = variants[item.variant_id]
        assert variant.product_id == item.product_id
        assert (item.price, item.options, item.name) == (
            variant.price,
            variant.options,
            titles[item.product_id],
        )
        if item.disposition and item.disposition.startswith("exchanged:"):
            new = variants[item.disposition.removeprefix("exchanged:")]
            assert new.product_id == item.product_id and new.id != item.variant_id and new.price == item.price
    exchanged = session.scalars(select(Order).where(Order.status == OrderStatus.EXCHANGED)).all()
    assert all(any((i.disposition or "").startswith("exchanged:") for i in o.items) for o in exchanged)


def test_shipped_orders_have_fulfillments_with_tracking(session):
    shipped = {OrderStatus.PROCESSED, OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.EXCHANGED}
    tracking: list[str] = []
    for order in _orders(session):
        if order.status in shipped:
            assert 1 <= len(order.fulfillments) <= 2
            covered = [vid for f in order.fulfillments for vid in f.variant_ids]
            assert sorted(covered) == sorted(i.variant_id for i in order.items)
            tracking += [t for f in order.fulfillments for t in f.tracking_ids]
        else:
            assert order.fulfillments == []
    assert all(re.fullmatch(r"\d{12}", t) for t in tracking) and len(set(tracking)) == len(tracking)
    assert set(session.scalars(select(Fulfillment.carrier).distinct())) <= {"UPS", "FedEx", "USPS", "DHL"}


def test_some_product_pairs_are_bought_together_often(session):
    baskets: defaultdict[str, set[str]] = defaultdict(set)
    for order_id, product_id in session.execute(select(OrderItem.order_id, OrderItem.product_id)):
        baskets[order_id].add(product_id)
    pairs = Counter(pair for basket in baskets.values() for pair in itertools.combinations(sorted(basket), 2))
    counts = [count for _, count in pairs.most_common(5)]
    assert counts[0] >= 20 and counts[3] >= 10
    assert sum(1 for count in pairs.values() if count == 1) > 100  # and the rest is noise
    top = pairs.most_common(1)[0][0]
    categories = {session.get(Product, product_id).category for product_id in top}
    assert len(categories) == 2  # a complementary pair, not two of a kind


def test_promotions_cover_each_kind(session):
    promotions = {p.code: p for p in session.scalars(select(Promotion))}
    assert len(promotions) >= 4
    assert any(p.percent_off and p.category is None and p.active for p in promotions.values())
    assert any(p.amount_off and p.active for p in promotions.values())
    assert any(p.category == "Running Shoes" for p in promotions.values())
    assert any(p.min_subtotal > 0 for p in promotions.values())
    assert any(p.ends_at is not None and p.ends_at.replace(tzinfo=UTC) < BASE for p in promotions.values())


# Determinism ---------------------------------------------------------------------------------
def test_same_seed_gives_the_same_shop_and_another_seed_differs(tmp_path):
    first, second, other = (_fresh(tmp_path / f"{name}.db") for name in ("first", "second", "other"))
    assert _small(first, seed=11) == _small(second, seed=11, chunk_size=47)  # batching changes nothing
    _small(other, seed=12)
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)
    with first.session() as a, other.session() as b:
        assert set(a.scalars(select(Product.title))) != set(b.scalars(select(Product.title)))


# Refusal, replace and failure ----------------------------------------------------------------
def test_refuses_to_write_into_a_store_with_a_shop(database):
    with pytest.raises(ActionRefusedError, match="already holds a shop") as info:
        _small(database)
    assert info.value.context["existing"]["products"] == 5
    with database.session() as s:
        assert _count(s, Product) == 5 and s.get(Customer, ALICE) is not None


def test_replace_deletes_the_old_shop_first(database):
    with database.transaction() as s:
        cart = Cart(session_id="sess-alice", customer_id=ALICE)
        cart.items.append(CartItem(variant_id="V-TEE-BL-M", quantity=1))
        s.add_all([cart, IdempotencyRecord(key="k1", tool="cancel_order", customer_id=ALICE, result={})])
    report = _small(database, replace=True)
    assert report.replaced and report.products == 300
    with database.session() as s:
        assert s.get(Product, "P-SHOE") is None and s.get(Customer, ALICE) is None
        assert (
            _count(s, Cart) == 0
            and _count(s, IdempotencyRecord) == 0
            and _count(s, Address) == report.addresses
        )
        assert _count(s, Product) == 300 and _count(s, Order) == 150
        assert s.get(Promotion, "SAVE10") is None and _count(s, Promotion) == report.promotions


def test_replace_on_an_empty_store_just_generates(tmp_path):
    report = _small(_fresh(tmp_path / "empty.db"), replace=True)
    assert not report.replaced and report.orders == 150


@pytest.mark.parametrize(
    ("sizes", "argument"),
    [
        ({"products": -1}, "products"),
        ({"orders": 10, "customers": 0}, "customers"),
        ({"orders": 10, "products": 0}, "products"),
        ({"products": 1_000_001}, "products"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_invalid_sizes_are_rejected_before_writing(tmp_path, sizes, argument):
    database = _fresh(tmp_path / "bad.db")
    with pytest.raises(InvalidArgumentsError) as info:
        generate_demo_shop(database, **sizes)
    assert argument in [e["argument"] for e in info.value.errors]
    with database.session() as s:
        assert _count(s, Product) == 0


def test_a_failure_midway_leaves_the_store_untouched(tmp_path):
    database = _fresh(tmp_path / "fail.db")

    def explode(stage: str, done: int, total: int) -> None:
        if stage == "orders":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _small(database, progress=explode)
    with database.session() as s:
        assert _count(s, Product) == 0 and _count(s, Customer) == 0 and _count(s, Order) == 0


# Bulk path -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_larger_catalog_is_written_in_chunks_with_progress(tmp_path):
    database = _fresh(tmp_path / "big.db")
    calls: list[tuple[str, int, int]] = []
    report = generate_demo_shop(
        database,
        products=5000,
        customers=50,
        orders=300,
        chunk_size=1000,
        progress=lambda *c: calls.append(c),
    )
    assert [c for c in calls if c[0] == "products"] == [
        ("products", n, 5000) for n in range(1000, 5001, 1000)
    ]
    assert [c[0] for c in calls] == ["products"] * 5 + ["customers", "orders", "promotions"]
    assert calls[-2:] == [("orders", 300, 300), ("promotions", report.promotions, report.promotions)]
    with database.session() as s:
        assert _count(s, Product) == report.products == 5000
        assert _count(s, Variant) == report.variants
        assert len(set(s.scalars(select(Product.title)))) == 5000
        assert _count(s, OrderItem) == report.order_items
