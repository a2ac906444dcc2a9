"""Search without the index, for while a broken index is rebuilt or a query on it failed.

Products come from the store's own rows (:mod:`store.keyword_search`, SQL LIKE) and are read
back like indexed results (:func:`retrieval.hydrate.hydrate_products`: current prices, stock and
filters), marked ``matched_by=["store"]``. Policy passages come from the pages on disk, split
as the index splits them, in an in-memory FTS5 table ranked by the same ``bm25()``: a few
hundred passages load in milliseconds, so policy answers need nothing of the broken files.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from retrieval.filters import SearchFilters
from retrieval.hits import PolicyHit, ProductHit
from retrieval.hydrate import hydrate_products
from retrieval.lexical import POLICY_SCHEMA, search_policy_table
from retrieval.policies import load_policy_pages
from store.db import Database
from store.keyword_search import keyword_products, search_terms
from store.models import Product


class StoreSearch:
    def __init__(self, database: Database, policy_dirs: list[Path], *, candidates: int) -> None:
        self.database = database
        self.policy_dirs = policy_dirs
        self.candidates = candidates
        self._lock = threading.Lock()
        self._policies: sqlite3.Connection | None = None

    def search_products(self, query: str, filters: SearchFilters, *, k: int) -> list[ProductHit]:
        """The best ``k`` products naming the query's words that pass the filters."""
        terms = search_terms(query)
        if not terms:
            return []
        ranking = keyword_products(
            terms,
            category=filters.category,
            brand=filters.brand,
            min_price=filters.min_price,
            max_price=filters.max_price,
            in_stock_only=filters.in_stock,
        ).with_only_columns(Product.id)
        with self.database.session() as session:
            ids = list(session.scalars(ranking.limit(max(self.candidates, k * 4))))
        ranked = [(pid, 1.0 / (rank + 1)) for rank, pid in enumerate(ids)]
        return hydrate_products(self.database, ranked, filters, k=k, sources={"store": set(ids)}, query=query)

    def search_policies(self, query: str, *, k: int) -> list[PolicyHit]:
        with self._lock:
            conn = self._policy_table()
            found = search_policy_table(conn, query, k)
            rows = {
                row[0]: row[1:]
                for row in conn.execute(
                    f"SELECT chunk_id, source, page, section, text FROM policy_fts "
                    f"WHERE chunk_id IN ({','.join('?' * len(found))})",
                    [cid for cid, _ in found],
                )
            }
        hits = []
        for cid, score in found:
            source, page, section, text = rows[cid]
            hits.append(
                PolicyHit(chunk_id=cid, source=source, page=page, section=section, text=text, score=score)
            )
        return hits

    def _policy_table(self) -> sqlite3.Connection:
        """The policy passages in memory, loaded at the first question (then kept: the pages
        change rarely, and the rebuilt index re-reads them)."""
        if self._policies is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            conn.executescript(POLICY_SCHEMA)
            conn.executemany(
                "INSERT INTO policy_fts VALUES (?, ?, ?, ?, ?)",
                [
                    (c.chunk_id, c.source, c.page, c.section, c.text)
                    for c in load_policy_pages(self.policy_dirs)
                ],
            )
            self._policies = conn
        return self._policies

    def close(self) -> None:
        with self._lock:
            if self._policies is not None:
                self._policies.close()
                self._policies = None
