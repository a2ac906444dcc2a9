"""The search index: builds, keeps up to date, repairs and queries the product and policy
collections.

The queries (exact codes, BM25, dense vectors, fused) are in :mod:`retrieval.query`; this class
owns the parts they read and their lifecycle: build, sync, live updates from the store, and
self-repair (:mod:`retrieval.repair`) with the store answering meanwhile
(:mod:`retrieval.fallback`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from core.config import RetrievalSettings
from core.errors import IndexClosedError
from retrieval.documents import ProductDocument, product_document
from retrieval.embeddings import Embedder
from retrieval.fallback import StoreSearch
from retrieval.filters import SearchFilters
from retrieval.hits import PolicyHit, ProductHit
from retrieval.lexical import LexicalIndex
from retrieval.policies import DEMO_POLICY_DIR, PolicyChunk, load_policy_pages
from retrieval.query import SEARCH_MODES, HybridQueries, SearchMode
from retrieval.repair import IndexRepair, IndexState, broken_file_errors, describe
from retrieval.vector import VectorStore
from store.db import Database
from store.models import Product, Variant

log = logging.getLogger(__name__)

# 3: products' BM25 moved from FTS5 to tantivy; 4: option flags in their own table;
# 5: docs.options (the flags as one string, which filters scanned) dropped.
SCHEMA_VERSION = "5"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    products: int
    policy_passages: int
    seconds: float

    @property
    def products_per_second(self) -> float:
        return self.products / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class SyncReport:
    updated: int
    deleted: int
    policy_passages: int | None = None  # set when the policy pages changed and were re-indexed


class SearchIndex(HybridQueries):
    def __init__(
        self,
        database: Database,
        embedder: Embedder,
        vectors: VectorStore,
        lexical: LexicalIndex,
        *,
        settings: RetrievalSettings,
        repair: IndexRepair,
        batch_size: int = 64,
    ) -> None:
        self.database = database
        self.embedder = embedder
        self.vectors = vectors
        self.lexical = lexical
        self.settings = settings
        self.repair = repair
        self.batch_size = batch_size
        self.fallback = StoreSearch(database, self.policy_dirs, candidates=settings.candidates)
        self._write_lock = threading.RLock()
        self._keyword_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keywords")
        self._brands: set[str] | None = None

    @property
    def manifest(self) -> dict[str, str]:
        return {"embedding_model": self.embedder.model_name, "schema_version": SCHEMA_VERSION}

    @property
    def policy_dirs(self) -> list[Path]:
        return list(self.settings.policy_dirs) or [DEMO_POLICY_DIR]

    # Lifecycle ----------------------------------------------------------------------------
    def mismatch(self) -> str | None:
        """Why the stored index cannot be used as is, or None."""
        stored = {key: self.lexical.get_meta(key) for key in self.manifest}
        vector_stored = self.vectors.stored_manifest()
        if all(value is None for value in stored.values()) and vector_stored is None:
            return None
        for key, expected in self.manifest.items():
            for where, found in (
                ("keyword index", stored.get(key)),
                ("vector index", (vector_stored or {}).get(key)),
            ):
                if found != expected:
                    return f"the {where} was built with {key}={found!r}, this build uses {expected!r}"
        documents, searchable = self.lexical.count(), self.lexical.keywords.count()
        if documents != searchable:
            return f"the keyword index holds {searchable} of the {documents} indexed products"
        return None

    def ensure_ready(self, progress: Progress | None = None, *, background: bool = False) -> str:
        """Make the index usable: rebuild on a mismatch or when empty, else catch up with the store.

        An unreadable index (found at open, or by a probe read of every part now) is moved aside
        and rebuilt; with ``background`` (the server) on the repair thread, searches answering
        from the store until it is done. Also warms the query path (e.g. the ONNX query
        encoder), so the first customer's search does not pay for it."""
        self.embedder.embed_query(text="warm up")
        broken = self.repair.pending
        if broken is None:
            broken = self.probe()
            if broken is not None:
                self.replace_broken(broken)
        if broken is not None:
            self.repair.pending = None
            if background:
                self.repair.rebuild_in_background(self)
                return f"rebuilding in the background ({broken}); searches answer from the store meanwhile"
            self.rebuild(progress)
            return f"rebuilt after a repair ({broken})"
        reason = self.mismatch()
        if reason is not None:
            log.warning("search index is stale (%s); rebuilding it from the store", reason)
            self.rebuild(progress, reuse_shared_vectors=True)
            return f"rebuilt: {reason}"
        if self.lexical.get_meta("built_at") is None:
            self.rebuild(progress, reuse_shared_vectors=True)
            return "built"
        report = self.sync(progress)
        pages = (
            "" if report.policy_passages is None else f", policy pages re-indexed ({report.policy_passages})"
        )
        return f"up to date ({report.updated} updated, {report.deleted} removed{pages})"

    def rebuild(self, progress: Progress | None = None, *, reuse_shared_vectors: bool = False) -> BuildReport:
        """Build the index from the store. ``reuse_shared_vectors``: a shared Chroma server built
        for this model keeps its vectors (another process built it), only missing or changed
        products are embedded, and this process builds its own keyword part."""
        started = time.perf_counter()
        began = datetime.now(UTC)
        with self._write_lock:
            # Vectors that other processes built on a shared Chroma server with this model stay
            # while they are overwritten: dropping them would empty those processes' searches.
            keep_vectors = self.vectors.shared and self.vectors.stored_manifest() == self.manifest
            # A process joining such a server embeds only what it lacks; a rebuild embeds all.
            reuse = reuse_shared_vectors and keep_vectors
            try:
                if not keep_vectors:
                    self.vectors.reset()
                self.lexical.reset()
            except broken_file_errors() as exc:  # too broken to empty: move it aside (`index --rebuild`)
                self.replace_broken(describe(exc))
            self.repair.pending = None
            with self.database.session() as session:
                ids = list(session.scalars(select(Product.id).order_by(Product.id)))
            self._index_products(ids, progress, force_embed=not reuse)
            if keep_vectors:
                self.vectors.delete_products(sorted(self.vectors.product_ids() - set(ids)))
            passages = self._index_policies(progress)
            self.lexical.set_meta(
                {**self.manifest, "built_at": began.isoformat(), "synced_at": began.isoformat()}
            )
            self._brands = None
        return BuildReport(len(ids), passages, time.perf_counter() - started)

    def _changed_since_last_sync(self) -> set[str]:
        """Ids of products whose row or variants changed since the last sync (by ``updated_at``)."""
        since_text = self.lexical.get_meta("synced_at")
        since = datetime.fromisoformat(since_text) - timedelta(seconds=2) if since_text else None
        query = select(Product.id)
        if since is not None:
            changed_variants = select(Variant.product_id).where(Variant.updated_at >= since)
            query = query.where(or_(Product.updated_at >= since, Product.id.in_(changed_variants)))
        with self.database.session() as session:
            return set(session.scalars(query))

    def sync(self, progress: Progress | None = None) -> SyncReport:
        """Catch up with every store change since the last sync (by ``updated_at``), deletions
        and changed policy pages."""
        began = datetime.now(UTC)
        with self._write_lock:
            changed = self._changed_since_last_sync()
            with self.database.session() as session:
                store_ids = set(session.scalars(select(Product.id)))
            indexed = self.lexical.product_ids()
            deleted = indexed - store_ids
            changed |= store_ids - indexed
            self.delete_products(deleted)
            self._index_products(sorted(changed), progress)
            policies = (
                self._index_policies(progress)
                if self._policy_digest() != self.lexical.get_meta("policy_digest")
                else None
            )
            self.lexical.set_meta({"synced_at": began.isoformat()})
        return SyncReport(len(changed), len(deleted), policies)

    def catch_up(self) -> int:
        """The cheap part of :meth:`sync`, for the commit hot path: re-index only what changed.

        It skips the full id comparison and the policy pages; a product deleted by a bulk
        statement stays indexed until the next :meth:`sync`, but search never returns it
        (results are read back from the store).
        """
        began = datetime.now(UTC)
        with self._write_lock:
            changed = self._changed_since_last_sync()
            self._index_products(sorted(changed), None)
            self.lexical.set_meta({"synced_at": began.isoformat()})
        return len(changed)

    def on_catalog_change(self, product_ids: set[str], bulk: bool) -> None:
        """Store listener: refresh what a committed transaction changed (during a repair's
        rebuild nothing: its closing sync catches up)."""
        if self.repair.state != "ok":
            return
        try:
            if bulk:
                self.catch_up()
            elif product_ids:
                self.refresh_products(product_ids)
        except Exception as exc:
            self._index_failed(exc)
            raise

    def refresh_products(self, product_ids: Iterable[str]) -> None:
        """Re-index these products now; ids no longer in the store are removed."""
        self._index_products(sorted(set(product_ids)), None)

    def delete_products(self, product_ids: Iterable[str]) -> None:
        ids = sorted(set(product_ids))
        if ids:
            with self._write_lock:
                self.vectors.delete_products(ids)
                self.lexical.delete_products(ids)
                self._brands = None

    def _index_products(
        self, ids: list[str], progress: Progress | None, *, force_embed: bool = False
    ) -> None:
        chunk = max(self.batch_size * 8, 256)
        done = 0
        for start in range(0, len(ids), chunk):
            if self.repair.closing.is_set():
                raise IndexClosedError("The search index was closed during a build")
            part = ids[start : start + chunk]
            with self.database.session() as session:
                products = list(
                    session.scalars(
                        select(Product).where(Product.id.in_(part)).options(selectinload(Product.variants))
                    )
                )
            documents = [product_document(p) for p in products]
            gone = set(part) - {d.product_id for d in documents}
            with self._write_lock:
                self.delete_products(gone)
                self._write_documents(documents, force_embed=force_embed)
                self._brands = None
            done += len(part)
            if progress is not None:
                progress("products", done, len(ids))

    def _write_documents(self, documents: list[ProductDocument], *, force_embed: bool) -> None:
        """Index what changed: re-embed changed text; same text, other metadata: update Chroma's
        metadata only; nothing changed: write nothing.

        The BM25 commit (an fsync-bound ~20 ms that releases the GIL) runs on its own thread
        while the texts are embedded and Chroma written; the SQLite rows, which hold the hashes
        that say what is indexed, are written last."""
        known = {} if force_embed else self.lexical.hashes(d.product_id for d in documents)
        changed = [d for d in documents if known.get(d.product_id) != (d.text_hash, d.meta_hash)]
        if not changed:
            return
        embed = [d for d in changed if known.get(d.product_id, ("", ""))[0] != d.text_hash]
        same_text = [d for d in changed if d.product_id in known and known[d.product_id][0] == d.text_hash]
        if self.vectors.shared and not force_embed:
            embed, same_text = self.vectors.not_stored_yet(embed, same_text)
        keywords = self._keyword_writer.submit(self.lexical.keywords.upsert, changed)
        try:
            if embed:
                vectors = self.embedder.embed_documents(
                    texts=[d.text for d in embed], batch_size=self.batch_size
                )
                self.vectors.upsert_products(
                    [d.product_id for d in embed],
                    vectors,
                    [d.text for d in embed],
                    [d.metadata() for d in embed],
                )
            if same_text:
                self.vectors.update_metadata(
                    [d.product_id for d in same_text], [d.metadata() for d in same_text]
                )
        finally:
            keywords.result()  # raises what the BM25 write raised, after the vector write settled
        self.lexical.upsert_rows(changed)

    def _policy_digest(self) -> str:
        digest = hashlib.sha1()
        for folder in self.policy_dirs:
            for path in sorted(Path(folder).glob("*.md")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def _index_policies(self, progress: Progress | None) -> int:
        chunks: list[PolicyChunk] = load_policy_pages(self.policy_dirs)
        vectors = self.embedder.embed_documents(texts=[c.text for c in chunks], batch_size=self.batch_size)
        self.vectors.replace_policies(
            [c.chunk_id for c in chunks], vectors, [c.text for c in chunks], [c.metadata() for c in chunks]
        )
        self.lexical.replace_policies((c.chunk_id, c.source, c.page, c.section, c.text) for c in chunks)
        self.lexical.set_meta({"policy_digest": self._policy_digest()})
        if progress is not None:
            progress("policies", len(chunks), len(chunks))
        return len(chunks)

    def status(self) -> dict[str, Any]:
        return {
            **self.manifest,
            "state": self.state,
            "products": self.lexical.count(),
            "policy_passages": self.lexical.policy_count(),
            "built_at": self.lexical.get_meta("built_at"),
            "synced_at": self.lexical.get_meta("synced_at"),
        }

    # Search -------------------------------------------------------------------------------
    def search_products(
        self, query: str, filters: SearchFilters | None = None, *, k: int = 10, mode: SearchMode = "hybrid"
    ) -> list[ProductHit]:
        """Products for a free-text query under structured filters.

        ``mode`` "bm25" or "dense" runs one retriever alone (for evaluation); "hybrid" fuses both
        and puts exact id/SKU matches first. While the index is rebuilt, or when it fails, the
        store's keyword search answers (``matched_by: ["store"]``).
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}")
        filters = filters or SearchFilters()
        if self.state == "ok":
            try:
                return self._search_products(query, filters, k, mode)
            except Exception as exc:
                self._index_failed(exc)
        return self.fallback.search_products(query, filters, k=k)

    def search_policies(self, query: str, *, k: int = 5) -> list[PolicyHit]:
        """Policy passages for a question (from the pages on disk while the index cannot)."""
        if self.state == "ok":
            try:
                return self._search_policies(query, k)
            except Exception as exc:
                self._index_failed(exc)
        return self.fallback.search_policies(query, k=k)

    # Repair -------------------------------------------------------------------------------
    @property
    def state(self) -> IndexState:
        """ "ok", "rebuilding" (searches answer from the store) or "failed" (a repair's rebuild
        failed; searches answer from the store until the next start or ``index --rebuild``)."""
        return self.repair.state

    def probe(self) -> str | None:
        """Why the index cannot answer (a read of each part raised), or None."""
        try:
            self.mismatch()
            vector = self.embedder.embed_query(text="probe")
            self.lexical.exact("probe")
            self.lexical.search_products("probe", SearchFilters(), 1)
            self.lexical.search_policies("probe", 1)
            self.vectors.probe(vector)
        except broken_file_errors() as exc:
            return describe(exc)
        return None

    def replace_broken(self, reason: str) -> None:
        """Close the broken parts, move their files aside and open empty ones in their place."""
        with self._write_lock:
            for part in (self.vectors, self.lexical):
                try:
                    part.close()
                except Exception as exc:
                    log.warning("closing a broken index part failed: %s", describe(exc))
            self.repair.move_aside(reason)
            self.lexical, self.vectors = self.repair.open()
            self._brands = None

    def _index_failed(self, exc: Exception) -> None:
        """A read or write on the index raised: the caller answers from the store; the repair
        thread probes the index and, if it is broken, moves it aside and rebuilds it."""
        log.error("the search index failed (%s); answering from the store", describe(exc), exc_info=exc)
        if self.state == "ok":
            self.repair.start("index-check", lambda: self.repair.check(self))

    def close(self) -> None:
        self.repair.close()
        self._keyword_writer.shutdown(wait=True)
        self.lexical.close()
        self.vectors.close()
        self.fallback.close()
