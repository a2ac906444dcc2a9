"""The catalogs the variant questions are asked on: the demo shop and imported ones.

Each catalog is built once into a folder (store and search index) the questions then run
against. Imported catalogs come from files a shop would have: tau retail's JSON, a CSV export of
Amazon listings and a Shopify product export.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import ConfigError, UnknownNameError
from eval.shops import build_index
from retrieval.embeddings import Embedder
from store.db import Database
from tools.demo import generate_demo_shop
from tools.importers import ImportOptions, run_import

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
SECRET = "questions-eval-secret-key-0123456789"


@dataclass(frozen=True)
class Catalog:
    name: str
    description: str
    default_source: Path | None
    fill: Callable[[Database, Path | None], None]


def _importer(format: str) -> Callable[[Database, Path | None], None]:
    def fill(database: Database, source: Path | None) -> None:
        if source is None or not source.exists():
            raise ConfigError(f"the {format} catalog file is missing: {source}", key="source")
        run_import(database, format, source, options=ImportOptions(default_stock=10))

    return fill


def _demo(database: Database, source: Path | None) -> None:
    generate_demo_shop(database, products=300, customers=5, orders=5)


CATALOGS = {
    c.name: c
    for c in (
        Catalog("demo", "the generated demo shop (300 products)", None, _demo),
        Catalog("tau", "tau retail (JSON)", SHARED_DATA / "tau_retail", _importer("tau")),
        Catalog(
            "amazon",
            "1,000 Amazon listings (CSV)",
            SHARED_DATA / "amazon_products_1000.csv",
            _importer("csv"),
        ),
        Catalog(
            "shopify",
            "a Shopify product export",
            ROOT / "tests" / "fixtures" / "shopify_products.csv",
            _importer("shopify"),
        ),
    )
}


def catalog(name: str) -> Catalog:
    found = CATALOGS.get(name)
    if found is None:
        raise UnknownNameError("catalog", name, CATALOGS)
    return found


def settings_for(data_dir: Path, *, llm: bool = False) -> Settings:
    return Settings(
        data_dir=data_dir,
        policy={"secret_key": SECRET},
        llm={"enabled": llm},
        shop={"name": "question eval"},
        logging={"level": "WARNING"},
    )


def build_shop(name: str, data_dir: Path, *, embedder: Embedder, source: Path | None = None) -> None:
    """The catalog's store and search index in ``data_dir`` (emptied first)."""
    chosen = catalog(name)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    database = Database(f"sqlite:///{data_dir / 'shop.db'}")
    try:
        database.migrate()
        chosen.fill(database, source or chosen.default_source)
    finally:
        database.dispose()
    build_index(settings_for(data_dir), embedder=embedder)
