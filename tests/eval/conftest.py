"""Fixtures of the evaluation tests: the default demo shop's catalog, a tiny shop with an index,
the tau retail shop (from ../shared, built once per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from eval.retrieval.labels import Catalog
from eval.tasks.shop import TauShop
from retrieval.embeddings import SentenceTransformerEmbedder
from retrieval.service import load_embedder
from store.db import Database
from tests.conftest import require_shared
from tools.demo import generate_demo_shop

TINY_POLICY = "# Returns\n\n## Window\n\nReturn items within 30 days of delivery.\n"


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The default demo shop (seed 7, default sizes) as the label rules see it; generated once."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('demo-default') / 'shop.db'}")
    database.migrate()
    generate_demo_shop(database)
    catalog = Catalog.load(database)
    database.dispose()
    return catalog


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled embedding model, loaded once for every test that builds an index."""
    return load_embedder(Settings())


def small_settings(root: Path) -> Settings:
    """Settings for a throwaway data dir whose index holds one tiny policy page (fast builds)."""
    policies = root / "policies"
    policies.mkdir(parents=True, exist_ok=True)
    (policies / "returns.md").write_text(TINY_POLICY, encoding="utf-8")
    return Settings(
        data_dir=root / "data",
        retrieval={"policy_dirs": [policies]},
        logging={"level": "WARNING"},
        policy={"secret_key": "eval-test-secret-0123456789"},
    )


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A 150-product demo shop (every category) in its own data dir; its index is built lazily."""
    settings = small_settings(tmp_path_factory.mktemp("small-shop"))
    database = Database(settings.database_url)
    database.migrate()
    generate_demo_shop(database, products=150, customers=20, orders=40)
    database.dispose()
    yield settings


@pytest.fixture(scope="module")
def tau_dir() -> Path:
    return require_shared("tau_retail")


@pytest.fixture(scope="module")
def tau_shop(tau_dir: Path, embedder: SentenceTransformerEmbedder) -> Iterator[TauShop]:
    """The tau retail shop imported with its policy page and index, copied fresh per run."""
    built = TauShop(tau_dir, embedder=embedder)
    yield built
    built.close()
