"""Index self-repair: a broken index is moved aside and rebuilt from the store while searches
answer from the store, at start and when a query finds the files broken later."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.errors import ConfigError
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.filters import SearchFilters
from retrieval.index import SearchIndex
from retrieval.repair import move_aside
from services import Services
from tests.index_damage import DAMAGED_FILE, DamagedShop, copy_shop
from tests.shop_fixture import PRODUCTS


@contextmanager
def held(index: SearchIndex) -> Iterator[None]:
    """Hold the index's write lock, so a background rebuild waits until the block ends (the
    window in which searches must answer from the store)."""
    with index._write_lock:
        yield


@pytest.fixture
def opened(damaged: DamagedShop, embedder: SentenceTransformerEmbedder) -> Iterator[Services]:
    services = Services.from_settings(damaged.settings, with_index=True, embedder=embedder)
    yield services
    services.close()


def test_a_damaged_index_is_moved_aside_searched_from_the_store_then_rebuilt(
    damaged: DamagedShop, opened: Services, caplog: pytest.LogCaptureFixture
):
    index = opened.index
    assert index is not None
    with held(index):
        report = index.ensure_ready(background=True)
        assert report.startswith("rebuilding in the background"), report
        assert index.state == "rebuilding"
        # The damaged files are kept aside for a look, the fresh index is empty.
        (copy,) = damaged.corrupt_copies()
        assert (copy / DAMAGED_FILE[damaged.kind]).exists()
        assert any("moved it aside" in r.getMessage() for r in caplog.get_records("setup"))
        # Searches answer from the store meanwhile: products with current prices, filters kept.
        hits = index.search_products("desk lamp")
        assert hits and hits[0].product_id == "P-LAMP" and hits[0].matched_by == ["store"]
        assert hits[0].min_price == 45
        assert index.search_products("desk lamp", SearchFilters(max_price=10)) == []
        policies = index.search_policies("how long do refunds take", k=3)
        assert policies and all(p.source.endswith(".md") for p in policies)
    assert index.repair.wait(120), "the rebuild did not finish"
    assert index.state == "ok"
    assert index.probe() is None
    assert index.status()["products"] == len(PRODUCTS)
    hits = index.search_products("desk lamp")
    assert hits[0].product_id == "P-LAMP" and {"bm25", "dense"} <= set(hits[0].matched_by)
    assert index.search_policies("how long do refunds take", k=3)


def test_a_damaged_index_is_rebuilt_in_place_without_background(opened: Services):
    """``shopassist index`` and ``search`` repair and rebuild before they go on."""
    index = opened.index
    assert index is not None
    assert index.ensure_ready().startswith("rebuilt after a repair")
    assert index.state == "ok" and index.status()["products"] == len(PRODUCTS)
    assert index.ensure_ready().startswith("up to date")


def test_a_query_that_finds_the_files_broken_falls_back_and_repairs(
    built_index_shop: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
):
    settings = copy_shop(built_index_shop, tmp_path / "data")
    services = Services.from_settings(settings, with_index=True, embedder=embedder)
    index = services.index
    assert index is not None
    try:
        assert index.ensure_ready().startswith("up to date")
        assert "bm25" in index.search_products("desk lamp")[0].matched_by
        with held(index):
            # The files break under the running index (its SQLite file, journal and shared memory).
            for path in settings.index_dir.glob("keyword.db*"):
                path.write_bytes(b"\x00broken" * (path.stat().st_size // 7 + 1))
            hits = index.search_products("desk lamp")
            assert hits[0].product_id == "P-LAMP" and hits[0].matched_by == ["store"]
        assert index.repair.wait(120)
        assert index.state == "ok"
        assert len(list(settings.data_dir.glob("index.corrupt-*"))) == 1
        assert {"bm25", "dense"} <= set(index.search_products("desk lamp")[0].matched_by)
    finally:
        services.close()


def test_a_passing_failure_moves_nothing(indexed: Services):
    """A check after a failed query that finds every part readable leaves the index alone."""
    index = indexed.index
    assert index is not None
    index.repair.check(index)
    assert index.state == "ok"
    assert not list(indexed.settings.data_dir.glob("index.corrupt-*"))


def test_only_the_newest_corrupt_copies_are_kept(tmp_path: Path):
    index_dir = tmp_path / "index"
    (index_dir / "onnx").mkdir(parents=True)
    made = []
    for n in range(4):
        (index_dir / "keyword.db").write_text(f"broken {n}")
        made.append(move_aside(index_dir, keep=2))
    assert (index_dir / "onnx").is_dir()  # the exported query encoder is a cache: it stays
    kept = sorted(tmp_path.glob("index.corrupt-*"))
    assert kept == made[2:]
    assert [(p / "keyword.db").read_text() for p in kept] == ["broken 2", "broken 3"]
    assert move_aside(index_dir, keep=2) is None  # nothing but the encoder left to move


def test_an_unreachable_chroma_server_is_reported_and_nothing_is_moved(
    built_index_shop: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
):
    """A server that does not answer is no broken file: the local keyword index stays."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings = copy_shop(built_index_shop, tmp_path / "data")
    chroma = settings.retrieval.chroma.model_copy(update={"url": f"http://127.0.0.1:{port}"})
    settings = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"chroma": chroma})}
    )
    with pytest.raises(ConfigError) as raised:
        Services.from_settings(settings, with_index=True, embedder=embedder)
    assert raised.value.context["key"] == "retrieval.chroma.url"
    assert not list(settings.data_dir.glob("index.corrupt-*"))
    assert (settings.index_dir / "keyword.db").exists()
