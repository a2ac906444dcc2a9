"""Benchmark the search index on demo shops of given sizes: build, query latency, one-product updates.

For each size, in a temporary data directory: generate the demo shop (seed 7), build the index
(products/s), warm up, then time hybrid searches of the labelled queries (repeated to at least
``min_timings`` timings) with the query embedding computed every time (the embedder's query
cache is bypassed; a cached figure is reported beside it), and time ``refresh_products`` after
one product's price change (no re-embedding), title change (re-embedding) and deletion.
Timings use :func:`time.perf_counter`; percentiles are numpy's (linear interpolation).

:func:`reuse_shop` times the queries and updates again on a shop an earlier run kept
(``--keep``), without generating or building: for measuring a query-side change at 100,000
products without another hour of embedding. Its report has no build figures.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from core.config import ChromaSettings, Settings, StoreSettings
from eval.retrieval.labels import DEFAULT_QUERIES, QuerySpec, StoreCodes, load_queries, resolve_text
from retrieval.embeddings import Embedder, ProgressFn
from retrieval.filters import SearchFilters
from retrieval.index import SearchIndex
from retrieval.service import load_embedder, open_search_index
from store.db import Database
from store.models import Product, Variant
from tools.demo import generate_demo_shop

Progress = Callable[[str, int, int], None]

# Targets the report is read against (ms).
QUERY_P50_TARGET_MS = 25.0
QUERY_P95_TARGET_MS = 60.0
UPDATE_TARGET_MS = 100.0


class UncachedQueries:
    """An :class:`Embedder` that embeds every query afresh (the wrapped one caches them).

    The text is normalized as :class:`~retrieval.embeddings.SentenceTransformerEmbedder` does
    before encoding, so the vectors are the same, only never served from the cache.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_documents(
        self, *, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn | None = None
    ) -> np.ndarray:
        return self.inner.embed_documents(texts=texts, batch_size=batch_size, progress=progress)

    def embed_query(self, *, text: str) -> np.ndarray:
        uncached = getattr(self.inner, "embed_query_uncached", None)
        if uncached is not None:  # the query path the index really uses (ONNX or torch)
            vector: np.ndarray = uncached(text=text)
            return vector
        normalized = " ".join(text.lower().split())
        return self.inner.embed_documents(texts=[normalized], batch_size=1)[0]


@dataclass(frozen=True)
class Check:
    name: str
    value_ms: float
    target_ms: float

    @property
    def passed(self) -> bool:
        return self.value_ms < self.target_ms


@dataclass
class SizeReport:
    products: int
    variants: int
    generate_seconds: float | None  # None: a kept shop was reused, nothing was built
    build_seconds: float | None
    build_products_per_second: float | None
    distinct_queries: int
    query_timings: int
    query_p50_ms: float
    query_p95_ms: float
    query_mean_ms: float
    cached_query_p50_ms: float
    embed_p50_ms: float  # the query embedding alone: the machine's speed, to compare runs by
    update_repetitions: int
    update_price_p50_ms: float
    update_title_p50_ms: float
    delete_p50_ms: float
    kept_at: str | None = None  # the shop's data directory, when kept for inspection

    def checks(self) -> list[Check]:
        return [
            Check("hybrid query p50", self.query_p50_ms, QUERY_P50_TARGET_MS),
            Check("hybrid query p95", self.query_p95_ms, QUERY_P95_TARGET_MS),
            Check("update: price (p50)", self.update_price_p50_ms, UPDATE_TARGET_MS),
            Check("update: title, re-embed (p50)", self.update_title_p50_ms, UPDATE_TARGET_MS),
            Check("update: delete (p50)", self.delete_p50_ms, UPDATE_TARGET_MS),
        ]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()
        }
        data["checks"] = [
            {**asdict(c), "value_ms": round(c.value_ms, 3), "passed": c.passed} for c in self.checks()
        ]
        return data


@dataclass
class BenchReport:
    embedding_model: str
    cpu_count: int
    sizes: list[SizeReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "embedding_model": self.embedding_model,
            "cpu_count": self.cpu_count,
            "targets_ms": {
                "query_p50": QUERY_P50_TARGET_MS,
                "query_p95": QUERY_P95_TARGET_MS,
                "one_product_update": UPDATE_TARGET_MS,
            },
            "sizes": [size.to_dict() for size in self.sizes],
        }


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))


def pick_queries(specs: Sequence[QuerySpec], limit: int | None) -> list[QuerySpec]:
    """``limit`` queries spread evenly over the set (which is grouped by type), or all."""
    if limit is None or limit >= len(specs):
        return list(specs)
    step = len(specs) / limit
    return [specs[int(i * step)] for i in range(limit)]


def _time_searches(
    index: SearchIndex, queries: Sequence[tuple[str, SearchFilters]], minimum: int
) -> list[float]:
    rounds = max(1, -(-minimum // max(len(queries), 1)))
    timings: list[float] = []
    for _ in range(rounds):
        for text, filters in queries:
            started = time.perf_counter()
            index.search_products(text, filters, k=10, mode="hybrid")
            timings.append(time.perf_counter() - started)
    return timings


def _timed_refresh(index: SearchIndex, product_id: str) -> float:
    started = time.perf_counter()
    index.refresh_products([product_id])
    return time.perf_counter() - started


def _time_updates(database: Database, index: SearchIndex, repetitions: int) -> tuple[float, float, float]:
    """p50 seconds of refresh_products after a price change, a title change and a deletion."""
    with database.session() as session:
        ids = list(session.scalars(select(Product.id).order_by(Product.id)))
    if len(ids) < 2:
        raise ValueError("the update benchmark needs at least 2 products")
    target = ids[len(ids) // 2]
    doomed = [pid for pid in ids[:: max(1, len(ids) // (repetitions + 1))] if pid != target][:repetitions]
    price, title, delete = [], [], []
    for i in range(repetitions):
        with database.transaction() as session:
            variant = session.scalars(select(Variant).where(Variant.product_id == target).limit(1)).one()
            variant.price = variant.price + (Decimal("0.01") if i % 2 == 0 else Decimal("-0.01"))
        price.append(_timed_refresh(index, target))
        with database.transaction() as session:
            product = session.get(Product, target)
            assert product is not None
            base = product.title.split(" (rev ")[0]
            product.title = f"{base} (rev {i + 1})"
        title.append(_timed_refresh(index, target))
    for pid in doomed:
        with database.transaction() as session:
            product = session.get(Product, pid)
            if product is not None:
                session.delete(product)
        delete.append(_timed_refresh(index, pid))
    return percentile_ms(price, 50), percentile_ms(title, 50), percentile_ms(delete, 50)


def bench_size(
    settings: Settings,
    products: int,
    embedder: Embedder,
    specs: Sequence[QuerySpec],
    *,
    min_timings: int = 200,
    update_repetitions: int = 20,
    progress: Progress | None = None,
    work_dir: Path | None = None,
    keep: bool = False,
) -> SizeReport:
    """One size, measured in a temporary data directory that is deleted afterwards (unless
    ``keep``: then it stays, with the index as the update timings left it)."""
    prefix = f"shopassist-bench-{products}-"
    place = (
        nullcontext(tempfile.mkdtemp(prefix=prefix, dir=work_dir))
        if keep
        else tempfile.TemporaryDirectory(prefix=prefix, dir=work_dir)
    )
    with place as tmp:
        local = _local_settings(settings, Path(tmp))
        database = Database(local.database_url)
        database.migrate()
        started = time.perf_counter()
        shop = generate_demo_shop(database, products=products, seed=7, progress=progress)
        generated = time.perf_counter() - started
        uncached = UncachedQueries(embedder)
        index = open_search_index(local, database, embedder=uncached)
        try:
            build = index.rebuild(progress)
            timed = _measure(database, index, embedder, specs, min_timings, update_repetitions)
        finally:
            index.close()
            database.dispose()
    return SizeReport(
        products=shop.products,
        variants=shop.variants,
        generate_seconds=generated,
        build_seconds=build.seconds,
        build_products_per_second=build.products_per_second,
        update_repetitions=update_repetitions,
        kept_at=tmp if keep else None,
        **timed,
    )


class KeptShopError(ValueError):
    """The directory is not a usable kept benchmark shop."""


def reuse_shop(
    settings: Settings,
    shop_dir: Path,
    embedder: Embedder,
    specs: Sequence[QuerySpec],
    *,
    min_timings: int = 200,
    update_repetitions: int = 20,
) -> SizeReport:
    """Time queries and updates on a shop kept by an earlier run (``--keep``); nothing is built.
    The updates change it (as they did the first time)."""
    if not (shop_dir / "shop.db").is_file() or not (shop_dir / "index" / "keyword.db").is_file():
        raise KeptShopError(f"{shop_dir} is not a kept benchmark shop (no shop.db and index/keyword.db)")
    local = _local_settings(settings, shop_dir)
    database = Database(local.database_url)
    index = open_search_index(local, database, embedder=UncachedQueries(embedder))
    try:
        reason = index.mismatch()
        if reason is not None or index.lexical.get_meta("built_at") is None:
            raise KeptShopError(
                f"the kept shop's index cannot be reused ({reason or 'it was never built'}); "
                "run the benchmark without --reuse"
            )
        with database.session() as session:
            products = session.scalar(select(func.count()).select_from(Product)) or 0
            variants = session.scalar(select(func.count()).select_from(Variant)) or 0
        timed = _measure(database, index, embedder, specs, min_timings, update_repetitions)
    finally:
        index.close()
        database.dispose()
    return SizeReport(
        products=products,
        variants=variants,
        generate_seconds=None,
        build_seconds=None,
        build_products_per_second=None,
        update_repetitions=update_repetitions,
        kept_at=str(shop_dir),
        **timed,
    )


def _local_settings(settings: Settings, data_dir: Path) -> Settings:
    """The settings with the shop and index in ``data_dir`` (embedded Chroma, SQLite store)."""
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "store": StoreSettings(),
            "retrieval": settings.retrieval.model_copy(update={"chroma": ChromaSettings()}),
        }
    )


def _measure(
    database: Database,
    index: SearchIndex,
    embedder: Embedder,
    specs: Sequence[QuerySpec],
    min_timings: int,
    update_repetitions: int,
) -> dict[str, Any]:
    """Query and update timings on a built index (its embedder bypasses the query cache)."""
    uncached = index.embedder
    codes = StoreCodes(database)
    queries = [(resolve_text(s, codes)[0], s.filters or SearchFilters()) for s in specs]
    for text, filters in queries:  # warm-up: SQLite pages, Chroma segments, torch kernels
        index.search_products(text, filters, k=10, mode="hybrid")
    timings = _time_searches(index, queries, min_timings)
    index.embedder = embedder  # the caching embedder: repeated queries skip the model
    _time_searches(index, queries, 1)
    cached = _time_searches(index, queries, min_timings)
    index.embedder = uncached
    embeds = []
    for text, _filters in queries:  # pure model time, the same at any catalog size
        started = time.perf_counter()
        uncached.embed_query(text=text)
        embeds.append(time.perf_counter() - started)
    price, title, delete = _time_updates(database, index, update_repetitions)
    return {
        "distinct_queries": len(queries),
        "query_timings": len(timings),
        "query_p50_ms": percentile_ms(timings, 50),
        "query_p95_ms": percentile_ms(timings, 95),
        "query_mean_ms": float(np.mean(timings)) * 1000.0,
        "cached_query_p50_ms": percentile_ms(cached, 50),
        "embed_p50_ms": percentile_ms(embeds, 50),
        "update_price_p50_ms": price,
        "update_title_p50_ms": title,
        "delete_p50_ms": delete,
    }


def run_benchmark(
    settings: Settings,
    sizes: Sequence[int] = (2000,),
    *,
    max_queries: int | None = None,
    min_timings: int = 200,
    update_repetitions: int = 20,
    query_file: Path = DEFAULT_QUERIES,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    work_dir: Path | None = None,
    keep: bool = False,
    reuse: Path | None = None,
) -> BenchReport:
    """Benchmark each catalog size in turn (the embedding model is loaded once); with ``reuse``,
    only that kept shop, without building (see :func:`reuse_shop`)."""
    specs = pick_queries(load_queries(query_file), max_queries)
    model = embedder or load_embedder(settings)
    report = BenchReport(embedding_model=model.model_name, cpu_count=os.cpu_count() or 1)
    if reuse is not None:
        report.sizes.append(
            reuse_shop(
                settings, reuse, model, specs, min_timings=min_timings, update_repetitions=update_repetitions
            )
        )
        return report
    for size in sizes:
        report.sizes.append(
            bench_size(
                settings,
                size,
                model,
                specs,
                min_timings=min_timings,
                update_repetitions=update_repetitions,
                progress=progress,
                work_dir=work_dir,
                keep=keep,
            )
        )
    return report
