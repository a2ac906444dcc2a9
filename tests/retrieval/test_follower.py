"""The catalog follower keeps a real index (Chroma + tantivy + MiniLM) current with writes made
through another connection to the store, as another process's writes arrive: no listener of
this process sees them, only the store's change feed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import update

from retrieval.follower import CatalogFollower
from retrieval.index import SearchIndex
from services import Services
from store.db import Database
from store.models import Product, Variant


def ids(hits) -> list[str]:
    return [h.product_id for h in hits]


@pytest.fixture
def other_process(indexed: Services) -> Iterator[Database]:
    """The same store opened again, without this process's index listening to it."""
    db = Database(indexed.database.url)
    yield db
    db.dispose()


@pytest.fixture
def follower(indexed: Services) -> CatalogFollower:
    assert indexed.follower is not None, "the feed is on by default"
    return indexed.follower


def test_a_rename_and_a_deletion_elsewhere_reach_the_index_at_the_next_poll(
    index: SearchIndex, follower: CatalogFollower, other_process: Database
) -> None:
    follower.poll()  # what the start-up window re-reads
    with other_process.transaction() as session:
        session.get(Product, "P-SOCK").title = "Merino Marathon Socks"  # type: ignore[union-attr]
        kettle = Product(id="P-KETTLE", title="Gooseneck Pour-Over Kettle", category="Kitchen")
        session.add(kettle)
        kettle.variants.append(Variant(id="V-KET", price=Decimal("59.00"), stock=4))
    assert "P-SOCK" not in ids(index.search_products("marathon", mode="bm25"))
    assert follower.poll() == 2
    assert ids(index.search_products("marathon", mode="bm25"))[0] == "P-SOCK"
    assert ids(index.search_products("gooseneck kettle", mode="dense"))[0] == "P-KETTLE"

    with other_process.transaction() as session:
        session.delete(session.get(Product, "P-KETTLE"))
    assert "P-KETTLE" in index.lexical.product_ids()
    assert follower.poll() == 1
    assert "P-KETTLE" not in index.lexical.product_ids()
    assert "P-KETTLE" not in ids(index.search_products("gooseneck kettle"))
    assert follower.poll() == 0


def test_the_follower_thread_applies_a_change_when_woken(
    index: SearchIndex, follower: CatalogFollower, other_process: Database
) -> None:
    """The hook a change notification calls: the thread reads at once, not at the interval's end
    (the interval here is an hour, so only the wake can have done it)."""
    follower.interval = 3600.0
    follower.start()
    polls = follower.polls
    with other_process.engine.begin() as conn:  # a bulk statement, as a script would run it
        conn.execute(update(Product).where(Product.id == "P-BOTTLE").values(title="Summit Thermos"))
    follower.wake()
    deadline = time.monotonic() + 30
    while "P-BOTTLE" not in ids(index.search_products("thermos", mode="bm25")):
        assert time.monotonic() < deadline, "the woken follower did not apply the rename"
        time.sleep(0.05)
    assert follower.polls > polls and follower.failures == 0


def test_while_the_index_rebuilds_the_feed_waits(
    index: SearchIndex, follower: CatalogFollower, other_process: Database
) -> None:
    follower.poll()
    with other_process.transaction() as session:
        session.get(Product, "P-SOCK").title = "Merino Marathon Socks"  # type: ignore[union-attr]
    index.repair.state = "rebuilding"
    assert follower.poll() == 0
    index.repair.state = "ok"
    assert follower.poll() == 1  # nothing was marked read meanwhile
    assert ids(index.search_products("marathon", mode="bm25"))[0] == "P-SOCK"


def test_no_follower_when_the_feed_is_off(index_settings, embedder) -> None:
    retrieval = index_settings.retrieval.model_copy(update={"feed_interval_seconds": 0})
    settings = index_settings.model_copy(update={"retrieval": retrieval})
    services = Services.from_settings(settings, with_index=True, embedder=embedder)
    try:
        assert services.follower is None
        services.follow_catalog()  # nothing to start
    finally:
        services.close()
