"""``shopassist copy-store``: a shop on the embedded SQLite files (the fixture shop, a
conversation, a Telegram update) moves to an empty PostgreSQL database through the real command
line; every table arrives whole, rows read back the same, new ids do not collide, and a second
copy into the now filled database is refused."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.sessions.schema import EVENTS, LOCKS, SESSIONS
from assistant.sessions.sql_store import SqlSessionStore
from connectors.telegram.inbox import UPDATES, UpdateInbox
from store.copy import row_counts, store_tables
from store.db import Database
from store.models import Base, Cart, CatalogChange, Order, Product, Variant
from tests.databases import NewPostgres
from tests.privacy.conftest import verified_conversation
from tests.shop_fixture import ALICE
from tests.shopassist.cli.process import run_cli


def _copy(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (data.parent / "config.yaml").write_text(f"data_dir: {data}\n")
    return run_cli(data.parent, "copy-store", *args, timeout=300)


@pytest.mark.slow
def test_a_sqlite_shop_moves_to_postgresql(
    tmp_path: Path, _template_db: Path, new_postgres: NewPostgres
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(_template_db, data / "shop.db")
    sessions = SqlSessionStore(f"sqlite:///{data / 'sessions.db'}", heartbeat=False)
    sid = verified_conversation(sessions)
    UpdateInbox(sessions.engine).record(4242, {"update_id": 4242, "message": {"text": "hi"}})
    target = new_postgres()

    copied = _copy(data, "--to", target, "--batch-size", "7")  # several batches per table
    assert copied.returncode == 0, copied.stderr
    assert "Copied" in copied.stdout and "conversation_events: " in copied.stdout

    source = Database(f"sqlite:///{data / 'shop.db'}")
    moved = Database(target)
    tables = store_tables(Base.metadata)
    source_counts = row_counts(source.engine, tables)
    assert row_counts(moved.engine, tables) == source_counts
    with moved.session() as after:  # the target's change feed names every product it received
        changed = set(after.scalars(sa.select(CatalogChange.product_id)))
        assert changed == set(after.scalars(sa.select(Product.id)))
    assert source_counts["variants"] > 7 and source_counts["orders"] > 0
    session_tables = [SESSIONS, EVENTS, LOCKS, UPDATES]
    assert row_counts(SqlSessionStore(target, heartbeat=False).engine, session_tables) == row_counts(
        sessions.engine, session_tables
    )
    with source.session() as before, moved.session() as after:
        for variant_id in ("V-SOCK-M", "V-SHOE-BL-9"):
            old, new = before.get(Variant, variant_id), after.get(Variant, variant_id)
            assert old is not None and new is not None
            assert (new.price, new.stock, new.options) == (old.price, old.stock, old.options)
            assert new.updated_at == old.updated_at.replace(tzinfo=UTC)  # SQLite drops the zone
        old_order, new_order = before.get(Order, "#W0000001"), after.get(Order, "#W0000001")
        assert old_order is not None and new_order is not None
        assert (
            new_order.status == old_order.status and new_order.shipping_address == old_order.shipping_address
        )
        assert [(i.variant_id, i.quantity, i.price) for i in new_order.items] == [
            (i.variant_id, i.quantity, i.price) for i in old_order.items
        ]
    moved_sessions = SqlSessionStore(target, heartbeat=False)
    assert moved_sessions.events(session_id=sid) == sessions.events(session_id=sid)
    assert moved_sessions.state(session_id=sid).customer_id == ALICE
    with moved.transaction() as session:  # the sequences moved past the copied ids
        cart = Cart(session_id="after-the-move")
        session.add(cart)
        session.flush()
        top = session.scalar(sa.select(sa.func.max(Cart.id)).where(Cart.session_id != "after-the-move"))
        assert cart.id > (top or 0)

    again = _copy(data, "--to", target)
    assert again.returncode == 2 and "is not empty" in again.stderr
    for opened in (source, moved):
        opened.dispose()
    for store in (sessions, moved_sessions):
        store.close()
