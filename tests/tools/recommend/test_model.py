"""The trained model's files, its reload after a retrain, and incremental content vectors."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from core.errors import NotFoundError
from store.db import Database
from tools.recommend.data import load_catalog, load_purchases
from tools.recommend.model import MODEL_DIR, ModelStore, RecommenderModel
from tools.recommend.ranking import Method, Profile, recommend
from tools.recommend.service import train_shop
from tools.recommend.training import train


class CountingEmbedder:
    """A real (if simple) embedder: hashed character trigrams; counts what it was asked to embed."""

    model_name = "trigrams"
    dimension = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_documents(self, *, texts: Sequence[str], batch_size: int = 64, progress=None) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for i in range(len(text) - 2):
                out[row, sum(map(ord, text[i : i + 3])) % self.dimension] += 1.0
        return out

    def embed_query(self, *, text: str) -> np.ndarray:
        return self.embed_documents(texts=[text])[0]


def test_saved_model_loads_without_pickle_and_ranks_the_same(trained, settings):
    directory = settings.data_dir / MODEL_DIR
    loaded = RecommenderModel.load(directory)
    assert loaded.ids == trained.ids and loaded.categories == trained.categories
    assert np.array_equal(loaded.item_factors, trained.item_factors)
    assert (loaded.purchases != trained.purchases).nnz == 0
    profile = Profile(bought=[trained.position("H-BOOT")])
    for method in Method:
        assert recommend(loaded, profile, 5, method=method) == recommend(trained, profile, 5, method=method)
    with np.load(directory / "model.npz", allow_pickle=False) as z:
        assert all(z[name].dtype != object for name in z.files)
    meta = json.loads((directory / "model.json").read_text())
    assert meta["products"] == len(trained)
    assert meta["params"]["factors"] == trained.params.factors


def test_no_model_is_a_clear_error_and_the_store_reports_none(tmp_path):
    with pytest.raises(NotFoundError, match="shopassist recommend train"):
        RecommenderModel.load(tmp_path)
    assert ModelStore(tmp_path).current() is None


def test_model_store_reloads_after_a_new_training(trained, settings, database: Database):
    store = ModelStore(settings.data_dir / MODEL_DIR)
    first = store.current()
    assert first is not None and store.current() is first  # loaded once
    from tests.tools.recommend.conftest import train_saved

    train_saved(settings, database)
    second = store.current()
    assert second is not None and second is not first


def test_retraining_embeds_only_new_or_changed_products(trained, settings, database: Database):
    embedder = CountingEmbedder()
    directory = settings.data_dir / MODEL_DIR
    first = train_shop(database, directory, embedder=embedder)
    assert len(embedder.embedded) == len(first) and first.has_content
    embedder.embedded.clear()
    from store.models import Product

    with database.transaction() as session:
        session.get(Product, "H-TENT").title = "Trail Tent 3P"
    second = train_shop(database, directory, embedder=embedder)
    assert len(embedder.embedded) == 1 and "Trail Tent 3P" in embedder.embedded[0]
    kept = second.position("H-BOOT")
    assert np.array_equal(second.content[kept], first.content[first.position("H-BOOT")])


def test_empty_store_trains_an_empty_but_usable_model(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'shop.db'}")
    database.migrate()
    with database.session() as session:
        model = train(load_catalog(session), load_purchases(session))
    database.dispose()
    assert len(model) == 0
    assert recommend(model, Profile(), 5) == []
