"""The catalog change feed on SQLite and PostgreSQL: the triggers record every kind of write in
the writing transaction, a reader on another connection sees what was committed there, and a
change committed late with an earlier sequence number (PostgreSQL) is not skipped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update

from store.changes import ChangeFeed
from store.db import Database
from store.models import CatalogChange, Product, Variant
from tests.backends import new_postgres_database


@pytest.fixture
def postgres_store_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    return str(request.getfixturevalue("postgres_store_url"))


@pytest.fixture
def writer(store_url: str) -> Iterator[Database]:
    """The store as a writing process opens it (migrated), with two products."""
    db = Database(store_url)
    db.migrate()
    with db.transaction() as session:
        for pid, title in (("P-1", "Arc Desk Lamp"), ("P-2", "Summit Water Bottle")):
            session.add(
                Product(
                    id=pid,
                    title=title,
                    category="Home",
                    variants=[Variant(id=f"V-{pid}", price=Decimal("10.00"), stock=3)],
                )
            )
    yield db
    db.dispose()


@pytest.fixture
def reader(writer: Database) -> Iterator[Database]:
    """The same store opened again, as another process reading the feed would."""
    db = Database(writer.url)
    yield db
    db.dispose()


def _read(feed: ChangeFeed) -> set[str]:
    batch = feed.read()
    feed.advance(batch)
    return set(batch.product_ids)


def _logged(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(CatalogChange.product_id).order_by(CatalogChange.seq)))


def test_every_kind_of_catalog_write_is_logged_in_its_transaction(writer: Database) -> None:
    before = len(_logged(writer))
    assert before == 4  # the two products and their variants, as they were added
    with writer.transaction() as session:  # the ORM
        session.get(Product, "P-1").title = "Arc Floor Lamp"  # type: ignore[union-attr]
    with writer.engine.begin() as conn:  # a bulk statement outside any session
        conn.execute(update(Variant).where(Variant.product_id == "P-2").values(stock=0))
    with writer.engine.begin() as conn:  # plain SQL
        conn.execute(text("UPDATE products SET description = 'steel' WHERE id = 'P-2'"))
    assert _logged(writer)[before:] == ["P-1", "P-2", "P-2"]
    with writer.transaction() as session:  # moving a variant to another product names both
        session.get(Variant, "V-P-1").product_id = "P-2"  # type: ignore[union-attr]
    assert sorted(_logged(writer)[before + 3 :]) == ["P-1", "P-2"]

    with pytest.raises(RuntimeError), writer.transaction() as session:
        session.get(Product, "P-1").title = "never committed"  # type: ignore[union-attr]
        session.flush()
        raise RuntimeError("rolled back")
    assert len(_logged(writer)) == before + 5  # a rolled-back write leaves no row

    with writer.engine.begin() as conn:  # a deletion, its variants going by the cascade
        conn.execute(delete(Product).where(Product.id == "P-2"))
    assert set(_logged(writer)[before + 5 :]) == {"P-2"}


def test_a_reader_on_another_connection_sees_each_committed_change_once(
    writer: Database, reader: Database
) -> None:
    feed = ChangeFeed(reader)
    assert _read(feed) == {"P-1", "P-2"}  # from the start of the log
    assert _read(feed) == set()
    with writer.transaction() as session:
        session.get(Product, "P-2").title = "Summit Thermos"  # type: ignore[union-attr]
    with writer.transaction() as session:
        session.delete(session.get(Product, "P-1"))
    assert _read(feed) == {"P-1", "P-2"}
    assert _read(feed) == set() and feed.gaps == {}
    assert feed.cursor == feed.last == max(seq for seq in _seqs(reader))


def _seqs(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.scalars(select(CatalogChange.seq)))


def test_an_unread_batch_is_read_again(writer: Database, reader: Database) -> None:
    """A batch whose re-indexing failed is not advanced past: the next read returns it again."""
    feed = ChangeFeed(reader, batch_size=3)
    first = feed.read()
    again = feed.read()
    # The same rows; the snapshot horizons (xmin, horizon) are the server's transaction ids,
    # which other sessions on the same PostgreSQL server move on between the two reads.
    assert replace(again, xmin=first.xmin, horizon=first.horizon) == first
    assert len(first.seqs) == 3 and first.more
    feed.advance(first)
    second = feed.read()
    assert second.seqs.isdisjoint(first.seqs) and len(second.seqs) == 1 and not second.more


def test_the_feed_starts_after_the_rows_older_than_its_margin(writer: Database, reader: Database) -> None:
    with writer.engine.begin() as conn:  # the four rows of the seeding, an hour old
        conn.execute(update(CatalogChange).values(changed_at=func.current_timestamp()))
        old = conn.scalar(select(CatalogChange.changed_at).limit(1))
        conn.execute(update(CatalogChange).values(changed_at=old - timedelta(hours=1)))
    with writer.transaction() as session:
        session.get(Product, "P-2").title = "Summit Thermos"  # type: ignore[union-attr]
    feed = ChangeFeed.start(reader, start_margin=timedelta(minutes=1))
    assert _read(feed) == {"P-2"}
    assert feed.prune(older_than=timedelta(minutes=30)) == 4
    assert _logged(reader) == ["P-2"]


def test_a_change_committed_late_with_an_earlier_number_is_not_skipped(
    postgres_store_url: str,
) -> None:
    """PostgreSQL: transaction A takes seq n, B takes n+1 and commits first. The reader sees
    n+1 and a gap at n; the gap stays pending while A runs, A's row is read once it commits,
    and a gap left by a rolled-back transaction is given up once that transaction has ended."""
    writer = Database(postgres_store_url)
    writer.migrate()
    reader = Database(postgres_store_url)
    try:
        with writer.transaction() as session:
            session.add_all(
                [Product(id=pid, title=pid, category="Home") for pid in ("P-LATE", "P-SOON", "P-UNDONE")]
            )
        feed = ChangeFeed(reader)
        _read(feed)
        with writer.engine.connect() as late, writer.engine.connect() as undone:
            late.execute(update(Product).where(Product.id == "P-LATE").values(title="late"))
            undone.execute(update(Product).where(Product.id == "P-UNDONE").values(title="undone"))
            with writer.engine.begin() as soon:
                soon.execute(update(Product).where(Product.id == "P-SOON").values(title="soon"))
            assert _read(feed) == {"P-SOON"}
            assert len(feed.gaps) == 2 and feed.cursor < feed.last
            assert _read(feed) == set() and len(feed.gaps) == 2  # both still running
            late.commit()
            undone.rollback()
        assert _read(feed) == {"P-LATE"}
        # The rolled-back number is final once every transaction running when it was seen has
        # ended: at once here, unless another test on the same server holds one open a moment.
        deadline = time.monotonic() + 30
        while feed.gaps and time.monotonic() < deadline:
            assert _read(feed) == set()
            time.sleep(0.05)
        assert feed.gaps == {} and feed.cursor == feed.last
    finally:
        reader.dispose()
        writer.dispose()
