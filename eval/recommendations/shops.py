"""The shops the recommenders are evaluated on: a generated demo shop and the tau retail import.

The demo shop's order history is synthetic: its customers buy from latent tastes the generator
gave them (:mod:`tools.demo.tastes`). tau retail's orders come with the tau-bench data set
(also generated, by its authors; not a real shop's customers).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from eval.recommendations.runner import Progress, RecommendationReport, evaluate_store
from retrieval.embeddings import Embedder
from store.db import Database
from tools.demo import generate_demo_shop
from tools.importers import ImportOptions, run_import

ROOT = Path(__file__).resolve().parents[2]
TAU_SOURCE = ROOT.parent / "shared" / "data" / "tau_retail"


@dataclass(frozen=True)
class DemoSizes:
    products: int = 2000
    customers: int = 1000
    orders: int = 15000
    seed: int = 7


def _evaluate_in_temp(
    name: str,
    fill: Callable[[Database], None],
    *,
    synthetic: bool,
    embedder: Embedder | None,
    k: int,
    progress: Progress | None,
) -> RecommendationReport:
    with tempfile.TemporaryDirectory(prefix=f"rec-eval-{name}-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'shop.db'}")
        try:
            database.migrate()
            fill(database)
            return evaluate_store(
                name, database, synthetic=synthetic, embedder=embedder, k=k, progress=progress
            )
        finally:
            database.dispose()


def evaluate_demo(
    sizes: DemoSizes, *, embedder: Embedder | None, k: int = 10, progress: Progress | None = None
) -> RecommendationReport:
    def fill(database: Database) -> None:
        generate_demo_shop(
            database, products=sizes.products, customers=sizes.customers, orders=sizes.orders, seed=sizes.seed
        )

    return _evaluate_in_temp("demo", fill, synthetic=True, embedder=embedder, k=k, progress=progress)


def evaluate_tau(
    source: Path | None = None, *, embedder: Embedder | None, k: int = 10, progress: Progress | None = None
) -> RecommendationReport:
    folder = source or TAU_SOURCE
    if not (folder / "orders.json").is_file():
        raise ConfigError(f"the tau retail data is missing: {folder}/orders.json", key="source")

    def fill(database: Database) -> None:
        run_import(database, "tau", folder, options=ImportOptions(default_stock=10))

    return _evaluate_in_temp("tau", fill, synthetic=True, embedder=embedder, k=k, progress=progress)
