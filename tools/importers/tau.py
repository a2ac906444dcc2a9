"""Importer for tau-bench retail data: ``products.json``, ``users.json``, ``orders.json``.

The path is the directory holding the three files, each a JSON object keyed by id. A missing
file is skipped with a note; they are imported in the order products, users, orders, so an
order can only land when its customer did.

- product: ``name`` is both title and category (tau has one product per type); brand is empty.
  Each variant keeps its ``item_id`` and ``options``; ``available`` becomes a stock of
  ``default_stock`` (option, default 10), unavailable means 0. A bad variant is skipped and
  reported, the product's other variants land.
- user: name, email, the address as the default address, payment methods (credit card brand
  and last four digits, PayPal, gift card with balance). A bad payment method is skipped.
- order: status (one of the store's statuses, else the order is rejected), shipping address,
  one item per entry (quantity 1), fulfillments (tracking ids and item ids), payment history.
  An order with any bad part is rejected whole: a partial order would misstate what was paid.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from core.errors import ImportFailedError
from store.db import Database
from store.models import OrderStatus, PaymentSource, TransactionKind
from tools.importers.base import (
    Importer,
    ImportOptions,
    ImportReport,
    Progress,
    RowError,
    RowRejected,
    fit,
    parse_money,
    read_text,
    required,
)
from tools.importers.records import (
    AddressRecord,
    CustomerRecord,
    OrderRecord,
    PaymentRecord,
    ProductRecord,
    VariantRecord,
)
from tools.importers.writer import (
    CustomerWriter,
    Entry,
    OrderWriter,
    ProductWriter,
    ProgressTracker,
    RecordWriter,
    write_batches,
)

R = TypeVar("R")
Parser = Callable[[str, Any, ImportOptions, list[str]], R]

PRODUCTS, USERS, ORDERS = "products.json", "users.json", "orders.json"
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")


class TauImporter(Importer):
    name = "tau"
    description = "tau-bench retail JSON: a directory holding products.json, users.json and orders.json"

    def run(
        self, database: Database, path: Path, options: ImportOptions, progress: Progress | None
    ) -> ImportReport:
        if not path.exists():
            raise ImportFailedError(f"{path}: no such directory", path=str(path))
        if not path.is_dir():
            raise ImportFailedError(
                f"{path} is a file; the tau format reads the directory holding {PRODUCTS}, {USERS}, {ORDERS}",
                path=str(path),
            )
        report = ImportReport()
        loaded: dict[str, dict[str, Any]] = {}
        for name in (PRODUCTS, USERS, ORDERS):
            if (path / name).is_file():
                loaded[name] = _load_json(path / name)
            else:
                report.notes.append(f"{name} not found in {path}; skipped")
        if not loaded:
            raise ImportFailedError(f"{path} holds none of {PRODUCTS}, {USERS}, {ORDERS}", path=str(path))

        products = _parse(loaded.get(PRODUCTS), PRODUCTS, _product, options, report)
        customers = _parse(loaded.get(USERS), USERS, _customer, options, report)
        orders = _parse(loaded.get(ORDERS), ORDERS, _order, options, report)
        tracker = ProgressTracker(len(products) + len(customers) + len(orders), progress)
        jobs: list[tuple[str, list[Any], RecordWriter[Any]]] = [
            (PRODUCTS, products, ProductWriter()),
            (USERS, customers, CustomerWriter()),
            (ORDERS, orders, OrderWriter()),
        ]
        for name, entries, writer in jobs:
            if name in loaded:
                report.merge(
                    write_batches(
                        database,
                        entries,
                        writer,
                        source=name,
                        batch_size=options.batch_size,
                        tracker=tracker,
                    )
                )
        return report


def _load_json(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_text(file))
    except json.JSONDecodeError as exc:
        raise ImportFailedError(
            f"{file.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            path=str(file),
        ) from None
    if not isinstance(data, dict):
        raise ImportFailedError(
            f"{file.name} must hold a JSON object keyed by id, not a {type(data).__name__}", path=str(file)
        )
    return data


def _parse(
    data: dict[str, Any] | None, name: str, parser: Parser[R], options: ImportOptions, report: ImportReport
) -> list[Entry[R]]:
    entries: list[Entry[R]] = []
    for key, raw in (data or {}).items():
        problems: list[str] = []
        try:
            entries.append(Entry(key, parser(key, raw, options, problems)))
        except RowRejected as exc:
            problems.append(exc.reason)
        report.errors.extend(RowError(key, reason, name) for reason in problems)
    return entries


def _object(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RowRejected(f"{what} must be a JSON object, not {type(raw).__name__}")
    return raw


def _text(
    data: dict[str, Any], key: str, limit: int, *, default: str | None = None, optional: bool = False
) -> str:
    value = data.get(key, default)
    if optional and value in (None, ""):
        return ""
    return fit(required(value, key), limit, key)


def _options(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, (str, int, float)) for v in raw.values()):
        raise RowRejected("options must be an object of names to values")
    return {str(k): str(v) for k, v in raw.items()}


def _product(key: str, raw: Any, options: ImportOptions, problems: list[str]) -> ProductRecord:
    data = _object(raw, "product")
    product_id = _text(data, "product_id", 64, default=key)
    name = _text(data, "name", 300)
    variants_raw = data.get("variants")
    if not isinstance(variants_raw, dict) or not variants_raw:
        raise RowRejected("variants is missing or empty")
    variants: list[VariantRecord] = []
    for variant_key, variant_raw in variants_raw.items():
        try:
            variants.append(_variant(variant_key, variant_raw, options.default_stock))
        except RowRejected as exc:
            problems.append(f"variant {variant_key}: {exc.reason}")
    if not variants:
        raise RowRejected("none of its variants is valid")
    return ProductRecord(
        id=product_id,
        title=name,
        category=fit(name, 120, "name"),
        variants=tuple(variants),
        source="tau",
    )


def _variant(key: str, raw: Any, default_stock: int) -> VariantRecord:
    data = _object(raw, "variant")
    available = data.get("available")
    if not isinstance(available, bool):
        raise RowRejected(f"available must be true or false, not {available!r}")
    return VariantRecord(
        id=_text(data, "item_id", 64, default=key),
        price=parse_money(data.get("price")),
        stock=default_stock if available else 0,
        options=_options(data.get("options")),
    )


def _customer(key: str, raw: Any, options: ImportOptions, problems: list[str]) -> CustomerRecord:
    data = _object(raw, "user")
    name = _object(data.get("name"), "name")
    email = _text(data, "email", 254)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise RowRejected(f"email {email!r} is not an email address")
    address = data.get("address")
    methods: list[PaymentRecord] = []
    methods_raw = data.get("payment_methods") or {}
    if not isinstance(methods_raw, dict):
        raise RowRejected("payment_methods must be an object keyed by id")
    for method_key, method_raw in methods_raw.items():
        try:
            methods.append(_payment_method(method_key, method_raw))
        except RowRejected as exc:
            problems.append(f"payment method {method_key}: {exc.reason}")
    return CustomerRecord(
        id=fit(required(data.get("user_id", key), "user_id"), 64, "user_id"),
        first_name=_text(name, "first_name", 120),
        last_name=_text(name, "last_name", 120),
        email=email.lower(),
        address=None if address is None else _address(_object(address, "address")),
        payment_methods=tuple(methods),
    )


def _address(data: dict[str, Any]) -> AddressRecord:
    return AddressRecord(
        address1=_text(data, "address1", 200),
        address2=_text(data, "address2", 200, optional=True),
        city=_text(data, "city", 120),
        state=_text(data, "state", 60),
        country=_text(data, "country", 60),
        zip=_text(data, "zip", 20),
    )


def _payment_method(key: str, raw: Any) -> PaymentRecord:
    data = _object(raw, "payment method")
    method_id = _text(data, "id", 64, default=key)
    source_text = str(data.get("source", "")).strip().lower()
    try:
        source = PaymentSource(source_text)
    except ValueError:
        valid = ", ".join(s.value for s in PaymentSource)
        raise RowRejected(f"source {source_text!r} is not one of {valid}") from None
    if source is PaymentSource.CREDIT_CARD:
        last_four = _text(data, "last_four", 4)
        if not (len(last_four) == 4 and last_four.isdigit()):
            raise RowRejected(f"last_four {last_four!r} is not four digits")
        return PaymentRecord(method_id, source, brand=_text(data, "brand", 40).lower(), last_four=last_four)
    if source is PaymentSource.GIFT_CARD:
        return PaymentRecord(method_id, source, balance=parse_money(data.get("balance"), what="balance"))
    return PaymentRecord(method_id, source)


def _order(key: str, raw: Any, options: ImportOptions, problems: list[str]) -> OrderRecord:
    data = _object(raw, "order")
    status_text = str(data.get("status", "")).strip().lower()
    try:
        status = OrderStatus(status_text)
    except ValueError:
        valid = ", ".join(s.value for s in OrderStatus)
        raise RowRejected(f"status {status_text!r} is not one of {valid}") from None
    address = _object(data.get("address") or {}, "address")
    items_raw = data.get("items")
    if not isinstance(items_raw, list) or not items_raw:
        raise RowRejected("items is missing or empty")
    return OrderRecord(
        id=_text(data, "order_id", 32, default=key),
        customer_id=_text(data, "user_id", 64),
        status=status,
        shipping_address={f: str(address.get(f) or "") for f in ADDRESS_FIELDS},
        items=tuple(_numbered("item", items_raw, _item)),
        fulfillments=tuple(_numbered("fulfillment", data.get("fulfillments") or [], _fulfillment)),
        transactions=tuple(_numbered("payment", data.get("payment_history") or [], _transaction)),
    )


def _numbered(what: str, raw: Any, parse: Callable[[dict[str, Any]], R]) -> list[R]:
    if not isinstance(raw, list):
        raise RowRejected(f"the {what} list must be a JSON array")
    parsed: list[R] = []
    for number, entry in enumerate(raw, start=1):
        try:
            parsed.append(parse(_object(entry, what)))
        except RowRejected as exc:
            raise RowRejected(f"{what} {number}: {exc.reason}") from None
    return parsed


def _item(data: dict[str, Any]) -> tuple[str, str, str, dict[str, Any], Any, int]:
    return (
        _text(data, "product_id", 64),
        _text(data, "item_id", 64),
        _text(data, "name", 300),
        _options(data.get("options")),
        parse_money(data.get("price")),
        1,
    )


def _fulfillment(data: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    tracking = data.get("tracking_id") or []
    tracking = [tracking] if isinstance(tracking, str) else tracking
    items = data.get("item_ids") or []
    if not isinstance(tracking, list) or not isinstance(items, list):
        raise RowRejected("tracking_id and item_ids must be lists")
    return ("", [str(t) for t in tracking], [str(i) for i in items])


def _transaction(data: dict[str, Any]) -> tuple[TransactionKind, Any, str]:
    kind_text = str(data.get("transaction_type", "")).strip().lower()
    try:
        kind = TransactionKind(kind_text)
    except ValueError:
        raise RowRejected(f"transaction_type {kind_text!r} is not payment or refund") from None
    return (kind, parse_money(data.get("amount"), what="amount"), _text(data, "payment_method_id", 64))
