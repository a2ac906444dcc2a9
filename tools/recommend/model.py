"""The trained recommender: implicit's ALS item factors, content vectors, popularity, co-purchases.

Trained from the store by :func:`train` (``shopassist recommend train``), saved as plain arrays
(``model.npz``, loaded without pickle) plus ``model.json`` under ``<data_dir>/recommend``.
:class:`ModelStore` loads it lazily and again whenever a new training replaced the files, so a
running server picks up a scheduled retrain without a restart. Content vectors are kept by text
hash: a retrain embeds only new or changed products.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix
from threadpoolctl import ThreadpoolController, threadpool_limits

from core.errors import NotFoundError

if TYPE_CHECKING:
    from implicit.cpu.als import AlternatingLeastSquares

log = logging.getLogger(__name__)

MODEL_DIR = "recommend"
FORMAT = 1


# How much each ranker counts in the blend (training may choose another mix: tools.recommend.training).
DEFAULT_BLEND = {"als": 1.0, "content": 0.6, "knn": 0.5, "popularity": 0.2, "taste": 1.0}


@dataclass(frozen=True)
class TrainParams:
    factors: int = 16
    regularization: float = 0.1
    alpha: float = 5.0
    iterations: int = 15
    threads: int = 2
    seed: int = 7


@dataclass
class RecommenderModel:
    ids: list[str]
    titles: list[str]
    category_of: np.ndarray  # int32 codes into categories
    categories: list[str]
    brand_of: np.ndarray  # int32 codes into brands ("" is code 0: no brand)
    brands: list[str]
    min_prices: np.ndarray
    consumable: np.ndarray  # bool
    popularity: np.ndarray  # float32: distinct buyers
    item_factors: np.ndarray  # float32 (products, factors)
    content: np.ndarray  # float32 unit rows (zeros when unknown), (products, dim)
    content_basis: np.ndarray  # SVD projection of the embedding (dim, embedding dim); empty: none
    content_mean: np.ndarray
    text_hashes: list[str]
    purchases: csr_matrix  # customers x products, training purchases (for item-kNN)
    params: TrainParams = field(default_factory=TrainParams)
    blend: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BLEND))
    meta: dict[str, Any] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _als: AlternatingLeastSquares | None = field(default=None, repr=False)
    _norms: np.ndarray | None = field(default=None, repr=False)
    _columns: csc_matrix | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _has_content: bool = field(default=False, repr=False)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {pid: i for i, pid in enumerate(self.ids)}
        self._has_content = bool(self.content.shape[1]) and bool(np.any(self.content))

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, product_id: str) -> int | None:
        return self._index.get(product_id)

    @property
    def has_content(self) -> bool:
        """Whether products have text vectors (trained with an embedding model)."""
        return self._has_content

    def als(self) -> AlternatingLeastSquares:
        """implicit's model around the stored item factors, to fold in a customer's items."""
        if self._als is None:
            from implicit.cpu.als import AlternatingLeastSquares

            with threadpool_limits(1, user_api="blas"):  # implicit warns unless BLAS is single-threaded
                model = AlternatingLeastSquares(
                    factors=self.params.factors,
                    regularization=self.params.regularization,
                    alpha=self.params.alpha,
                    num_threads=1,
                    random_state=self.params.seed,
                )
            model.item_factors = self.item_factors
            model.user_factors = np.zeros((1, self.params.factors), dtype=np.float32)
            _ = model.YtY  # computed once here, not at the first request
            self._als = model
        return self._als

    def fold_in(self, weights: dict[int, float]) -> np.ndarray:
        """The ALS customer vector for these items and confidences (no retraining)."""
        if not weights:
            return np.zeros(self.params.factors, dtype=np.float32)
        items = sorted(weights)
        row = csr_matrix(
            (np.array([weights[i] for i in items], dtype=np.float32), ([0] * len(items), items)),
            shape=(1, len(self.ids)),
        )
        with self._lock:  # implicit's solver runs on one thread (num_threads=1)
            return np.asarray(self.als().recalculate_user(0, row), dtype=np.float32)

    def item_norms(self) -> np.ndarray:
        """Each product's purchase-vector norm (item-kNN cosine)."""
        if self._norms is None:
            squared = np.asarray(self.purchases.multiply(self.purchases).sum(axis=0)).ravel()
            self._norms = np.sqrt(squared).astype(np.float32)
        return self._norms

    def cached(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """An array derived from the model once (the model never changes after training)."""
        found = self._cache.get(name)
        if found is None:
            found = self._cache[name] = compute()
        return found

    def columns(self) -> csc_matrix:
        """The purchases by product (column access)."""
        if self._columns is None:
            self._columns = self.purchases.tocsc()
        return self._columns

    def buyers_of(self, item: int) -> np.ndarray:
        """The (training) customers who bought this product, as row numbers."""
        columns = self.columns()
        return np.asarray(columns.indices[columns.indptr[item] : columns.indptr[item + 1]])

    # Files ----------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {
            "ids": np.array(self.ids, dtype=str),
            "titles": np.array(self.titles, dtype=str),
            "category_of": self.category_of,
            "categories": np.array(self.categories, dtype=str),
            "brand_of": self.brand_of,
            "brands": np.array(self.brands, dtype=str),
            "min_prices": self.min_prices,
            "consumable": self.consumable,
            "popularity": self.popularity,
            "item_factors": self.item_factors,
            "content": self.content,
            "content_basis": self.content_basis,
            "content_mean": self.content_mean,
            "text_hashes": np.array(self.text_hashes, dtype=str),
            "purchases_data": self.purchases.data,
            "purchases_indices": self.purchases.indices,
            "purchases_indptr": self.purchases.indptr,
            "purchases_shape": np.array(self.purchases.shape, dtype=np.int64),
        }
        partial = directory / "model.npz.partial"
        with partial.open("wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        os.replace(partial, directory / "model.npz")
        meta = {"format": FORMAT, "params": self.params.__dict__, "blend": self.blend, **self.meta}
        partial_meta = directory / "model.json.partial"
        partial_meta.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(partial_meta, directory / "model.json")

    @classmethod
    def load(cls, directory: Path) -> RecommenderModel:
        meta_file = directory / "model.json"
        if not meta_file.is_file():
            raise NotFoundError(
                f"No recommendation model in {directory}: run `shopassist recommend train`.",
                resource="recommendation model",
                id=str(directory),
            )
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        params = TrainParams(**meta.pop("params"))
        blend = {str(k): float(v) for k, v in meta.pop("blend", DEFAULT_BLEND).items()}
        meta.pop("format", None)
        with np.load(directory / "model.npz", allow_pickle=False) as z:
            shape = tuple(int(v) for v in z["purchases_shape"])
            purchases = csr_matrix(
                (z["purchases_data"], z["purchases_indices"], z["purchases_indptr"]), shape=shape
            )
            return cls(
                ids=z["ids"].tolist(),
                titles=z["titles"].tolist(),
                category_of=z["category_of"],
                categories=z["categories"].tolist(),
                brand_of=z["brand_of"],
                brands=z["brands"].tolist(),
                min_prices=z["min_prices"],
                consumable=z["consumable"],
                popularity=z["popularity"],
                item_factors=z["item_factors"],
                content=z["content"],
                content_basis=z["content_basis"],
                content_mean=z["content_mean"],
                text_hashes=z["text_hashes"].tolist(),
                purchases=purchases,
                params=params,
                blend=blend,
                meta=meta,
            )


_controller: ThreadpoolController | None = None
_controller_lock = threading.Lock()


def single_threaded_blas() -> Any:
    """A context in which BLAS (numpy's matrix products) runs on one thread: a request's small
    products were measured 5-10x slower with two BLAS threads on a busy 2-core machine. The
    controller finds the libraries once (that costs ~2 ms); each use after that is cheap."""
    global _controller
    with _controller_lock:
        if _controller is None:
            _controller = ThreadpoolController()
        return _controller.limit(limits=1, user_api="blas")


class ModelStore:
    """The shop's saved model, loaded at first use and again after each new training."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._model: RecommenderModel | None = None
        self._stamp: int | None = None

    def current(self) -> RecommenderModel | None:
        """The latest saved model, or None when none was trained yet."""
        meta = self.directory / "model.json"
        try:
            stamp = meta.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        with self._lock:
            if stamp != self._stamp:
                self._model = RecommenderModel.load(self.directory)
                self._stamp = stamp
                log.info("loaded the recommendation model from %s", self.directory)
            return self._model
