"""`retrieval.chroma.url` switches the index to a real Chroma server with no other change, and
several Shopassist processes (here two ``Services``, each with its own data directory and keyword
index, over one store) share it.

The server is the `chroma run` that ships with the chromadb package, on a loopback port (the
``chroma_server`` fixture of tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.filters import SearchFilters
from services import Services
from store.models import Product


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


class CountingEmbedder:
    """The real embedder, counting the texts it embeds for the index (queries not counted)."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_documents(self, *, texts: list[str], **kwargs: Any) -> Any:
        self.texts += list(texts)
        return self.inner.embed_documents(texts=texts, **kwargs)

    def embed_query(self, **kwargs: Any) -> Any:
        return self.inner.embed_query(**kwargs)


def test_two_processes_share_the_server_without_embedding_twice(
    index_settings: Settings, embedder: SentenceTransformerEmbedder, chroma_server: str, tmp_path: Path
) -> None:
    """A joins first and builds the vectors; B, a second process on the same store and server,
    builds only its keyword part, and learns A's rename from the change feed without
    embedding the product again (A wrote the server)."""
    retrieval = index_settings.retrieval.model_copy(
        update={"chroma": index_settings.retrieval.chroma.model_copy(update={"url": chroma_server})}
    )
    settings_a = index_settings.model_copy(update={"retrieval": retrieval})
    (tmp_path / "b").mkdir()
    settings_b = settings_a.model_copy(
        update={
            "data_dir": tmp_path / "b",
            "store": settings_a.store.model_copy(update={"url": settings_a.database_url}),
        }
    )
    counted = CountingEmbedder(embedder)
    a = Services.from_settings(settings_a, with_index=True, embedder=embedder)
    b = Services.from_settings(settings_b, with_index=True, embedder=counted)
    try:
        assert a.index.ensure_ready() == "built"
        b.index.ensure_ready()
        policy_passages = b.index.lexical.policy_count()
        assert len(counted.texts) == policy_passages  # no product embedded: the server had them
        assert b.index.lexical.count() == a.index.vectors.count() == 5

        with a.database.transaction() as session:
            session.get(Product, "P-SOCK").title = "Merino Marathon Socks"
        counted.texts.clear()
        assert b.follower.poll() >= 1
        assert counted.texts == []
        assert b.index.search_products("marathon", mode="bm25")[0].product_id == "P-SOCK"
        assert b.index.search_products("merino marathon socks", mode="dense")[0].product_id == "P-SOCK"
    finally:
        b.close()
        a.close()


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
