"""A full or read-only database raises the hierarchy's storage errors, and the transaction that
hit them leaves nothing behind. "Full" is SQLite's own size limit (``PRAGMA max_page_count``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.sessions.events import UserMessage
from assistant.sessions.sql_store import SqlSessionStore
from core.errors import StorageFullError, StorageUnavailableError
from store.db import Database
from store.failures import check_writable, storage_error
from store.models import Customer


def _cap_size(engine: sa.Engine) -> None:
    """Every new connection may not grow the database past its current size."""
    with engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)

    @sa.event.listens_for(engine, "connect")
    def _limit(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    engine.dispose()


def test_a_full_store_raises_storage_full_and_writes_nothing(tmp_path: Path, _template_db: Path) -> None:
    shutil.copy(_template_db, tmp_path / "shop.db")
    database = Database(f"sqlite:///{tmp_path / 'shop.db'}")
    try:
        with database.session() as session:
            before = session.query(Customer).count()
        _cap_size(database.engine)
        with pytest.raises(StorageFullError) as caught, database.transaction() as session:
            session.add(Customer(id="c-full", first_name="Fill", last_name="Up", email="full@example.com"))
            session.flush()
            session.execute(sa.text("CREATE TABLE padding (x BLOB)"))
            session.execute(sa.text("INSERT INTO padding VALUES (zeroblob(1000000))"))
        assert caught.value.http_status == 507 and caught.value.context["store"] == "store"
        assert "nothing was changed" in caught.value.message
        with database.session() as session:
            assert session.query(Customer).count() == before
            assert session.get(Customer, "c-full") is None
    finally:
        database.dispose()


def test_a_full_conversation_store_raises_storage_full_and_appends_nothing(tmp_path: Path) -> None:
    store = SqlSessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    try:
        sid = store.create(channel="web")
        store.append(session_id=sid, events=[UserMessage(text="hello", channel="web")])
        _cap_size(store.engine)
        with pytest.raises(StorageFullError):
            store.append(
                session_id=sid, events=[UserMessage(text="x" * 2000, channel="web") for _ in range(200)]
            )
        assert [e.event.text for e in store.events(session_id=sid)] == ["hello"]  # type: ignore[union-attr]
    finally:
        store.engine.dispose()


def test_a_read_only_database_raises_storage_unavailable(tmp_path: Path, _template_db: Path) -> None:
    shutil.copy(_template_db, tmp_path / "shop.db")
    database = Database(f"sqlite:///file:{tmp_path / 'shop.db'}?mode=ro&uri=true")
    try:
        with pytest.raises(StorageUnavailableError) as caught, database.transaction() as session:
            session.add(Customer(id="c-ro", first_name="Read", last_name="Only", email="ro@example.com"))
        assert caught.value.http_status == 503
    finally:
        database.dispose()


def test_check_writable_names_the_database_and_the_reason(tmp_path: Path, _template_db: Path) -> None:
    shutil.copy(_template_db, tmp_path / "shop.db")
    check_writable(f"sqlite:///{tmp_path / 'shop.db'}")  # writable: no error
    check_writable(f"sqlite:///{tmp_path / 'new' / 'sessions.db'}", what="sessions")  # created
    url = f"sqlite:///file:{tmp_path / 'shop.db'}?mode=ro&uri=true"
    with pytest.raises(
        StorageUnavailableError, match=r"The store database .*shop\.db.* cannot be written: .*readonly"
    ):
        check_writable(url)


def test_other_errors_are_left_to_their_callers() -> None:
    import sqlite3

    assert storage_error(sqlite3.OperationalError("database is locked")) is None
    assert storage_error(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    assert isinstance(storage_error(OSError(28, "No space left on device")), StorageFullError)
