"""Leave-last-purchase-out evaluation of the recommenders on one shop's order history.

For every customer with at least two orders, the products of their last order that they had not
bought before are held out (one of them: the order's last line); everything else trains the
model. Each ranker then recommends 10 products from the customer's earlier purchases, and the
held-out product is looked for: HR@10 and NDCG@10, plus catalog coverage and intra-list
diversity (1 - cosine of the products' text vectors; without them, of their categories).

A control row, ``blend (histories shuffled)``, ranks for each customer from another customer's
history (still leaving out what this customer bought): where it finds the held-out products as
often as the real histories do, the data has no personal pattern to learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from retrieval.embeddings import Embedder
from store.db import Database
from tools.recommend.data import CatalogArrays, Purchase, load_catalog, load_purchases
from tools.recommend.metrics import (
    category_diversity,
    coverage,
    hit_rate,
    intra_list_diversity,
    ndcg,
)
from tools.recommend.model import RecommenderModel, TrainParams
from tools.recommend.ranking import Method, Profile, recommend
from tools.recommend.training import Split, leave_last_purchase_out, train

Progress = Callable[[str, int, int], None]
SHUFFLED = "blend (histories shuffled)"
SHUFFLE_SEED = 7


@dataclass(frozen=True)
class MethodReport:
    method: str
    hr: float
    ndcg: float
    coverage: float
    diversity: float
    category_diversity: float


@dataclass(frozen=True)
class RecommendationReport:
    shop: str
    synthetic: bool
    products: int
    customers: int
    purchase_lines: int
    evaluated: int
    k: int
    fit_seconds: float
    methods: list[MethodReport] = field(default_factory=list)

    def method(self, name: str) -> MethodReport:
        return next(m for m in self.methods if m.method == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# (name in the report, ranker, MMR on, histories shuffled among the customers)
RANKERS: tuple[tuple[str, Method, bool, bool], ...] = (
    ("popularity", Method.POPULARITY, False, False),
    ("item_knn", Method.ITEM_KNN, False, False),
    ("als", Method.ALS, False, False),
    ("blend (no MMR)", Method.BLEND, False, False),
    ("blend", Method.BLEND, True, False),
    (SHUFFLED, Method.BLEND, True, True),
)


def diversity_vectors(model: RecommenderModel) -> np.ndarray:
    """Unit vectors the diversity is measured with: text vectors, else one-hot categories."""
    if model.has_content:
        return model.content
    return np.eye(len(model.categories), dtype=np.float32)[model.category_of]


def _positions(model: RecommenderModel, products: list[str]) -> list[int]:
    return [i for i in (model.position(p) for p in products) if i is not None]


def shuffled(customers: list[str], seed: int = SHUFFLE_SEED) -> dict[str, str]:
    """Each customer paired with another one (a seeded derangement: nobody keeps their own)."""
    if len(customers) < 2:
        return {c: c for c in customers}
    order = list(customers)
    np.random.default_rng(seed).shuffle(order)
    return {c: order[(i + 1) % len(order)] for i, c in enumerate(order)}


def evaluate_model(
    model: RecommenderModel, split: Split, *, k: int = 10, progress: Progress | None = None
) -> list[MethodReport]:
    """Each ranker's figures on the held-out products the model knows."""
    customers = [c for c in sorted(split.held_out) if model.position(split.held_out[c]) is not None]
    others = shuffled(customers)
    vectors = diversity_vectors(model)
    reports = []
    for step, (name, method, diversify, shuffle) in enumerate(RANKERS):
        hits, gains, lists, ild, categories = [], [], [], [], []
        for customer in customers:
            own = Profile(bought=_positions(model, split.history[customer]))
            profile = Profile(bought=_positions(model, split.history[others[customer]])) if shuffle else own
            ranked = recommend(model, profile, k, method=method, diversify=diversify, owner=own)
            held = model.position(split.held_out[customer])
            if held is None:
                continue
            hits.append(hit_rate(ranked, held, k))
            gains.append(ndcg(ranked, held, k))
            lists.append(ranked)
            ild.append(intra_list_diversity(ranked, vectors, k))
            categories.append(category_diversity(ranked, model.category_of, k))
        reports.append(
            MethodReport(
                method=name,
                hr=float(np.mean(hits)) if hits else 0.0,
                ndcg=float(np.mean(gains)) if gains else 0.0,
                coverage=coverage(lists, len(model), k),
                diversity=float(np.mean(ild)) if ild else 0.0,
                category_diversity=float(np.mean(categories)) if categories else 0.0,
            )
        )
        if progress is not None:
            progress("rankers", step + 1, len(RANKERS))
    return reports


def evaluate_purchases(
    shop: str,
    catalog: CatalogArrays,
    purchases: list[Purchase],
    *,
    synthetic: bool,
    embedder: Embedder | None,
    k: int = 10,
    params: TrainParams | None = None,
    progress: Progress | None = None,
) -> RecommendationReport:
    split = leave_last_purchase_out(purchases)
    model = train(catalog, split.train, embedder=embedder, params=params)
    methods = evaluate_model(model, split, k=k, progress=progress)
    return RecommendationReport(
        shop=shop,
        synthetic=synthetic,
        products=len(catalog.ids),
        customers=len({p.customer_id for p in purchases}),
        purchase_lines=len(purchases),
        evaluated=sum(1 for c in split.held_out if model.position(split.held_out[c]) is not None),
        k=k,
        fit_seconds=float(model.meta["fit_seconds"]),
        methods=methods,
    )


def evaluate_store(
    shop: str,
    database: Database,
    *,
    synthetic: bool,
    embedder: Embedder | None,
    k: int = 10,
    progress: Progress | None = None,
) -> RecommendationReport:
    with database.session() as session:
        catalog = load_catalog(session)
        purchases = load_purchases(session)
    return evaluate_purchases(
        shop, catalog, purchases, synthetic=synthetic, embedder=embedder, k=k, progress=progress
    )
