"""Writing imported records into the store: upsert by primary key, one transaction per batch.

A record (:mod:`tools.importers.records`) is a whole aggregate, a product with its variants for
instance. It lands whole or not at all, because every batch is one transaction. A record already
in the store is updated in place (its changed fields only) and counted as updated, or counted as
unchanged; nothing is duplicated, and rows the file does not mention (a variant dropped from the
file) are left alone.

Writers check the constraints they can foresee (an email or SKU owned by another record) before
touching anything, and reject the record with a reason. Should the database still refuse a
batch, the batch is written again one record per transaction so only the offending record is
skipped."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Executable, select
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from core.errors import ImportFailedError
from store.db import Database
from store.models import (
    Address,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    PaymentMethod,
    PaymentTransaction,
    Product,
    Variant,
)
from tools.importers.base import EntityCounts, ImportReport, Progress, RowError, RowRejected
from tools.importers.records import AddressRecord, CustomerRecord, OrderRecord, ProductRecord

T = TypeVar("T")
CHUNK = 500  # ids per IN (...) query


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A parsed record and where it came from (row number or record key), for error reports."""

    key: int | str
    record: T


class ProgressTracker:
    """Counts written records across an import's files and reports them to the callback."""

    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total = total
        self.done = 0
        self._callback = callback

    def advance(self, count: int) -> None:
        self.done += count
        if self._callback is not None:
            self._callback(self.done, self.total)


class RecordWriter(ABC, Generic[T]):
    """Upserts one kind of record. ``write`` raises RowRejected before changing anything."""

    kind: ClassVar[str]

    def preload(self, session: Session, records: Sequence[T]) -> None:
        """Load what the batch will touch in a few queries, before any ``write`` of the batch."""

    @abstractmethod
    def write(self, session: Session, record: T, report: ImportReport) -> None: ...


def write_batches(
    database: Database,
    entries: Sequence[Entry[T]],
    writer: RecordWriter[T],
    *,
    source: str,
    batch_size: int,
    tracker: ProgressTracker,
) -> ImportReport:
    """Write ``entries`` in transactions of ``batch_size`` records; return counts and rejections."""
    report = ImportReport()
    for start in range(0, len(entries), batch_size):
        batch = entries[start : start + batch_size]
        try:
            report.merge(_write_batch(database, batch, writer, source))
        except (IntegrityError, DataError):
            for entry in batch:
                try:
                    report.merge(_write_batch(database, [entry], writer, source))
                except (IntegrityError, DataError) as exc:
                    reason = f"the store refused it: {getattr(exc, 'orig', None) or exc}"
                    report.errors.append(RowError(entry.key, reason, source))
        except SQLAlchemyError as exc:
            raise ImportFailedError(
                f"Writing {source} failed at record {batch[0].key}: {exc}. Records before it are "
                "saved; importing again is safe.",
                source=source,
            ) from exc
        tracker.advance(len(batch))
    return report


def write_products(
    database: Database,
    entries: Sequence[Entry[ProductRecord]],
    *,
    source: str,
    batch_size: int,
    progress: Progress | None,
) -> ImportReport:
    """Write a product-only file's records (the CSV formats), reporting progress per batch."""
    tracker = ProgressTracker(len(entries), progress)
    return write_batches(
        database, entries, ProductWriter(), source=source, batch_size=batch_size, tracker=tracker
    )


def _write_batch(
    database: Database, batch: Sequence[Entry[T]], writer: RecordWriter[T], source: str
) -> ImportReport:
    scratch = ImportReport()
    # Writers check uniqueness against what they preloaded, so nothing needs flushing before
    # the commit, which then inserts the whole batch at once.
    with database.transaction() as session, session.no_autoflush:
        writer.preload(session, [entry.record for entry in batch])
        for entry in batch:
            try:
                writer.write(session, entry.record, scratch)
            except RowRejected as exc:
                scratch.errors.append(RowError(entry.key, exc.reason, source))
    return scratch


def assign(obj: object, values: Mapping[str, Any]) -> bool:
    """Set the attributes whose value differs; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _rows(session: Session, keys: Sequence[Any], query: Callable[[Sequence[Any]], Executable]) -> list[Any]:
    """Run ``query`` over ``keys`` in chunks (one IN list each) and return all result rows."""
    found: list[Any] = []
    unique = sorted(set(keys))
    for start in range(0, len(unique), CHUNK):
        found.extend(session.execute(query(unique[start : start + CHUNK])).all())
    return found


def _objects(
    session: Session, keys: Sequence[Any], query: Callable[[Sequence[Any]], Executable]
) -> dict[str, Any]:
    """Entities selected over ``keys`` in chunks, by primary key ``id``."""
    return {row[0].id: row[0] for row in _rows(session, keys, query)}


class ProductWriter(RecordWriter[ProductRecord]):
    kind = "products"

    def __init__(self) -> None:
        self._products: dict[str, Product] = {}
        self._variant_product: dict[str, str] = {}  # variant id -> product id
        self._sku_variant: dict[str, str] = {}  # SKU -> variant id

    def preload(self, session: Session, records: Sequence[ProductRecord]) -> None:
        self._products = _objects(
            session,
            [r.id for r in records],
            lambda c: select(Product).where(Product.id.in_(c)).options(selectinload(Product.variants)),
        )
        variant_ids = [v.id for r in records for v in r.variants]
        rows = _rows(
            session, variant_ids, lambda c: select(Variant.id, Variant.product_id).where(Variant.id.in_(c))
        )
        self._variant_product = {variant_id: product_id for variant_id, product_id in rows}
        skus = [v.sku for r in records for v in r.variants if v.sku is not None]
        rows = _rows(session, skus, lambda c: select(Variant.sku, Variant.id).where(Variant.sku.in_(c)))
        self._sku_variant = {sku: variant_id for sku, variant_id in rows}

    def write(self, session: Session, record: ProductRecord, report: ImportReport) -> None:
        if len({v.id for v in record.variants}) != len(record.variants):
            raise RowRejected("two of its variants have the same id")
        for vr in record.variants:
            owner = self._variant_product.get(vr.id, record.id)
            if owner != record.id:
                raise RowRejected(f"variant id {vr.id!r} already belongs to product {owner!r}")
            holder = self._sku_variant.get(vr.sku, vr.id) if vr.sku is not None else vr.id
            if holder != vr.id:
                raise RowRejected(f"SKU {vr.sku!r} already belongs to variant {holder!r}")
        values = {
            "title": record.title,
            "description": record.description,
            "category": record.category,
            "brand": record.brand,
            "image_url": record.image_url,
            "tags": list(record.tags),
            "source": record.source,
        }
        product = self._products.get(record.id)
        if product is None:
            product = self._products[record.id] = Product(id=record.id, **values)
            session.add(product)
            report.products.created += 1
        elif assign(product, values):
            report.products.updated += 1
        else:
            report.products.unchanged += 1
        current = {v.id: v for v in product.variants}
        for vr in record.variants:
            variant_values = {
                "sku": vr.sku,
                "options": dict(vr.options),
                "price": vr.price,
                "stock": vr.stock,
            }
            variant = current.get(vr.id)
            if variant is None:
                product.variants.append(Variant(id=vr.id, **variant_values))
                report.variants.created += 1
            else:
                if variant.sku is not None and variant.sku != vr.sku:
                    self._sku_variant.pop(variant.sku, None)
                if assign(variant, variant_values):
                    report.variants.updated += 1
                else:
                    report.variants.unchanged += 1
            self._variant_product[vr.id] = record.id
            if vr.sku is not None:
                self._sku_variant[vr.sku] = vr.id


class CustomerWriter(RecordWriter[CustomerRecord]):
    kind = "customers"

    def __init__(self) -> None:
        self._customers: dict[str, Customer] = {}
        self._email_owner: dict[str, str] = {}
        self._method_owner: dict[str, str] = {}

    def preload(self, session: Session, records: Sequence[CustomerRecord]) -> None:
        self._customers = _objects(
            session,
            [r.id for r in records],
            lambda c: (
                select(Customer)
                .where(Customer.id.in_(c))
                .options(selectinload(Customer.addresses), selectinload(Customer.payment_methods))
            ),
        )
        emails = [r.email for r in records]
        rows = _rows(
            session, emails, lambda c: select(Customer.email, Customer.id).where(Customer.email.in_(c))
        )
        self._email_owner = {email: customer_id for email, customer_id in rows}
        method_ids = [m.id for r in records for m in r.payment_methods]
        rows = _rows(
            session,
            method_ids,
            lambda c: select(PaymentMethod.id, PaymentMethod.customer_id).where(PaymentMethod.id.in_(c)),
        )
        self._method_owner = {method_id: customer_id for method_id, customer_id in rows}

    def write(self, session: Session, record: CustomerRecord, report: ImportReport) -> None:
        owner = self._email_owner.get(record.email, record.id)
        if owner != record.id:
            raise RowRejected(f"email {record.email!r} already belongs to customer {owner!r}")
        for wanted in record.payment_methods:
            owner = self._method_owner.get(wanted.id, record.id)
            if owner != record.id:
                raise RowRejected(f"payment method {wanted.id!r} already belongs to customer {owner!r}")
        values = {"first_name": record.first_name, "last_name": record.last_name, "email": record.email}
        customer = self._customers.get(record.id)
        created = customer is None
        if customer is None:
            customer = self._customers[record.id] = Customer(id=record.id, **values)
            session.add(customer)
            changed = True
        else:
            self._email_owner.pop(customer.email, None)
            changed = assign(customer, values)
        self._email_owner[record.email] = record.id
        if record.address is not None:
            changed = self._write_address(customer, record.address) or changed
        methods = {m.id: m for m in customer.payment_methods}
        for mr in record.payment_methods:
            method_values = {
                "source": mr.source,
                "brand": mr.brand,
                "last_four": mr.last_four,
                "balance": mr.balance,
            }
            method = methods.get(mr.id)
            if method is None:
                customer.payment_methods.append(PaymentMethod(id=mr.id, **method_values))
                changed = True
            else:
                changed = assign(method, method_values) or changed
            self._method_owner[mr.id] = record.id
        _count(report.customers, created, changed)

    @staticmethod
    def _write_address(customer: Customer, record: AddressRecord) -> bool:
        values = {
            "address1": record.address1,
            "address2": record.address2,
            "city": record.city,
            "state": record.state,
            "country": record.country,
            "zip": record.zip,
        }
        default = next((a for a in customer.addresses if a.is_default), None)
        if default is None:
            customer.addresses.append(Address(is_default=True, **values))
            return True
        return assign(default, values)


class OrderWriter(RecordWriter[OrderRecord]):
    kind = "orders"

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}
        self._customers: set[str] = set()

    def preload(self, session: Session, records: Sequence[OrderRecord]) -> None:
        self._orders = _objects(
            session,
            [r.id for r in records],
            lambda c: (
                select(Order)
                .where(Order.id.in_(c))
                .options(
                    selectinload(Order.items),
                    selectinload(Order.fulfillments),
                    selectinload(Order.transactions),
                )
            ),
        )
        wanted = [r.customer_id for r in records]
        rows = _rows(session, wanted, lambda c: select(Customer.id).where(Customer.id.in_(c)))
        self._customers = {customer_id for (customer_id,) in rows}

    def write(self, session: Session, record: OrderRecord, report: ImportReport) -> None:
        if record.customer_id not in self._customers:
            raise RowRejected(f"customer {record.customer_id!r} does not exist (import the customers first)")
        values = {
            "customer_id": record.customer_id,
            "status": record.status,
            "shipping_address": dict(record.shipping_address),
        }
        order = self._orders.get(record.id)
        created = order is None
        if order is None:
            order = self._orders[record.id] = Order(id=record.id, **values)
            session.add(order)
            changed = True
        else:
            changed = assign(order, values)
        items = [(i.product_id, i.variant_id, i.name, i.options, i.price, i.quantity) for i in order.items]
        if items != list(record.items):
            order.items = [
                OrderItem(product_id=p, variant_id=v, name=n, options=dict(o), price=price, quantity=q)
                for p, v, n, o, price, q in record.items
            ]
            changed = True
        fulfillments = [(f.carrier, f.tracking_ids, f.variant_ids) for f in order.fulfillments]
        if fulfillments != list(record.fulfillments):
            order.fulfillments = [
                Fulfillment(carrier=c, tracking_ids=list(t), variant_ids=list(v))
                for c, t, v in record.fulfillments
            ]
            changed = True
        transactions = [(t.kind, t.amount, t.payment_method_id) for t in order.transactions]
        if transactions != list(record.transactions):
            order.transactions = [
                PaymentTransaction(kind=k, amount=a, payment_method_id=m) for k, a, m in record.transactions
            ]
            changed = True
        _count(report.orders, created, changed)


def _count(counts: EntityCounts, created: bool, changed: bool) -> None:
    if created:
        counts.created += 1
    elif changed:
        counts.updated += 1
    else:
        counts.unchanged += 1
