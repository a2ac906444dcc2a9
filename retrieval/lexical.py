"""The keyword side of the index: exact codes, filter values, and BM25 over products and policies.

Products' BM25 runs in tantivy (:mod:`retrieval.keywords`: top-k without scoring every match);
this SQLite file keeps what needs plain lookups: the index metadata, each product's filter
values and content hashes (``docs``), ids/SKUs for exact matches (``codes``) and the policy
passages, whose few hundred rows FTS5's built-in ``bm25()`` ranks. No hand-written scoring.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from retrieval.documents import ProductDocument, option_flag
from retrieval.filters import SearchFilters
from retrieval.keywords import ProductKeywords

TOKEN = re.compile(r"\w+", re.UNICODE)
# Column weights for bm25(): chunk_id and source (unindexed), page, section, text.
POLICY_WEIGHTS = "0.0, 0.0, 2.0, 3.0, 1.0"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    product_id TEXT PRIMARY KEY, category TEXT NOT NULL, brand TEXT NOT NULL,
    min_price REAL NOT NULL, max_price REAL NOT NULL, in_stock INTEGER NOT NULL,
    text_hash TEXT NOT NULL, meta_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_docs_brand ON docs (brand);
CREATE INDEX IF NOT EXISTS ix_docs_min_price ON docs (min_price);
CREATE INDEX IF NOT EXISTS ix_docs_max_price ON docs (max_price);
-- Covers a category's filters: its rows are never read from the table (~4x faster at 100k).
CREATE INDEX IF NOT EXISTS ix_docs_filter
    ON docs (category, in_stock, min_price, max_price, brand, product_id);
-- Covers checking given products against the filters (one b-tree descent per product, not two).
CREATE INDEX IF NOT EXISTS ix_docs_lookup
    ON docs (product_id, category, in_stock, min_price, max_price, brand);
-- Indexes built before 2026-12-02 also had this one; ix_docs_filter's prefix covers it.
DROP INDEX IF EXISTS ix_docs_category;
CREATE TABLE IF NOT EXISTS flags (
    flag TEXT NOT NULL, product_id TEXT NOT NULL, PRIMARY KEY (flag, product_id)
);
CREATE INDEX IF NOT EXISTS ix_flags_product ON flags (product_id);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT NOT NULL, product_id TEXT NOT NULL, PRIMARY KEY (code, product_id)
);
CREATE INDEX IF NOT EXISTS ix_codes_product ON codes (product_id);
"""
# Policy passages: also built in memory by the store fallback while the index is rebuilt.
POLICY_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS policy_fts USING fts5(
    chunk_id UNINDEXED, source UNINDEXED, page, section, text,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


def match_expression(query: str) -> str | None:
    """An FTS5 query matching any of the query's words (quoted, so no FTS syntax gets through)."""
    tokens = [t for t in TOKEN.findall(query.lower()) if len(t) > 1 or t.isdigit()]
    if not tokens:
        return None
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(tokens))


def filter_sql(filters: SearchFilters, *, whole_table: bool = False) -> tuple[str, list[object]]:
    """SQL conditions on the ``docs`` side table (index-time values; the store re-checks).

    ``whole_table``: the conditions select from all products rather than check given ones.
    Without a category to walk (the covering ``ix_docs_filter``), the first option's flag rows
    then drive the query: an EXISTS probe for each of 100,000 rows costs ~100 ms, the flag's
    list a few ms."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.category:
        clauses.append("d.category = ?")
        params.append(filters.category.lower())
    if filters.brand:
        clauses.append("d.brand = ?")
        params.append(filters.brand.lower())
    if filters.min_price is not None:
        clauses.append("d.max_price >= ?")
        params.append(float(filters.min_price))
    if filters.max_price is not None:
        clauses.append("d.min_price <= ?")
        params.append(float(filters.max_price))
    if filters.in_stock:
        clauses.append("d.in_stock = 1")
    for n, (name, value) in enumerate(filters.options.items()):
        if n == 0 and whole_table and not filters.category:
            clauses.append("d.product_id IN (SELECT product_id FROM flags WHERE flag = ?)")
        else:  # one probe of the flags key per candidate row
            clauses.append("EXISTS (SELECT 1 FROM flags f WHERE f.flag = ? AND f.product_id = d.product_id)")
        params.append(option_flag(name, value))
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


def search_policy_table(conn: sqlite3.Connection, query: str, limit: int) -> list[tuple[str, float]]:
    """(chunk id, BM25 score), best first, from a ``policy_fts`` table (``POLICY_SCHEMA``)."""
    expression = match_expression(query)
    if expression is None:
        return []
    sql = (
        f"SELECT chunk_id, bm25(policy_fts, {POLICY_WEIGHTS}) AS score FROM policy_fts "
        "WHERE policy_fts MATCH ? ORDER BY score LIMIT ?"
    )
    rows = conn.execute(sql, [expression, limit]).fetchall()
    return [(cid, -float(score)) for cid, score in rows]


class LexicalIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:  # a garbage file fails here ("file is not a database"), a broken tantivy index below
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA + POLICY_SCHEMA)
            self.keywords = ProductKeywords(path.parent / "keywords")
        except BaseException:
            self._conn.close()  # so the caller can move the files aside
            raise
        self._lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # Metadata -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, values: dict[str, str]) -> None:
        with self._tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    # Products -----------------------------------------------------------------------------
    def upsert_rows(self, documents: Iterable[ProductDocument]) -> None:
        """The SQLite rows (filter values, hashes, codes) of products whose BM25 entries
        (``self.keywords.upsert``) were written first: if this write then fails, the old hashes
        stay and the next sync writes both again."""
        with self._tx() as conn:
            for doc in documents:
                self._delete(conn, [doc.product_id])
                conn.execute(
                    "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc.product_id,
                        doc.category.lower(),
                        doc.brand.lower(),
                        doc.min_price,
                        doc.max_price,
                        int(doc.in_stock),
                        doc.text_hash,
                        doc.meta_hash,
                    ),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO codes VALUES (?, ?)", [(c, doc.product_id) for c in doc.codes]
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO flags VALUES (?, ?)",
                    [(f, doc.product_id) for f in doc.option_flags],
                )

    @staticmethod
    def _delete(conn: sqlite3.Connection, product_ids: list[str]) -> None:
        for table in ("docs", "codes", "flags"):
            conn.executemany(f"DELETE FROM {table} WHERE product_id = ?", [(p,) for p in product_ids])

    def delete_products(self, product_ids: Iterable[str]) -> None:
        ids = list(product_ids)
        self.keywords.delete(ids)
        with self._tx() as conn:
            self._delete(conn, ids)

    def reset(self) -> None:
        """Drop and recreate every table, so a rebuild also picks up a changed layout."""
        self.keywords.reset()
        with self._tx() as conn:  # product_fts: where schema version 2 kept products' BM25
            for table in ("meta", "docs", "codes", "flags", "product_fts", "policy_fts"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
        with self._lock:
            self._conn.executescript(SCHEMA + POLICY_SCHEMA)

    def product_ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._conn.execute("SELECT product_id FROM docs")}

    def hashes(self, product_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """product_id -> (text hash, metadata hash) of what is indexed now."""
        ids = list(product_ids)
        found: dict[str, tuple[str, str]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT product_id, text_hash, meta_hash FROM docs WHERE product_id IN ({marks})", chunk
                )
                found.update({pid: (text, meta) for pid, text, meta in rows.fetchall()})
        return found

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    def exact(self, query: str) -> list[str]:
        """Products whose id, variant id or SKU is the query (or one of its words)."""
        words = {query.strip().lower(), *(w.lower() for w in query.split())}
        words.discard("")
        if not words:
            return []
        marks = ",".join("?" * len(words))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT DISTINCT product_id FROM codes WHERE code IN ({marks}) ORDER BY product_id",
                list(words),
            )
            return [row[0] for row in rows]

    def search_products(self, query: str, filters: SearchFilters, limit: int) -> list[tuple[str, float]]:
        """(product id, BM25 score), best first; the filters apply inside the query."""
        return self.keywords.search(query, filters, limit)

    def count_matching(self, filters: SearchFilters) -> int:
        """How many indexed products the filters let through (cheap: no ids are read)."""
        return self.keywords.count(filters)

    def filtered_ids(self, filters: SearchFilters) -> list[str]:
        """Every indexed product the filters let through."""
        where, params = filter_sql(filters, whole_table=True)
        with self._lock:
            rows = self._conn.execute(f"SELECT d.product_id FROM docs d WHERE 1 = 1{where}", params)
            return [row[0] for row in rows]

    def passing(self, product_ids: list[str], filters: SearchFilters) -> set[str]:
        """Those of ``product_ids`` that the filters let through.

        Looked up by product id in the covering ``ix_docs_lookup`` (INDEXED BY: the planner would
        otherwise walk a category's thousands of rows once per chunk)."""
        where, params = filter_sql(filters)
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(product_ids), 500):
                chunk = product_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = (
                    "SELECT d.product_id FROM docs d INDEXED BY ix_docs_lookup "
                    f"WHERE d.product_id IN ({marks}){where}"
                )
                found.update(row[0] for row in self._conn.execute(sql, [*chunk, *params]))
        return found

    # Policies -----------------------------------------------------------------------------
    def replace_policies(self, chunks: Iterable[tuple[str, str, str, str, str]]) -> None:
        """(chunk_id, source, page, section, text) rows replace every policy passage."""
        with self._tx() as conn:
            conn.execute("DELETE FROM policy_fts")
            conn.executemany("INSERT INTO policy_fts VALUES (?, ?, ?, ?, ?)", list(chunks))

    def policy_chunks(self, chunk_ids: list[str]) -> dict[str, tuple[str, str, str, str]]:
        """chunk_id -> (source, page, section, text)."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        sql = f"SELECT chunk_id, source, page, section, text FROM policy_fts WHERE chunk_id IN ({marks})"
        with self._lock:
            return {row[0]: tuple(row[1:]) for row in self._conn.execute(sql, chunk_ids)}

    def policy_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM policy_fts").fetchone()[0])

    def brands_of(self, product_ids: list[str]) -> dict[str, str]:
        """product_id -> lower-cased brand, as indexed."""
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(product_ids), 500):
                chunk = product_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT product_id, brand FROM docs WHERE product_id IN ({marks})"
                found.update(dict(self._conn.execute(sql, chunk).fetchall()))
        return found

    def brands(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._conn.execute("SELECT DISTINCT brand FROM docs") if row[0]}

    def search_policies(self, query: str, limit: int) -> list[tuple[str, float]]:
        with self._lock:
            return search_policy_table(self._conn, query, limit)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
