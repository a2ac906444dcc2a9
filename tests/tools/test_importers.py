"""Importers on real sample files: tau-bench retail JSON, the Shopify fixture, the Amazon CSV.

Expected values are read from the source files here (json/csv), never from the importer.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import ImportFailedError, InvalidArgumentsError, RegistryError, UnknownNameError
from store.db import Database
from store.models import Customer, Order, Product, Variant
from tests.conftest import require_shared
from tools.importers import (
    ImporterRegistry,
    ImportOptions,
    load_mapping_file,
    parse_listed_price,
    parse_mapping_pairs,
    parse_money,
    run_import,
)
from tools.importers.base import RowRejected
from tools.importers.tau import TauImporter
from tools.importers.writer import CustomerWriter, ProductWriter

M = TypeVar("M")
SHOPIFY = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_products.csv"


@pytest.fixture
def db(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path}/shop.db")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def tau(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole tau sample imported once into a store file; tests open or copy it."""
    source = require_shared("tau_retail")
    path = tmp_path_factory.mktemp("tau") / "shop.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    calls: list[tuple[int, int]] = []
    report = run_import(database, "tau", source, progress=lambda done, total: calls.append((done, total)))
    database.dispose()
    data = {
        name: json.loads((source / f"{name}.json").read_text()) for name in ("products", "users", "orders")
    }
    return {"path": path, "report": report, "progress": calls, "source": source, **data}


def fetch(s: Session, model: type[M], key: str) -> M:
    found = s.get(model, key)
    assert found is not None, f"{model.__name__} {key!r} was not imported"
    return found


def count(database: Database, model: type) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_csv_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# tau-bench -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_tau_imports_the_whole_sample_without_errors(tau):
    report = tau["report"]
    assert report.errors == [] and report.ok and report.notes == []
    assert (report.products.created, report.customers.created, report.orders.created) == (50, 500, 1000)
    assert report.variants.created == sum(len(p["variants"]) for p in tau["products"].values())
    assert report.updated == 0 and report.unchanged == 0
    done = [d for d, _ in tau["progress"]]
    assert done == sorted(done) and tau["progress"][-1] == (1550, 1550)


def test_tau_records_match_the_source_files(tau):
    database = Database(f"sqlite:///{tau['path']}")
    shirt, user = tau["products"]["9523456873"], tau["users"]["noah_brown_6181"]
    gift_user, gift = next(
        (uid, m)
        for uid, u in tau["users"].items()
        for m in u["payment_methods"].values()
        if m["source"] == "gift_card"
    )
    card = next(m for m in user["payment_methods"].values() if m["source"] == "credit_card")
    refunded = next(k for k, o in tau["orders"].items() if len(o["payment_history"]) > 1)
    with database.session() as s:
        product = fetch(s, Product, "9523456873")
        assert (product.title, product.category, product.brand) == (shirt["name"], shirt["name"], "")
        for item_id, source_variant in shirt["variants"].items():
            variant = fetch(s, Variant, item_id)
            assert (variant.price, variant.options, variant.stock) == (
                Decimal(str(source_variant["price"])),
                source_variant["options"],
                10 if source_variant["available"] else 0,
            )
        customer = fetch(s, Customer, "noah_brown_6181")
        name = user["name"]
        assert (customer.name, customer.email) == (f"{name['first_name']} {name['last_name']}", user["email"])
        address = customer.default_address
        assert address is not None and address.as_dict() == {k: user["address"][k] for k in address.as_dict()}
        methods = {m.id: m for m in customer.payment_methods}
        assert set(methods) == set(user["payment_methods"])
        assert (methods[card["id"]].brand, methods[card["id"]].last_four) == (
            card["brand"],
            card["last_four"],
        )
        gift_card = next(m for m in fetch(s, Customer, gift_user).payment_methods if m.id == gift["id"])
        assert gift_card.balance == Decimal(str(gift["balance"]))
        for order_id in ("#W2611340", refunded):
            src, order = tau["orders"][order_id], fetch(s, Order, order_id)
            assert (order.customer_id, order.status.value) == (src["user_id"], src["status"])
            assert order.shipping_address == src["address"]
            assert [(i.variant_id, i.price, i.quantity) for i in order.items] == [
                (i["item_id"], Decimal(str(i["price"])), 1) for i in src["items"]
            ]
            assert [(f.tracking_ids, f.variant_ids) for f in order.fulfillments] == [
                (f["tracking_id"], f["item_ids"]) for f in src["fulfillments"]
            ]
            assert [(t.kind.value, t.amount, t.payment_method_id) for t in order.transactions] == [
                (t["transaction_type"], Decimal(str(t["amount"])), t["payment_method_id"])
                for t in src["payment_history"]
            ]
    database.dispose()


def test_tau_reimport_updates_changed_rows_instead_of_duplicating(tau, tmp_path):
    shutil.copy(tau["path"], tmp_path / "shop.db")
    database = Database(f"sqlite:///{tmp_path}/shop.db")
    again = run_import(database, "tau", tau["source"])
    assert again.created == 0 and again.updated == 0 and again.ok
    assert (again.products.unchanged, again.customers.unchanged, again.orders.unchanged) == (50, 500, 1000)

    changed = tmp_path / "tau"
    shutil.copytree(tau["source"], changed)
    products, orders = json.loads(json.dumps(tau["products"])), dict(tau["orders"])
    products["9523456873"]["variants"]["9612497925"].update(price=61.5, available=False)
    pending_id = next(k for k, o in orders.items() if o["status"] == "pending")
    orders[pending_id] = {**orders[pending_id], "status": "cancelled"}
    (changed / "products.json").write_text(json.dumps(products))
    (changed / "orders.json").write_text(json.dumps(orders))
    report = run_import(database, "tau", changed)
    assert report.created == 0
    assert (report.variants.updated, report.variants.unchanged) == (1, again.variants.unchanged - 1)
    assert (report.orders.updated, report.orders.unchanged, report.products.unchanged) == (1, 999, 50)
    with database.session() as s:
        variant = fetch(s, Variant, "9612497925")
        assert (variant.price, variant.stock) == (Decimal("61.50"), 0)
        assert fetch(s, Order, pending_id).status.value == "cancelled"
    assert (count(database, Product), count(database, Order)) == (50, 1000)
    database.dispose()


def test_tau_bad_records_are_reported_and_the_rest_land(db, tau, tmp_path):
    shirt = json.loads(json.dumps(tau["products"]["9523456873"]))
    shirt["variants"]["9612497925"]["price"] = "twelve"
    broken = {"product_id": "P1", "name": "Broken", "variants": {"V1": {"price": "abc", "available": True}}}
    noah = tau["users"]["noah_brown_6181"]
    users = {
        "noah_brown_6181": noah,
        "copycat_1": {**noah, "payment_methods": {}},  # noah's email
        "no_mail_2": {**noah, "email": "not-an-email", "payment_methods": {}},
    }
    good = tau["orders"]["#W7678072"]
    orders = {
        "#W7678072": good,
        "#W0000001": {**good, "order_id": "#W0000001", "user_id": "ghost_9"},
        "#W0000002": {**good, "order_id": "#W0000002", "status": "shipped"},
        "#W0000003": {**good, "order_id": "#W0000003", "items": [{**good["items"][0], "price": "n/a"}]},
    }
    files = {"products": {"9523456873": shirt, "P1": broken}, "users": users, "orders": orders}
    for name, data in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    report = run_import(db, "tau", tmp_path)
    statuses = "pending, processed, delivered, cancelled, returned, exchanged"
    assert {(e.source, e.row, e.reason) for e in report.errors} == {
        ("products.json", "9523456873", "variant 9612497925: price 'twelve' is not an amount"),
        ("products.json", "P1", "variant V1: price 'abc' is not an amount"),
        ("products.json", "P1", "none of its variants is valid"),
        ("users.json", "copycat_1", f"email {noah['email']!r} already belongs to customer 'noah_brown_6181'"),
        ("users.json", "no_mail_2", "email 'not-an-email' is not an email address"),
        ("orders.json", "#W0000001", "customer 'ghost_9' does not exist (import the customers first)"),
        ("orders.json", "#W0000002", f"status 'shipped' is not one of {statuses}"),
        ("orders.json", "#W0000003", "item 1: price 'n/a' is not an amount"),
    }
    assert (report.products.created, report.variants.created) == (1, len(shirt["variants"]) - 1)
    assert (report.customers.created, report.orders.created) == (1, 1)
    with db.session() as s:
        assert s.get(Variant, "9612497925") is None
        assert fetch(s, Order, "#W7678072").status.value == good["status"]


def test_tau_missing_files_and_bad_structure(db, tau, tmp_path):
    shutil.copy(tau["source"] / "users.json", tmp_path / "users.json")
    report = run_import(db, "tau", tmp_path)
    assert report.customers.created == 500 and report.products.total == 0
    assert [n.split()[0] for n in report.notes] == ["products.json", "orders.json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    for path, message in (
        (empty, r"holds none of products\.json"),
        (tmp_path / "nope", "no such directory"),
        (tmp_path / "users.json", "is a file"),
    ):
        with pytest.raises(ImportFailedError, match=message):
            run_import(db, "tau", path)
    for text, message in (
        ('{"#W1": ', r"orders.json is not valid JSON: .* line 1"),
        ("[1]", "keyed by id, not a list"),
    ):
        (empty / "orders.json").write_text(text)
        with pytest.raises(ImportFailedError, match=message):
            run_import(db, "tau", empty)


# Shopify ------------------------------------------------------------------------------------


def test_shopify_fixture_lands_products_and_reports_bad_rows(db):
    rows = read_csv_rows(SHOPIFY)
    calls: list[tuple[int, int]] = []
    report = run_import(db, "shopify", SHOPIFY, progress=lambda d, t: calls.append((d, t)))
    handles = {r["Handle"] for r in rows if r["Handle"] and r["Status"] != "draft"}
    assert report.products.created == len(handles) == 6
    assert report.variants.created == 13 and calls[-1] == (6, 6)
    assert rows[7]["Variant Price"] == "TBD" and rows[13]["Handle"] == ""
    assert [(e.row, e.reason, e.source) for e in report.errors] == [
        (8, "Variant Price 'TBD' is not an amount", "shopify_products.csv"),
        (14, "Handle is missing; every row must name its product's handle", "shopify_products.csv"),
    ]
    assert "gift-wrap-service" in report.notes[0]
    first = rows[0]
    with db.session() as s:
        tee = fetch(s, Product, first["Handle"])
        assert (tee.title, tee.brand, tee.image_url) == (first["Title"], first["Vendor"], first["Image Src"])
        assert tee.category == first["Product Category"].split(" > ")[-1] == "T-Shirts"
        assert tee.tags == ["basics", "cotton", "summer"]
        text = "Our everyday tee in 100% organic cotton, pre-shrunk & garment-dyed."
        assert tee.description == f"{text}\n- Relaxed fit\n- Machine wash cold"
        for row in rows[:4]:
            variant = fetch(s, Variant, row["Variant SKU"])
            assert (variant.product_id, variant.sku, variant.price, variant.stock, variant.options) == (
                first["Handle"],
                row["Variant SKU"],
                Decimal(row["Variant Price"]),
                int(row["Variant Inventory Qty"]),
                {"size": row["Option1 Value"], "color": row["Option2 Value"]},
            )
        shoe = fetch(s, Product, "trail-runner-shoe")
        assert "trackView" not in shoe.description and "5 mm lug" in shoe.description
        assert [v.id for v in shoe.variants] == ["SW-TR2-10", "SW-TR2-9"]
        assert [(v.id, v.options, v.stock) for v in fetch(s, Product, "merino-wool-beanie").variants] == [
            ("merino-wool-beanie-1", {"color": "Charcoal"}, 18),
            ("merino-wool-beanie-2", {"color": "Navy"}, 0),  # -3 in the file: oversold
        ]
        assert fetch(s, Variant, "KC-POUR-SET").options == {}  # Shopify's "Title: Default Title"
        assert fetch(s, Variant, "KC-BOARD-S").stock == 10  # empty quantity: default_stock
        assert fetch(s, Product, "bamboo-cutting-board").category == "Cutting Boards"  # from Type
        assert fetch(s, Product, "insulated-water-bottle").category == "Uncategorized"


def test_shopify_reimport_updates_the_changed_price_only(db, tmp_path):
    run_import(db, "shopify", SHOPIFY)
    rows = read_csv_rows(SHOPIFY)
    next(r for r in rows if r["Variant SKU"] == "NW-TEE-M-BLK")["Variant Price"] = "21.00"
    report = run_import(db, "shopify", write_csv_rows(tmp_path / "products_export.csv", rows))
    assert report.created == 0
    assert (report.variants.updated, report.variants.unchanged, report.products.unchanged) == (1, 12, 6)
    assert (count(db, Product), count(db, Variant)) == (6, 13)
    with db.session() as s:
        assert fetch(s, Variant, "NW-TEE-M-BLK").price == Decimal("21.00")


def test_shopify_unpublished_products_and_wrong_header(db, tmp_path):
    report = run_import(db, "shopify", SHOPIFY, options=ImportOptions(include_unpublished=True))
    assert report.products.created == 7 and report.notes == []
    (tmp_path / "x.csv").write_text("Handle,Title,Price\nmug,Mug,9.00\n")
    with pytest.raises(
        ImportFailedError, match="not a Shopify product export: it has no Variant Price column"
    ):
        run_import(db, "shopify", tmp_path / "x.csv")


def test_a_crash_mid_import_keeps_whole_batches_only(db, monkeypatch):
    original = ProductWriter.write

    def crash_on_beanie(self, session, record, report):
        original(self, session, record, report)
        if record.id == "merino-wool-beanie":
            raise RuntimeError("power cut")

    monkeypatch.setattr(ProductWriter, "write", crash_on_beanie)
    with pytest.raises(RuntimeError, match="power cut"):
        run_import(db, "shopify", SHOPIFY, options=ImportOptions(batch_size=2))
    with db.session() as s:
        assert sorted(s.scalars(select(Product.id))) == ["classic-cotton-tee", "trail-runner-shoe"]
    assert count(db, Variant) == 6  # 4 tees + 2 shoes; the crashed batch left nothing


def test_a_record_the_store_refuses_is_skipped_alone(db, tmp_path, monkeypatch):
    original = CustomerWriter.write

    def unchecked(self, session, record, report):
        self._email_owner.clear()  # as if the check missed it: the database must refuse
        original(self, session, record, report)

    monkeypatch.setattr(CustomerWriter, "write", unchecked)
    ann = {"name": {"first_name": "Ann", "last_name": "Lee"}, "email": "ann@example.com"}
    users = {"ann_1": ann, "ann_2": ann, "bo_3": {**ann, "email": "bo@example.com"}}
    (tmp_path / "users.json").write_text(json.dumps(users))
    report = run_import(db, "tau", tmp_path)
    assert report.customers.created == 2
    assert [(e.row, e.reason) for e in report.errors] == [
        ("ann_2", "the store refused it: UNIQUE constraint failed: customers.email")
    ]


# Generic CSV ---------------------------------------------------------------------------------


def test_amazon_csv_lands_all_rows_but_the_four_without_a_price(db):
    source = require_shared("amazon_products_1000.csv")
    rows = read_csv_rows(source)
    report = run_import(db, "csv", source)
    unpriced = [n for n, r in enumerate(rows, start=1) if r["Selling Price"].startswith("Total price")]
    assert len(unpriced) == 4
    assert [(e.row, e.reason) for e in report.errors] == [
        (n, "Selling Price 'Total price:' is not an amount") for n in unpriced
    ]
    assert report.products.created == report.variants.created == len(rows) - 4 == count(db, Product)
    first = rows[0]
    with db.session() as s:
        product = fetch(s, Product, first["Uniq Id"])
        assert (product.title, product.description) == (first["Product Name"], first["About Product"])
        assert product.category == first["Category"].split(" | ")[0] == "Sports & Outdoors"
        assert product.image_url == first["Image"].split("|")[0] and product.source == "csv"
        variant = product.variants[0]
        assert (variant.id, variant.stock) == (f"{first['Uniq Id']}-1", 10)
        assert variant.price == Decimal(first["Selling Price"].lstrip("$"))
        ranged = next(r for r in rows if " - " in r["Selling Price"])
        low = ranged["Selling Price"].split(" - ")[0].lstrip("$").replace(",", "")
        assert fetch(s, Variant, f"{ranged['Uniq Id']}-1").price == Decimal(low)
        split = next(r for r in rows if r["Selling Price"].startswith("$ 19 99"))
        assert fetch(s, Variant, f"{split['Uniq Id']}-1").price == Decimal("19.99")  # shown as "$ 19 99"
        assert s.get(Product, rows[unpriced[0] - 1]["Uniq Id"]) is None


def test_csv_reimport_updates_a_changed_price(db, tmp_path):
    rows = read_csv_rows(require_shared("amazon_products_1000.csv"))[:25]
    path = write_csv_rows(tmp_path / "catalog.csv", rows)
    assert run_import(db, "csv", path).products.created == 25
    rows[3]["Selling Price"] = "$1,299.00"
    report = run_import(db, "csv", write_csv_rows(path, rows))
    assert (report.created, report.variants.updated, report.variants.unchanged) == (0, 1, 24)
    assert count(db, Variant) == 25
    with db.session() as s:
        assert fetch(s, Variant, f"{rows[3]['Uniq Id']}-1").price == Decimal("1299.00")


def test_csv_with_a_mapping_groups_variants_by_options(db, tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text(
        "Code,Label,Cost,Qty,Variant,Dept\n"
        "MUG,Stoneware Mug,$12.00,5,color=blue,Kitchen\n"
        'MUG,,"$13.50",0,color=red,\n'
        "MUG,,$13.50,lots,color=green,\n"
        "BAG,,$20.00,1,,Bags\n"
        "HAT,Sun Hat,$18.00,2,color,Apparel\n"
        "CAP,Cap,9,,,Apparel | Hats\n"
    )
    pairs = ["id=Code", "title=Label", "price=Cost", "stock=Qty", "options=Variant", "category=Dept"]
    options = ImportOptions(mapping=parse_mapping_pairs(pairs), default_stock=3)
    report = run_import(db, "csv", path, options=options)
    assert [(e.row, e.reason) for e in report.errors] == [
        (3, "Qty 'lots' is not a whole number"),
        (4, "title (Label) is missing"),
        (5, "option 'color' is not written name=value"),
    ]
    with db.session() as s:
        mug = fetch(s, Product, "MUG")
        assert (mug.title, mug.category) == ("Stoneware Mug", "Kitchen")
        assert [(v.id, v.options, v.price, v.stock) for v in mug.variants] == [
            ("MUG-1", {"color": "blue"}, Decimal("12.00"), 5),
            ("MUG-2", {"color": "red"}, Decimal("13.50"), 0),
        ]
        cap = fetch(s, Product, "CAP")
        assert (cap.category, cap.variants[0].stock) == ("Apparel", 3)


def test_csv_mapping_errors_are_clear(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Id,Name,Price\nA,Apple,1.00\nA,Apple again,2.00\n")
    report = run_import(db, "csv", path)
    assert [(e.row, e.reason) for e in report.errors] == [
        (2, "id 'A' repeats row 1 (map an options column for variants)")
    ]
    with pytest.raises(
        InvalidArgumentsError, match=r"Unknown mapping field.*colour.*Valid fields: id, title"
    ):
        run_import(db, "csv", path, options=ImportOptions(mapping={"colour": "Name"}))
    message = re.escape("no column 'Cost' (mapped to price). Its columns: Id, Name, Price")
    with pytest.raises(ImportFailedError, match=message):
        run_import(db, "csv", path, options=ImportOptions(mapping={"price": "Cost"}))
    with pytest.raises(ImportFailedError, match="no column found for title"):
        run_import(db, "csv", path, options=ImportOptions(mapping={"title": ""}))
    (tmp_path / "map.yaml").write_text("mapping:\n  title: Name\n  price: Price\n")
    assert load_mapping_file(tmp_path / "map.yaml") == {"title": "Name", "price": "Price"}
    with pytest.raises(InvalidArgumentsError, match="FIELD=COLUMN"):
        parse_mapping_pairs(["title"])
    (tmp_path / "latin1.csv").write_bytes("Id,Name,Price\nA,Caf\xe9,1\n".encode("latin-1"))
    with pytest.raises(ImportFailedError, match="not UTF-8"):
        run_import(db, "csv", tmp_path / "latin1.csv")


# Registry and values -------------------------------------------------------------------------


def test_registry_names_and_failures(db, tmp_path):
    with pytest.raises(UnknownNameError, match=re.escape("format 'xml'. Valid names: csv, shopify, tau")):
        run_import(db, "xml", SHOPIFY)
    with pytest.raises(RegistryError, match="'tau' is already registered"):
        ImporterRegistry([TauImporter(), TauImporter()])
    with pytest.raises(ImportFailedError, match="no such file"):
        run_import(db, "shopify", tmp_path / "missing.csv")
    with pytest.raises(ImportFailedError, match="is a directory"):
        run_import(db, "csv", tmp_path)
    with pytest.raises(InvalidArgumentsError, match="'tau' format takes no column mapping"):
        run_import(db, "tau", tmp_path, options=ImportOptions(mapping={"title": "Name"}))
    with pytest.raises(InvalidArgumentsError, match="default_stock"):
        ImportOptions(default_stock=-1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,299.00", "1299.00"),
        ("12", "12.00"),
        ("19.999", "20.00"),
        ("1299 USD", "1299.00"),
        (50.88, "50.88"),
    ],
)
def test_parse_money(text, expected):
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "$12.99 - $15.99", "NaN", True, "-5"])
def test_parse_money_rejects_malformed(text):
    with pytest.raises(RowRejected):
        parse_money(text)


def test_listed_price_takes_the_leading_amount():
    assert parse_listed_price("$12.99 - $15.99") == Decimal("12.99")
    assert parse_listed_price("$6.94 $ 6 . 94") == Decimal("6.94")
    for bad in ("Total price:", "12 pack", "19 99"):
        with pytest.raises(RowRejected, match=f"price '{bad}' is not an amount"):
            parse_listed_price(bad)
