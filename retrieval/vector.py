"""Dense vectors in Chroma: an embedded ``PersistentClient`` by default, a Chroma server by URL.

Embeddings are computed by our own :class:`~retrieval.embeddings.Embedder` (Chroma's default
embedding function would try to download a model). Each collection's metadata records the
embedding model and the index schema version so a mismatch is detected at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

from retrieval.documents import ProductDocument

log = logging.getLogger(__name__)

T = TypeVar("T")

PRODUCTS = "shopassist-products"
POLICIES = "shopassist-policies"


def make_client(url: str | None, path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaConfig

    config = ChromaConfig(anonymized_telemetry=False, allow_reset=True)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=config,
        )
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=config)
    except Exception:
        _forget_system(str(path))
        raise


def _forget_system(identifier: str) -> None:
    """Drop the process-wide Chroma system cached for this path.

    chromadb caches one system per path before starting it; one that fails to start (a damaged
    ``chroma.sqlite3``) stays cached, and every later client for the path gets the broken one.
    Only this path's entry goes (``clear_system_cache`` would break every other open client)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_refcount.pop(identifier, None)
    system = SharedSystemClient._identifier_to_system.pop(identifier, None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # it never started
            log.debug("the failed Chroma system at %s did not stop cleanly", identifier)


class VectorStore:
    """The products and policies collections. ``shared``: on a Chroma server other Shopassist
    processes use and write too (their changes may be there already); another process may drop
    and recreate a collection (a rebuild after a model change), so a collection handle that has
    gone stale is fetched again once."""

    def __init__(self, client: Any, *, manifest: dict[str, str], shared: bool = False) -> None:
        self.client = client
        self.manifest = manifest
        self.shared = shared
        self._collections: dict[str, Any] = {}

    def _collection(self, name: str) -> Any:
        if name not in self._collections:
            self._collections[name] = self.client.get_or_create_collection(
                name, metadata={"hnsw:space": "cosine", **self.manifest}, embedding_function=None
            )
        return self._collections[name]

    def _use(self, name: str, action: Callable[[Any], T]) -> T:
        """``action(collection)``; when the collection was dropped behind this handle (by
        another process on the same server), once more on a fresh one."""
        from chromadb.errors import NotFoundError

        try:
            return action(self._collection(name))
        except NotFoundError:
            log.info("chroma collection %s was recreated elsewhere; fetching it again", name)
            self._collections.pop(name, None)
            return action(self._collection(name))

    def _drop(self, name: str) -> None:
        self._collections.pop(name, None)
        try:
            self.client.delete_collection(name)
        except Exception:  # chromadb raises NotFoundError / ValueError depending on version
            log.debug("collection %s was absent", name)

    def stored_manifest(self) -> dict[str, str] | None:
        """The manifest the products collection was built with, or None if it does not exist."""
        try:
            collection = self.client.get_collection(PRODUCTS, embedding_function=None)
        except Exception:  # chromadb raises NotFoundError / ValueError depending on version
            return None
        metadata = collection.metadata or {}
        return {key: str(metadata.get(key, "")) for key in self.manifest}

    def close(self) -> None:
        """Release the client; the last client of an embedded store stops Chroma's process-wide
        system for that path, so its files can be moved aside and a fresh store opened there."""
        self._collections.clear()
        self.client.close()

    def probe(self, vector: np.ndarray) -> None:
        """Read each collection that exists (one nearest neighbour); raises what a broken
        store raises. Creates nothing, so a fresh index still looks absent."""
        names = {getattr(c, "name", c) for c in self.client.list_collections()}
        for name in (PRODUCTS, POLICIES):
            if name in names:
                collection = self.client.get_collection(name, embedding_function=None)
                if collection.count():
                    collection.query(query_embeddings=[vector], n_results=1, include=["distances"])

    def reset(self) -> None:
        for name in (PRODUCTS, POLICIES):
            self._drop(name)

    def count(self) -> int:
        return int(self._use(PRODUCTS, lambda c: c.count()))

    def product_ids(self) -> set[str]:
        return set(self._use(PRODUCTS, lambda c: c.get(include=[])["ids"]))

    def upsert_products(
        self, ids: Sequence[str], embeddings: np.ndarray, documents: Sequence[str], metadatas: Sequence[dict]
    ) -> None:
        if ids:
            self._use(
                PRODUCTS,
                lambda c: c.upsert(
                    ids=list(ids), embeddings=embeddings, documents=list(documents), metadatas=list(metadatas)
                ),
            )

    def stored_products(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """The text and metadata stored for these products (those present)."""
        if not ids:
            return {}
        found = self._use(PRODUCTS, lambda c: c.get(ids=list(ids), include=["documents", "metadatas"]))
        return {
            pid: (text or "", dict(meta or {}))
            for pid, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        }

    def not_stored_yet(
        self, embed: Sequence[ProductDocument], same_text: Sequence[ProductDocument]
    ) -> tuple[list[ProductDocument], list[ProductDocument]]:
        """For a shared server, which may hold these products as they are already (the process
        that changed them wrote them; this one learns of the change from the store's feed): of
        the documents to embed and those to update the metadata of, what the server lacks."""
        stored = self.stored_products([d.product_id for d in (*embed, *same_text)])
        to_embed = [d for d in (*embed, *same_text) if d.product_id not in stored]
        to_embed += [d for d in embed if d.product_id in stored and stored[d.product_id][0] != d.text]
        embedded = {d.product_id for d in to_embed}
        to_update = [
            d
            for d in (*embed, *same_text)
            if d.product_id not in embedded and stored[d.product_id][1] != d.metadata()
        ]
        return to_embed, to_update

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict]) -> None:
        if ids:
            self._use(PRODUCTS, lambda c: c.update(ids=list(ids), metadatas=list(metadatas)))

    def delete_products(self, ids: Sequence[str]) -> None:
        if ids:
            self._use(PRODUCTS, lambda c: c.delete(ids=list(ids)))

    def search_products(
        self, vector: np.ndarray, limit: int, *, ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(product id, cosine similarity), nearest first; only among ``ids`` when given.

        Filters are not passed as a Chroma ``where``: its metadata filter costs ~5 ms per
        thousand matching products, so the index narrows by id instead (see SearchIndex)."""
        if ids is not None and not ids:
            return []
        result = self._use(
            PRODUCTS,
            lambda c: c.query(
                query_embeddings=[vector],
                n_results=limit,
                ids=list(ids) if ids is not None else None,
                include=["distances"],
            ),
        )
        found, distances = result["ids"][0], result["distances"][0]
        return [(pid, 1.0 - float(d)) for pid, d in zip(found, distances, strict=True)]

    def replace_policies(
        self, ids: Sequence[str], embeddings: np.ndarray, documents: Sequence[str], metadatas: Sequence[dict]
    ) -> None:
        """Make the policy passages exactly these: upsert them, then delete the others (in place,
        not by dropping the collection, which processes sharing a server are reading)."""
        if ids:
            self._use(
                POLICIES,
                lambda c: c.upsert(
                    ids=list(ids), embeddings=embeddings, documents=list(documents), metadatas=list(metadatas)
                ),
            )
        stale = set(self._use(POLICIES, lambda c: c.get(include=[])["ids"])) - set(ids)
        if stale:
            self._use(POLICIES, lambda c: c.delete(ids=sorted(stale)))

    def search_policies(self, vector: np.ndarray, limit: int) -> list[tuple[str, float]]:
        def query(collection: Any) -> Any:
            if collection.count() == 0:
                return None
            return collection.query(query_embeddings=[vector], n_results=limit, include=["distances"])

        result = self._use(POLICIES, query)
        if result is None:
            return []
        return [
            (cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0], strict=True)
        ]
