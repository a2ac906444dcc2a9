"""Speed of the recommender at scale: training time and the tool's latency per request.

A demo shop of the asked size is generated into a temporary SQLite store; the model is trained
from it (ALS, blend choice) and ``recommend_for_customer`` is timed through the tool executor,
as a chat turn calls it: half the requests for verified customers (their purchases read from
the store), half for visitors with two viewed products. Text vectors of 100,000 products take
hours to embed on 2 cores, so by default they are random unit vectors of the embedding model's
dimension: the same arithmetic per request, no meaning (this is a speed figure only).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from services import Services
from tools.base import ToolContext
from tools.demo import generate_demo_shop
from tools.recommend.data import load_catalog, load_purchases
from tools.recommend.model import MODEL_DIR
from tools.recommend.training import train

Progress = Callable[[str, int, int], None]
RANDOM_DIMENSION = 384  # all-MiniLM-L6-v2's


@dataclass(frozen=True)
class RecommendationBench:
    products: int
    customers: int
    orders: int
    purchase_lines: int
    cpu_count: int
    generate_seconds: float
    load_seconds: float
    fit_seconds: float
    total_train_seconds: float
    blend_preset: str
    requests: int
    p50_ms: float
    p95_ms: float
    customer_p50_ms: float
    visitor_p50_ms: float
    content: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RandomVectors:
    """Unit vectors drawn at random (seeded): the cost of text vectors without embedding."""

    model_name = "random-unit-vectors"
    dimension = RANDOM_DIMENSION

    def embed_documents(self, *, texts: Any, batch_size: int = 64, progress: Any = None) -> np.ndarray:
        rng = np.random.default_rng(7)
        vectors = rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, *, text: str) -> np.ndarray:
        return self.embed_documents(texts=[text])[0]


def run_bench(
    *,
    products: int,
    customers: int,
    orders: int,
    requests: int = 400,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> RecommendationBench:
    notify = progress or (lambda stage, done, total: None)
    with tempfile.TemporaryDirectory(prefix="rec-bench-", dir=work_dir) as folder:
        settings = Settings(
            data_dir=Path(folder),
            policy={"secret_key": "recommend-bench-secret-0123456789"},
            logging={"level": "WARNING"},
        )
        services = Services.from_settings(settings)
        try:
            started = time.perf_counter()
            generate_demo_shop(
                services.database,
                products=products,
                customers=customers,
                orders=orders,
                progress=lambda stage, done, total: notify(f"generate {stage}", done, total),
            )
            generated = time.perf_counter() - started
            started = time.perf_counter()
            with services.database.session() as session:
                catalog = load_catalog(session)
                purchases = load_purchases(session)
            loaded = time.perf_counter() - started
            notify("train", 0, 1)
            model = train(catalog, purchases, embedder=RandomVectors())
            model.save(settings.data_dir / MODEL_DIR)
            notify("train", 1, 1)
            buyers = sorted({p.customer_id for p in purchases})
            rng = random.Random(7)
            timings: dict[str, list[float]] = {"customer": [], "visitor": []}
            for n in range(requests + 10):
                if n % 2 == 0:
                    kind, ctx, args = "customer", ToolContext(customer_id=rng.choice(buyers)), {}
                else:
                    viewed = rng.sample(catalog.ids, 2)
                    kind, ctx, args = "visitor", ToolContext(), {"viewed_product_ids": viewed}
                began = time.perf_counter()
                services.executor.run("recommend_for_customer", args | {"limit": 5}, ctx=ctx)
                if n >= 10:  # the first requests load the model
                    timings[kind].append((time.perf_counter() - began) * 1000)
                notify("requests", n + 1, requests + 10)
        finally:
            services.close()
    every = sorted(timings["customer"] + timings["visitor"])
    return RecommendationBench(
        products=len(catalog.ids),
        customers=len(buyers),
        orders=orders,
        purchase_lines=len(purchases),
        cpu_count=os.cpu_count() or 1,
        generate_seconds=round(generated, 1),
        load_seconds=round(loaded, 2),
        fit_seconds=float(model.meta["fit_seconds"]),
        total_train_seconds=float(model.meta["total_seconds"]),
        blend_preset=str(model.meta["blend_preset"]),
        requests=len(every),
        p50_ms=round(statistics.median(every), 2),
        p95_ms=round(every[int(0.95 * (len(every) - 1))], 2),
        customer_p50_ms=round(statistics.median(timings["customer"]), 2),
        visitor_p50_ms=round(statistics.median(timings["visitor"]), 2),
        content=RandomVectors.model_name,
    )
