"""Scores, the blend, MMR diversity and which of the customer's own items explains a result.

Four rankers share one profile (the customer's purchases and this conversation's products):
``popularity``, ``item_knn`` (cosine over co-purchases), ``als`` (implicit's model, the profile
folded in) and ``blend`` (ALS + content similarity + co-purchases + a little popularity, so new
products and new customers still rank). Only items of the profile are ever named in a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from tools.recommend.model import RecommenderModel, single_threaded_blas

CANDIDATES = 200  # best-scored products that go on to filtering and MMR
MMR_LAMBDA = 0.35  # weight of relevance against likeness to what is already picked
CATEGORY_LIKENESS = 0.6
BRAND_LIKENESS = 0.1
TEXT_LIKENESS = 0.8  # of the text vectors' cosine (above TEXT_FLOOR), where the model has them
TEXT_FLOOR = 0.2  # cosine most unrelated product texts reach anyway
MMR_POOL = 100  # best candidates MMR chooses from
REASON_SOURCES = 12  # most recent profile items a reason may name
# Confidence of each kind of signal in the profile.
WEIGHTS = {"bought": 1.0, "cart": 2.0, "viewed": 1.0, "searched": 0.6}
PRICE_SPREAD = 0.5  # of log prices: how far from the customer's usual price a product still fits


class Method(StrEnum):
    POPULARITY = "popularity"
    ITEM_KNN = "item_knn"
    ALS = "als"
    BLEND = "blend"


@dataclass
class Profile:
    """Product positions in the model, most recent first, by where they come from."""

    bought: list[int] = field(default_factory=list)
    cart: list[int] = field(default_factory=list)
    viewed: list[int] = field(default_factory=list)
    searched: list[int] = field(default_factory=list)

    def weights(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for kind, weight in WEIGHTS.items():
            for item in getattr(self, kind):
                out[item] = out.get(item, 0.0) + weight
        return out

    def sources(self) -> list[tuple[str, int]]:
        """(kind, item) of every profile item, strongest kind first, each item once."""
        seen: set[int] = set()
        out = []
        for kind in ("cart", "bought", "viewed", "searched"):
            for item in getattr(self, kind):
                if item not in seen:
                    seen.add(item)
                    out.append((kind, item))
        return out

    @property
    def empty(self) -> bool:
        return not self.weights()


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = float(np.max(np.abs(scores))) if scores.size else 0.0
    return scores / top if top > 0 else scores


def popularity_scores(model: RecommenderModel) -> np.ndarray:
    return model.cached("popularity", lambda: _scaled(np.log1p(model.popularity).astype(np.float32)))


def knn_scores(model: RecommenderModel, weights: dict[int, float]) -> np.ndarray:
    """Cosine item-kNN over co-purchases: sum over profile items of sim(profile item, product).
    Only the rows of customers who bought a profile item are read (not the whole matrix)."""
    if not weights or model.purchases.nnz == 0:
        return np.zeros(len(model), dtype=np.float32)
    norms = model.item_norms()
    columns = model.columns()
    customers, amounts = [], []
    for item, weight in weights.items():
        if norms[item] > 0:
            start, end = columns.indptr[item], columns.indptr[item + 1]
            customers.append(columns.indices[start:end])
            amounts.append(columns.data[start:end] * (weight / float(norms[item])))
    if not customers:
        return np.zeros(len(model), dtype=np.float32)
    rows, where = np.unique(np.concatenate(customers), return_inverse=True)
    values = np.bincount(where, weights=np.concatenate(amounts)).astype(np.float32)
    together = model.purchases[rows].T @ values
    scores = np.divide(together, norms, out=np.zeros(len(model), dtype=np.float32), where=norms > 0)
    return _scaled(np.asarray(scores, dtype=np.float32))


def als_scores(model: RecommenderModel, weights: dict[int, float]) -> np.ndarray:
    if not weights:
        return np.zeros(len(model), dtype=np.float32)
    return _scaled(model.item_factors @ model.fold_in(weights))


def taste_scores(model: RecommenderModel, weights: dict[int, float]) -> np.ndarray:
    """Affinity to the profile's categories and brands, at a price like the profile's."""
    if not weights:
        return np.zeros(len(model), dtype=np.float32)
    items = np.array(list(weights), dtype=np.int64)
    w = np.array([weights[i] for i in items], dtype=np.float64)
    w /= w.sum()
    categories = np.bincount(model.category_of[items], weights=w, minlength=len(model.categories))
    brands = np.bincount(model.brand_of[items], weights=w, minlength=len(model.brands))
    brands[0] = 0.0  # no brand is no taste
    prices = model.cached("log_prices", lambda: np.log(np.nan_to_num(model.min_prices, nan=1.0).clip(0.01)))
    usual = float(np.average(prices[items], weights=w))
    fit = np.exp(-((prices - usual) ** 2) / (2 * PRICE_SPREAD**2))
    return (categories[model.category_of] * (1 + 2 * brands[model.brand_of]) * fit).astype(np.float32) / 3


def content_scores(model: RecommenderModel, profile: Profile) -> np.ndarray:
    if not model.has_content:
        return np.zeros(len(model), dtype=np.float32)
    query = np.zeros(model.content.shape[1], dtype=np.float32)
    for item, weight in profile.weights().items():
        query += weight * model.content[item]
    norm = float(np.linalg.norm(query))
    if norm > 0:
        query /= norm
    return np.clip(model.content @ query, 0.0, None).astype(np.float32)


def scores(model: RecommenderModel, profile: Profile, method: Method = Method.BLEND) -> np.ndarray:
    with single_threaded_blas():
        return _scores(model, profile, method)


def _scores(model: RecommenderModel, profile: Profile, method: Method) -> np.ndarray:
    weights = profile.weights()
    popular = popularity_scores(model)
    if method is Method.POPULARITY or profile.empty:
        return popular
    if method is Method.ITEM_KNN:
        return knn_scores(model, weights) + 1e-3 * popular
    if method is Method.ALS:
        return als_scores(model, weights) + 1e-3 * popular
    mix = model.blend
    blend = mix["popularity"] * popular + mix["content"] * content_scores(model, profile)
    if weights:
        blend += mix["taste"] * taste_scores(model, weights)
        blend += mix["als"] * als_scores(model, weights) + mix["knn"] * knn_scores(model, weights)
    return blend


def excluded(model: RecommenderModel, profile: Profile, extra: list[int] | None = None) -> np.ndarray:
    """Products never to recommend: already bought (unless consumable) or in the cart."""
    mask = np.zeros(len(model), dtype=bool)
    bought = np.array(profile.bought, dtype=np.int64)
    if bought.size:
        mask[bought[~model.consumable[bought]]] = True
    for item in [*profile.cart, *(extra or [])]:
        mask[item] = True
    return mask


def candidates(scored: np.ndarray, mask: np.ndarray, count: int = CANDIDATES) -> list[int]:
    """The best ``count`` products not masked, best first (ties: model order)."""
    ranked = np.where(mask, -np.inf, scored)
    count = min(count, int((~mask).sum()))
    if count <= 0:
        return []
    top = np.argpartition(-ranked, count - 1)[:count]
    order = np.lexsort((top, -ranked[top]))
    return [int(i) for i in top[order]]


def similarities(model: RecommenderModel, items: list[int]) -> np.ndarray:
    """How alike products are for MMR, pairwise: the same category, the same brand and, with
    text vectors, how close their texts are (two 'Trail Runner' shoes in different categories)."""
    index = np.array(items, dtype=np.int64)
    categories = model.category_of[index]
    brands = model.brand_of[index]
    alike = CATEGORY_LIKENESS * (categories[:, None] == categories[None, :])
    alike += BRAND_LIKENESS * ((brands[:, None] == brands[None, :]) & (brands[:, None] != 0))
    if model.has_content:
        vectors = model.content[index]
        closeness = (vectors @ vectors.T - TEXT_FLOOR) / (1.0 - TEXT_FLOOR)
        alike = alike + TEXT_LIKENESS * np.clip(closeness, 0.0, 1.0)
    return alike


def mmr(
    model: RecommenderModel, ranked: list[int], scored: np.ndarray, k: int, lam: float | None = None
) -> list[int]:
    """Maximal marginal relevance: each pick trades its score against its likeness to earlier picks
    (``lam``: the weight of the score, default :data:`MMR_LAMBDA`)."""
    if not ranked:
        return []
    lam = MMR_LAMBDA if lam is None else lam
    pool = ranked[:MMR_POOL]
    # Half the scaled score, half the rank: one far-ahead product (a consumable bought again)
    # does not flatten the rest.
    by_score = _scaled(scored[pool] - float(np.min(scored[pool])))
    relevance = 0.5 * by_score + 0.5 * (1.0 - np.arange(len(pool)) / len(pool))
    alike = similarities(model, pool)
    closest = np.zeros(len(pool), dtype=np.float64)
    open_ = np.ones(len(pool), dtype=bool)
    picked: list[int] = []
    while open_.any() and len(picked) < k:
        value = np.where(open_, lam * relevance - (1 - lam) * closest, -np.inf)
        best = int(np.argmax(value))  # the first of equals: the better ranked
        picked.append(best)
        open_[best] = False
        closest = np.maximum(closest, alike[best])
    return [pool[i] for i in picked]


def recommend(
    model: RecommenderModel,
    profile: Profile,
    k: int,
    *,
    method: Method = Method.BLEND,
    diversify: bool = True,
    exclude: list[int] | None = None,
    owner: Profile | None = None,
) -> list[int]:
    """The top ``k`` product positions for this profile (the evaluation's entry point).
    ``owner``: whose purchases are left out, when not the profile's own (the evaluation's
    control ranks from another customer's history for this one)."""
    scored = scores(model, profile, method)
    mask = excluded(model, owner or profile, exclude)
    ranked = candidates(scored, mask, max(k, CANDIDATES if diversify else k))
    return mmr(model, ranked, scored, k) if diversify else ranked[:k]


def closest_source(model: RecommenderModel, profile: Profile, item: int) -> tuple[str, int] | None:
    """The profile item (kind, position) that a recommended product is most like, if any is:
    text, ALS factors, category and co-purchases, the most recent ``REASON_SOURCES`` items."""
    sources = [(kind, s) for kind, s in profile.sources() if s != item][:REASON_SOURCES]
    if not sources:
        return None
    index = np.array([s for _, s in sources], dtype=np.int64)
    closeness = 0.3 * (model.category_of[index] == model.category_of[item]).astype(np.float64)
    if model.has_content:
        closeness += model.content[index] @ model.content[item]
    norms = model.cached("factor_norms", lambda: np.linalg.norm(model.item_factors, axis=1))
    scale = norms[index] * norms[item]
    together = model.item_factors[index] @ model.item_factors[item]
    closeness += np.divide(together, scale, out=np.zeros(len(index)), where=scale > 0)
    buyers = model.popularity[index] * model.popularity[item]
    shared = co_purchases(model, item, index)
    closeness += np.divide(shared, np.sqrt(buyers), out=np.zeros(len(index)), where=buyers > 0)
    # A consumable is bought by nearly everyone, again and again: it explains little.
    closeness *= np.where(model.consumable[index], 0.5, 1.0)
    best = int(np.argmax(closeness))
    return sources[best] if closeness[best] > 0.2 else None


def co_purchases(model: RecommenderModel, item: int, others: np.ndarray) -> np.ndarray:
    """Customers (in the training data) who bought ``item`` and each of ``others``."""
    mark = np.zeros(model.purchases.shape[0], dtype=bool)
    mark[model.buyers_of(item)] = True
    return np.array([int(mark[model.buyers_of(int(o))].sum()) for o in others], dtype=np.float64)


def bought_together(model: RecommenderModel, a: int, b: int) -> int:
    """Customers (in the training data) who bought both products."""
    return int(co_purchases(model, a, np.array([b]))[0])
