"""Evaluate product search on the labelled query set: recall@k, MRR and nDCG@k per search mode.

:func:`run_retrieval_eval` opens the configured store and its index (building or syncing it
first), resolves the labelled queries against the store and runs every query in each mode
(``bm25``, ``dense``, ``hybrid``). :func:`evaluate` does the measuring on an index you already
have. Nothing here prints; the CLI renders the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core.config import Settings
from core.errors import ShopassistError
from eval.retrieval.labels import (
    DEFAULT_QUERIES,
    QUERY_TYPES,
    Catalog,
    LabelledQuery,
    QuerySpec,
    load_queries,
    resolve,
)
from eval.retrieval.metrics import RELEVANT_GRADE, Scores
from retrieval.embeddings import Embedder
from retrieval.index import SEARCH_MODES, SearchIndex, SearchMode
from retrieval.service import open_search_index
from store.db import Database
from store.models import Product

Progress = Callable[[str, int, int], None]
EVAL_MODES: tuple[str, ...] = ("bm25", "dense", "hybrid")


class EvalNotReadyError(ShopassistError):
    """The store has nothing to evaluate against."""

    code = "eval_not_ready"


@dataclass(frozen=True)
class QueryResult:
    id: str
    type: str
    mode: str
    query: str
    scores: Scores
    top: list[str]
    relevant: int  # products graded >= RELEVANT_GRADE in the store


@dataclass(frozen=True)
class ModeReport:
    mode: str
    overall: Scores
    by_type: dict[str, Scores]
    mean_query_ms: float


@dataclass
class EvalReport:
    k: int
    products: int
    queries: int
    queries_by_type: dict[str, int]
    modes: list[ModeReport]
    results: list[QueryResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # queries with no relevant product in this store
    index_state: str = ""

    def mode(self, name: str) -> ModeReport:
        for report in self.modes:
            if report.mode == name:
                return report
        raise KeyError(name)

    def to_dict(self, *, per_query: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "k": self.k,
            "relevant_grade": RELEVANT_GRADE,
            "products": self.products,
            "queries": self.queries,
            "queries_by_type": self.queries_by_type,
            "index": self.index_state,
            "skipped": self.skipped,
            "modes": {
                m.mode: {
                    **m.overall.as_dict(),
                    "mean_query_ms": round(m.mean_query_ms, 2),
                    "by_type": {t: s.as_dict() for t, s in m.by_type.items()},
                }
                for m in self.modes
            },
        }
        if per_query:
            data["per_query"] = [{**asdict(r), "scores": r.scores.as_dict()} for r in self.results]
        return data


def evaluate(
    index: SearchIndex,
    queries: Sequence[LabelledQuery],
    *,
    k: int = 10,
    modes: Sequence[str] = EVAL_MODES,
    progress: Progress | None = None,
) -> tuple[list[ModeReport], list[QueryResult]]:
    """Run every query in every mode and score the rankings against the judgments.

    The query embeddings are computed once before any mode runs, so ``mean_query_ms`` compares
    the modes warm (the embedder caches query vectors); the benchmark measures cold queries.
    """
    unknown = [m for m in modes if m not in SEARCH_MODES]
    if unknown:
        raise ValueError(f"unknown search mode(s) {unknown}; choose from {', '.join(SEARCH_MODES)}")
    if any(mode != "bm25" for mode in modes):
        for done, query in enumerate(queries, start=1):
            index.embedder.embed_query(text=query.text)
            if progress is not None:
                progress("embed queries", done, len(queries))
    reports: list[ModeReport] = []
    results: list[QueryResult] = []
    for mode in modes:
        search_mode = cast(SearchMode, mode)
        mode_results: list[QueryResult] = []
        elapsed = 0.0
        for done, query in enumerate(queries, start=1):
            started = time.perf_counter()
            hits = index.search_products(query.text, query.filters, k=k, mode=search_mode)
            elapsed += time.perf_counter() - started
            ranking = [hit.product_id for hit in hits]
            relevant = sum(1 for grade in query.judgments.values() if grade >= RELEVANT_GRADE)
            mode_results.append(
                QueryResult(
                    id=query.id,
                    type=query.type,
                    mode=mode,
                    query=query.text,
                    scores=Scores.of(ranking, query.judgments, k),
                    top=ranking,
                    relevant=relevant,
                )
            )
            if progress is not None:
                progress(f"eval {mode}", done, len(queries))
        by_type = {
            kind: Scores.mean([r.scores for r in mode_results if r.type == kind])
            for kind in QUERY_TYPES
            if any(r.type == kind for r in mode_results)
        }
        reports.append(
            ModeReport(
                mode=mode,
                overall=Scores.mean([r.scores for r in mode_results]),
                by_type=by_type,
                mean_query_ms=1000 * elapsed / max(len(queries), 1),
            )
        )
        results.extend(mode_results)
    return reports, results


def count_products(database: Database) -> int:
    """Products in the store; 0 when the schema does not exist yet."""
    try:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(Product)) or 0)
    except OperationalError:
        return 0


def labelled_queries(database: Database, specs: Sequence[QuerySpec]) -> tuple[list[LabelledQuery], list[str]]:
    """The queries resolved against the store; queries with nothing relevant there are skipped."""
    resolved = resolve(specs, Catalog.load(database))
    usable = [q for q in resolved if any(g >= RELEVANT_GRADE for g in q.judgments.values())]
    skipped = [q.id for q in resolved if q not in usable]
    return usable, skipped


def run_retrieval_eval(
    settings: Settings,
    *,
    k: int = 10,
    modes: Sequence[str] = EVAL_MODES,
    query_file: Path = DEFAULT_QUERIES,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Evaluate the configured store's index on the labelled queries (see the module docstring)."""
    specs = load_queries(query_file)  # a malformed query file fails before anything slow happens
    database = Database(settings.database_url)
    try:
        products = count_products(database)
        if products == 0:
            raise EvalNotReadyError(
                f"The store at {settings.database_url} has no products to evaluate. The labelled "
                "queries are written for the demo shop: run `shopassist migrate` and "
                "`shopassist demo-data` (seed 7, default sizes) first.",
                store=settings.database_url,
            )
        queries, skipped = labelled_queries(database, specs)
        if not queries:
            raise EvalNotReadyError(
                "No labelled query has a relevant product in this store; the query set is written "
                "for the demo shop (`shopassist demo-data --replace` regenerates it).",
                skipped=len(skipped),
            )
        index = open_search_index(settings, database, embedder=embedder)
        try:
            state = index.ensure_ready(progress)
            reports, results = evaluate(index, queries, k=k, modes=modes, progress=progress)
        finally:
            index.close()
    finally:
        database.dispose()
    counts = {kind: sum(1 for q in queries if q.type == kind) for kind in QUERY_TYPES}
    return EvalReport(
        k=k,
        products=products,
        queries=len(queries),
        queries_by_type={kind: n for kind, n in counts.items() if n},
        modes=reports,
        results=results,
        skipped=skipped,
        index_state=state,
    )
