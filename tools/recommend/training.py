"""Training: ALS from implicit on the order history, text vectors, and the blend's mix.

The mix of rankers in the blend is chosen per shop: the training purchases are split once more
(leave-last-purchase-out), a model is fitted on the rest, and the preset that finds most held-out
purchases wins. A shop whose customers show no personal pattern gets a popularity-heavy mix.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from tools.recommend.data import CatalogArrays, Interactions, Purchase, interactions
from tools.recommend.model import DEFAULT_BLEND, RecommenderModel, TrainParams

if TYPE_CHECKING:
    from retrieval.embeddings import Embedder

# A product is a consumable (bought again, so recommended again) when this share of its
# category's buyers bought one of its products in two or more orders, or when it is tagged so.
CONSUMABLE_REPEAT_RATE = 0.25
MIN_CATEGORY_BUYERS = 5
# The mixes training chooses from, tried in this order (the first wins a tie).
BLEND_PRESETS: dict[str, dict[str, float]] = {
    "personal": DEFAULT_BLEND,
    "balanced": {"als": 0.5, "content": 0.3, "knn": 0.5, "popularity": 0.6, "taste": 0.5},
    "popular": {"als": 0.2, "content": 0.1, "knn": 0.3, "popularity": 1.5, "taste": 0.2},
}
MIN_TUNING_CUSTOMERS = 20
TUNING_CUSTOMERS = 400  # most held-out customers the mix is chosen on
TUNING_K = 10
CONTENT_DIMS = 64  # text vectors are reduced to this many dimensions for ranking
SVD_SAMPLE = 20_000  # vectors the main directions are computed from


@dataclass(frozen=True)
class Split:
    train: list[Purchase]
    history: dict[str, list[str]]  # customer -> training products, most recent first
    held_out: dict[str, str]  # customer -> the product to find


def leave_last_purchase_out(purchases: list[Purchase]) -> Split:
    """Hold out, for every customer with two or more orders, a product of their last order they
    had not bought before (the order's last such line); ``purchases`` oldest first."""
    orders: dict[str, list[str]] = defaultdict(list)  # customer -> order ids in time order
    for p in purchases:
        if not orders[p.customer_id] or orders[p.customer_id][-1] != p.order_id:
            orders[p.customer_id].append(p.order_id)
    last = {c: ids[-1] for c, ids in orders.items() if len(set(ids)) >= 2}
    train_rows = [p for p in purchases if last.get(p.customer_id) != p.order_id]
    history: dict[str, list[str]] = defaultdict(list)
    for p in reversed(train_rows):
        if p.customer_id in last and p.product_id not in history[p.customer_id]:
            history[p.customer_id].append(p.product_id)
    held_out: dict[str, str] = {}
    for p in purchases:
        if last.get(p.customer_id) == p.order_id and p.product_id not in history[p.customer_id]:
            held_out[p.customer_id] = p.product_id  # the order's last new line wins
    return Split(train_rows, dict(history), held_out)


def _codes(values: list[str], first: str | None = None) -> tuple[np.ndarray, list[str]]:
    names = sorted(set(values) - {first}) if first is not None else sorted(set(values))
    if first is not None:
        names.insert(0, first)
    code = {name: i for i, name in enumerate(names)}
    return np.array([code[v] for v in values], dtype=np.int32), names


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ContentVectors:
    vectors: np.ndarray  # (products, dims) unit rows, zeros where unknown
    hashes: list[str]
    basis: np.ndarray  # (dims, embedding dims): the projection, empty when not reduced
    mean: np.ndarray  # (embedding dims,)


def content_vectors(
    catalog: CatalogArrays, embedder: Embedder | None, previous: RecommenderModel | None
) -> ContentVectors:
    """Unit text vectors of every product, projected on their main directions (truncated SVD,
    fitted once and kept): a request scores every product, and 384 dimensions at 100,000 products cost ~10 ms.
    Products whose text did not change keep ``previous``'s vectors; only the rest are embedded."""
    hashes = [_text_hash(t) for t in catalog.texts]
    reuse = False
    if previous is not None and previous.has_content and embedder is not None:
        basis_of = previous.content_basis
        reuse = (basis_of.shape[1] if basis_of.size else previous.content.shape[1]) == embedder.dimension
    if previous is not None and reuse:
        kept = {h: previous.content[i] for i, h in enumerate(previous.text_hashes)}
        basis, mean = previous.content_basis, previous.content_mean
    else:
        kept, basis, mean = {}, np.zeros((0, 0), np.float32), np.zeros(0, np.float32)
    missing = [i for i, h in enumerate(hashes) if h not in kept]
    if embedder is None:
        return ContentVectors(np.zeros((len(hashes), 0), np.float32), hashes, basis, mean)
    embedded = _unit(embedder.embed_documents(texts=[catalog.texts[i] for i in missing]))
    if not basis.size and len(embedded):
        basis, mean = _principal(embedded, CONTENT_DIMS)
    dims = basis.shape[0] if basis.size else embedder.dimension
    vectors = np.zeros((len(hashes), dims), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in kept:
            vectors[i] = kept[h]
    if missing:
        vectors[missing] = _unit((embedded - mean) @ basis.T) if basis.size else embedded
    return ContentVectors(vectors, hashes, basis.astype(np.float32), mean.astype(np.float32))


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-9)).astype(np.float32)


def _principal(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``dims`` main directions of ``vectors`` (and the mean subtracted before projecting:
    zeros); none when there are too few vectors."""
    if vectors.shape[1] <= dims or len(vectors) <= dims:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.float32)
    # Not centred (a truncated SVD): dot products, and so cosines, are kept as well as they can be.
    sample = vectors[:: max(1, len(vectors) // SVD_SAMPLE)]
    _, _, components = np.linalg.svd(sample, full_matrices=False)
    return components[:dims], np.zeros(vectors.shape[1], dtype=np.float32)


def _consumables(catalog: CatalogArrays, data: Interactions, category_of: np.ndarray) -> np.ndarray:
    n_categories = int(category_of.max()) + 1 if len(category_of) else 0
    buyers = np.bincount(category_of, weights=data.buyers, minlength=n_categories)
    repeats = np.bincount(category_of, weights=data.buyers * data.repeat_rate, minlength=n_categories)
    rate = np.divide(repeats, buyers, out=np.zeros(n_categories), where=buyers > 0)
    repeat_category = (rate >= CONSUMABLE_REPEAT_RATE) & (buyers >= MIN_CATEGORY_BUYERS)
    return catalog.consumable_tag | repeat_category[category_of]


def train(
    catalog: CatalogArrays,
    purchases: list[Purchase],
    *,
    embedder: Embedder | None = None,
    previous: RecommenderModel | None = None,
    params: TrainParams | None = None,
    progress: Callable[[str], None] | None = None,
    tune: bool = True,
) -> RecommenderModel:
    """Fit ALS on the purchases, embed what is new, choose the blend's mix (``tune``)."""
    params = params or TrainParams()
    notify = progress or (lambda stage: None)
    started = time.perf_counter()
    notify("content vectors")
    content = content_vectors(catalog, embedder, previous)
    embedded = time.perf_counter() - started
    model = _fit(catalog, purchases, params, content, notify)
    fitted = time.perf_counter() - started - embedded
    chosen = "personal"
    if tune:
        notify("blend")
        chosen, model.blend, hits = choose_blend(catalog, purchases, params, content)
        model.meta["blend_hr_on_training"] = hits
    model.meta |= {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "blend_preset": chosen,
        "embed_seconds": round(embedded, 3),
        "fit_seconds": round(fitted, 3),
        "total_seconds": round(time.perf_counter() - started, 3),
        "embedder": getattr(embedder, "model_name", None),
    }
    return model


def _fit(
    catalog: CatalogArrays,
    purchases: list[Purchase],
    params: TrainParams,
    content: ContentVectors,
    notify: Callable[[str], None],
) -> RecommenderModel:
    from implicit.cpu.als import AlternatingLeastSquares

    notify("interactions")
    data = interactions(purchases, catalog.index())
    category_of, categories = _codes(catalog.categories)
    brand_of, brands = _codes(catalog.brands, first="")
    notify("collaborative model")
    factors = np.zeros((len(catalog.ids), params.factors), dtype=np.float32)
    if data.matrix.nnz:
        with threadpool_limits(1, user_api="blas"):  # implicit's own threads do the work
            als = AlternatingLeastSquares(
                factors=params.factors,
                regularization=params.regularization,
                alpha=params.alpha,
                iterations=params.iterations,
                num_threads=params.threads,
                random_state=params.seed,
            )
            als.fit(data.matrix, show_progress=False)
        factors = np.asarray(als.item_factors, dtype=np.float32)
    return RecommenderModel(
        ids=list(catalog.ids),
        titles=list(catalog.titles),
        category_of=category_of,
        categories=categories,
        brand_of=brand_of,
        brands=brands,
        min_prices=catalog.min_prices,
        consumable=_consumables(catalog, data, category_of),
        popularity=data.buyers,
        item_factors=factors,
        content=content.vectors,
        content_basis=content.basis,
        content_mean=content.mean,
        text_hashes=content.hashes,
        purchases=data.matrix,
        params=params,
        meta={
            "products": len(catalog.ids),
            "customers": len(data.customers),
            "purchase_lines": len(purchases),
        },
    )


def choose_blend(
    catalog: CatalogArrays,
    purchases: list[Purchase],
    params: TrainParams,
    content: ContentVectors,
) -> tuple[str, dict[str, float], dict[str, float]]:
    """The preset mix that finds most held-out purchases of the training data (and each one's HR@10)."""
    from tools.recommend.ranking import Profile, recommend

    split = leave_last_purchase_out(purchases)
    customers = sorted(split.held_out)
    if len(customers) < MIN_TUNING_CUSTOMERS:
        return "personal", dict(DEFAULT_BLEND), {}
    step = max(1, len(customers) // TUNING_CUSTOMERS)
    customers = customers[::step][:TUNING_CUSTOMERS]
    inner = _fit(catalog, split.train, params, content, lambda stage: None)
    cases = []
    for customer in customers:
        held = inner.position(split.held_out[customer])
        bought = [i for i in (inner.position(p) for p in split.history[customer]) if i is not None]
        if held is not None:
            cases.append((Profile(bought=bought), held))
    hits: dict[str, float] = {}
    for name, mix in BLEND_PRESETS.items():
        inner.blend = dict(mix)
        found = sum(held in recommend(inner, profile, TUNING_K, diversify=False) for profile, held in cases)
        hits[name] = round(found / max(len(cases), 1), 4)
    best = max(BLEND_PRESETS, key=lambda name: hits[name])  # max keeps the first of equals
    return best, dict(BLEND_PRESETS[best]), hits
