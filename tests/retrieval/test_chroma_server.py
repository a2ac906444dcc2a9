"""`retrieval.chroma.url` switches the index to a real Chroma server with no other change, and
several Shopassist processes (here two ``Services``, each with its own data directory and keyword
index, over one store) share it.

The server is the `chroma run` that ships with the chromadb package, on a loopback port (the
``chroma_server`` fixture of tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.filters import SearchFilters
from services import Services


def _on_server(settings: Settings, url: str, **update: object) -> Settings:
    retrieval = settings.retrieval.model_copy(
        update={"chroma": settings.retrieval.chroma.model_copy(update={"url": url})}
    )
    return settings.model_copy(update={"retrieval": retrieval, **update})


def test_index_on_a_chroma_server(
    index_settings: Settings, embedder: SentenceTransformerEmbedder, chroma_server: str
) -> None:
    settings = _on_server(index_settings, chroma_server)
    services = Services.from_settings(settings, with_index=True, embedder=embedder)
    try:
        assert services.index is not None
        assert services.index.ensure_ready() == "built"
        assert not (settings.index_dir / "chroma").exists()  # vectors live on the server
        assert services.index.vectors.count() == 5
        hit = services.index.search_products("something to light my desk", mode="dense")[0]
        assert hit.product_id == "P-LAMP" and hit.matched_by == ["dense"]
        # Filtered: a narrow filter searches by id on the server, a broad one over-fetches.
        narrow = services.index.search_products(
            "something to keep my drinks cold", SearchFilters(category="outdoor"), mode="dense"
        )
        assert [h.product_id for h in narrow] == ["P-BOTTLE"]
        broad = services.index.search_products(
            "something to keep my drinks cold", SearchFilters(in_stock=True), mode="dense"
        )
        assert broad[0].product_id == "P-BOTTLE" and all(h.in_stock for h in broad)
    finally:
        services.close()


@pytest.mark.slow
def test_two_processes_share_one_chroma_server(
    index_settings: Settings, embedder: SentenceTransformerEmbedder, chroma_server: str, tmp_path: Path
) -> None:
    """A second node joins (its own data directory, so an empty keyword index, over the same
    store) while the first serves: its build overwrites the shared vectors in place instead of
    dropping them, so the first node's dense searches keep answering from the server, during
    and after the join; and when collections are dropped and recreated, the first node's next
    search fetches them again."""
    first = _on_server(index_settings, chroma_server)
    store = first.store.model_copy(update={"url": first.database_url})
    second = _on_server(first, chroma_server, data_dir=tmp_path / "second-node", store=store)
    query = "something to light my desk"
    a = Services.from_settings(first, with_index=True, embedder=embedder)
    try:
        assert a.index is not None
        assert a.index.ensure_ready() == "built"
        assert a.index.search_products(query, mode="dense")[0].product_id == "P-LAMP"
        b = Services.from_settings(second, with_index=True, embedder=embedder)
        try:
            assert b.index is not None
            assert b.index.ensure_ready().startswith("rebuilt")  # its own keyword index was empty
            assert b.index.vectors.count() == a.index.vectors.count() == 5
            for node in (b, a):
                assert node.index is not None
                hits = node.index.search_products(query, mode="dense")
                assert hits[0].product_id == "P-LAMP" and hits[0].matched_by == ["dense"]
                passages = node.index.search_policies("how long do refunds take")
                assert passages and passages[0].source == "returns.md"
            assert a.index.state == "ok"
            # A rebuild that must drop the collections (as after a change of embedding model):
            # the first node's handles go stale and are fetched again on its next search.
            b.index.vectors.reset()
            b.index.rebuild()
            hits = a.index.search_products(query, mode="dense")
            assert hits[0].product_id == "P-LAMP" and hits[0].matched_by == ["dense"]
            assert a.index.search_policies("how long do refunds take")[0].source == "returns.md"
        finally:
            b.close()
    finally:
        a.close()
