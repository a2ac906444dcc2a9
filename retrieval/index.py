"""The search index: builds, keeps up to date and queries the product and policy collections.

Products are found by three retrievers: an exact lookup of ids/variant ids/SKUs, BM25 over the
product text (tantivy) and dense vectors (Chroma); their rankings are fused by reciprocal
rank fusion, a brand named in the query lifts that brand's products, and the survivors are read
back from the store so the prices and stock in results are the store's, at query time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from core.config import RetrievalSettings
from retrieval.documents import ProductDocument, product_document
from retrieval.embeddings import Embedder
from retrieval.filters import SearchFilters
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.hits import PolicyHit, ProductHit
from retrieval.hydrate import hydrate_products
from retrieval.lexical import LexicalIndex
from retrieval.policies import DEMO_POLICY_DIR, PolicyChunk, load_policy_pages
from retrieval.vector import VectorStore
from store.db import Database
from store.models import Product, Variant

log = logging.getLogger(__name__)

# 3: products' BM25 moved from FTS5 to tantivy; 4: option flags in their own table;
# 5: docs.options (the flags as one string, which filters scanned) dropped.
SCHEMA_VERSION = "5"
SearchMode = Literal["hybrid", "bm25", "dense"]
SEARCH_MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")
Progress = Callable[[str, int, int], None]
# A filtered dense search asks Chroma for pool * catalog / matching * 1.5 neighbours of all
# products and keeps those the filters let through, while that is at most this many; a
# narrower filter restricts the search to the ids it lets through. At 100,000 products Chroma
# returns 1,000 neighbours in 6.5 ms and 4,000 in 21 ms, while a search restricted to ids
# costs ~22 ms whatever their number, plus reading them (2026-12-02).
MAX_OVERFETCH = 4000


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


class SearchIndex:
    def __init__(
        self,
        database: Database,
        embedder: Embedder,
        vectors: VectorStore,
        lexical: LexicalIndex,
        *,
        settings: RetrievalSettings,
        batch_size: int = 64,
    ) -> None:
        self.database = database
        self.embedder = embedder
        self.vectors = vectors
        self.lexical = lexical
        self.settings = settings
        self.batch_size = batch_size
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

    def ensure_ready(self, progress: Progress | None = None) -> str:
        """Make the index usable: rebuild on a mismatch or when empty, else catch up with the store.

        Also warms the query path (e.g. the ONNX query encoder), so the first customer's search
        does not pay for it."""
        self.embedder.embed_query(text="warm up")
        reason = self.mismatch()
        if reason is not None:
            log.warning("search index is stale (%s); rebuilding it from the store", reason)
            self.rebuild(progress)
            return f"rebuilt: {reason}"
        if self.lexical.get_meta("built_at") is None:
            self.rebuild(progress)
            return "built"
        report = self.sync(progress)
        pages = (
            "" if report.policy_passages is None else f", policy pages re-indexed ({report.policy_passages})"
        )
        return f"up to date ({report.updated} updated, {report.deleted} removed{pages})"

    def rebuild(self, progress: Progress | None = None) -> BuildReport:
        started = time.perf_counter()
        began = datetime.now(UTC)
        with self._write_lock:
            self.vectors.reset()
            self.lexical.reset()
            with self.database.session() as session:
                ids = list(session.scalars(select(Product.id).order_by(Product.id)))
            self._index_products(ids, progress, force_embed=True)
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
        """Store listener: refresh what a committed transaction changed."""
        if bulk:
            self.catch_up()
        elif product_ids:
            self.refresh_products(product_ids)

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
            "products": self.lexical.count(),
            "policy_passages": self.lexical.policy_count(),
            "built_at": self.lexical.get_meta("built_at"),
            "synced_at": self.lexical.get_meta("synced_at"),
        }

    # Search -------------------------------------------------------------------------------
    def _known_brands(self) -> set[str]:
        if self._brands is None:
            self._brands = self.lexical.brands()
        return self._brands

    def search_products(
        self, query: str, filters: SearchFilters | None = None, *, k: int = 10, mode: SearchMode = "hybrid"
    ) -> list[ProductHit]:
        """Products for a free-text query under structured filters.

        ``mode`` "bm25" or "dense" runs one retriever alone (for evaluation); "hybrid" fuses both
        and puts exact id/SKU matches first.
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}")
        filters = filters or SearchFilters()
        query = query.strip()
        if not query:
            return []
        pool = max(self.settings.candidates, k * 3)
        exact = self.lexical.exact(query) if mode == "hybrid" else []
        lexical: list[str] = []
        dense: list[str] = []
        if mode in ("hybrid", "bm25"):
            lexical = [pid for pid, _ in self.lexical.search_products(query, filters, pool)]
        if mode in ("hybrid", "dense"):
            vector = self.embedder.embed_query(text=query)
            floor = self.settings.dense_min_similarity
            dense = [pid for pid, sim in self._dense_candidates(vector, filters, pool) if sim >= floor]
        fused = reciprocal_rank_fusion([r for r in (lexical, dense) if r], k=self.settings.rrf_k)
        lowered = f" {' '.join(query.lower().split())} "
        brands = {b for b in self._known_brands() if f" {b} " in lowered} if mode == "hybrid" else set()
        sources = {"bm25": set(lexical), "dense": set(dense), "exact": set(exact)}
        if brands:  # a brand named in the query lifts that brand's products
            boost = 1.0 / self.settings.rrf_k
            indexed_brands = self.lexical.brands_of([pid for pid, _ in fused])
            fused = sorted(
                (
                    (pid, score + (boost if indexed_brands.get(pid) in brands else 0.0))
                    for pid, score in fused
                ),
                key=lambda pair: -pair[1],
            )
        ranked = [(pid, 2.0 + 1.0 / (i + 1)) for i, pid in enumerate(exact)]
        ranked += [(pid, score) for pid, score in fused if pid not in sources["exact"]]
        return hydrate_products(self.database, ranked, filters, k=k, sources=sources, query=query)

    def _dense_candidates(self, vector: Any, filters: SearchFilters, pool: int) -> list[tuple[str, float]]:
        """The ``pool`` nearest products that the filters let through (index-time values)."""
        if filters.is_empty():
            return self.vectors.search_products(vector, pool)
        total = self.lexical.count_matching(SearchFilters())
        matching = self.lexical.count_matching(filters)
        if matching == 0:
            return []
        fetch = min(total, math.ceil(pool * total / matching * 1.5))
        if fetch <= MAX_OVERFETCH:
            nearest = self.vectors.search_products(vector, fetch)
            allowed = self.lexical.passing([pid for pid, _ in nearest], filters)
            return [(pid, sim) for pid, sim in nearest if pid in allowed][:pool]
        return self.vectors.search_products(vector, pool, ids=self.lexical.filtered_ids(filters))

    def search_policies(self, query: str, *, k: int = 5) -> list[PolicyHit]:
        pool = max(self.settings.candidates // 2, k * 3)
        lexical = [cid for cid, _ in self.lexical.search_policies(query, pool)]
        vector = self.embedder.embed_query(text=query)
        floor = self.settings.dense_min_similarity
        dense = [cid for cid, sim in self.vectors.search_policies(vector, pool) if sim >= floor]
        fused = reciprocal_rank_fusion([lexical, dense], k=self.settings.rrf_k)[:k]
        stored = self.lexical.policy_chunks([cid for cid, _ in fused])
        hits = []
        for cid, score in fused:
            if cid in stored:
                source, page, section, text = stored[cid]
                hits.append(
                    PolicyHit(chunk_id=cid, page=page, source=source, section=section, text=text, score=score)
                )
        return hits

    def close(self) -> None:
        self._keyword_writer.shutdown(wait=True)
        self.lexical.close()
