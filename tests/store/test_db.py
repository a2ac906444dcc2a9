from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.models import Product, Variant

pytestmark = pytest.mark.databases


def test_migrate_creates_schema_and_keeps_data_on_second_run(empty_db_url):
    url = empty_db_url
    first = Database(url)
    assert first.current_revision() is None
    assert first.migrate() is True
    assert first.current_revision() == first.head_revision()
    tables = set(inspect(first.engine).get_table_names())
    assert {"products", "variants", "customers", "orders", "carts", "promotions"} <= tables
    with first.transaction() as session:
        product = Product(id="p1", title="Kettle", category="Kitchen")
        product.variants.append(Variant(id="v1", price=Decimal("19.90"), stock=4))
        session.add(product)
    first.dispose()

    second = Database(url)
    assert second.migrate() is False
    with second.session() as session:
        kept = session.get(Variant, "v1")
        assert kept is not None and kept.price == Decimal("19.90") and kept.stock == 4
    second.dispose()


def test_transaction_rolls_back_on_error(empty_db_url):
    database = Database(empty_db_url)
    database.migrate()
    try:
        with database.transaction() as session:
            session.add(Product(id="p1", title="Kettle", category="Kitchen"))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with database.session() as session:
        assert session.get(Product, "p1") is None


def test_foreign_keys_are_enforced(empty_db_url):
    database = Database(empty_db_url)
    database.migrate()
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(Variant(id="orphan", product_id="missing", price=Decimal("1"), stock=1))
    database.dispose()
