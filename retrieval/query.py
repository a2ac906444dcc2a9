"""The read side of :class:`~retrieval.index.SearchIndex`: hybrid product and policy queries
over whatever parts the index holds now (a repair swaps them).

Products are found by three retrievers: an exact lookup of ids/variant ids/SKUs, BM25 over the
product text (tantivy) and dense vectors (Chroma); their rankings are fused by reciprocal rank
fusion, a brand named in the query lifts that brand's products, and the survivors are read back
from the store so the prices and stock in results are the store's, at query time.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from core.config import RetrievalSettings
from retrieval.embeddings import Embedder
from retrieval.filters import SearchFilters
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.hits import PolicyHit, ProductHit
from retrieval.hydrate import hydrate_products
from retrieval.lexical import LexicalIndex
from retrieval.vector import VectorStore
from store.db import Database

SearchMode = Literal["hybrid", "bm25", "dense"]
SEARCH_MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")
# A filtered dense search asks Chroma for pool * catalog / matching * 1.5 neighbours of all
# products and keeps those the filters let through, while that is at most this many; a
# narrower filter restricts the search to the ids it lets through. At 100,000 products Chroma
# returns 1,000 neighbours in 6.5 ms and 4,000 in 21 ms, while a search restricted to ids
# costs ~22 ms whatever their number, plus reading them (2026-12-02).
MAX_OVERFETCH = 4000


class HybridQueries:
    """Mixed into ``SearchIndex``, which owns these parts and keeps them current."""

    database: Database
    embedder: Embedder
    lexical: LexicalIndex
    vectors: VectorStore
    settings: RetrievalSettings
    _brands: set[str] | None

    def _known_brands(self) -> set[str]:
        if self._brands is None:
            self._brands = self.lexical.brands()
        return self._brands

    def _search_products(
        self, query: str, filters: SearchFilters, k: int, mode: SearchMode
    ) -> list[ProductHit]:
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

    def _search_policies(self, query: str, k: int) -> list[PolicyHit]:
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
