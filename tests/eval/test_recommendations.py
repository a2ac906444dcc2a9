"""The recommendation metrics and the leave-last-purchase-out split on tiny hand-made data."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from eval.recommendations.runner import evaluate_purchases
from tools.recommend.data import CatalogArrays, Purchase
from tools.recommend.metrics import category_diversity, coverage, hit_rate, intra_list_diversity, ndcg
from tools.recommend.training import leave_last_purchase_out

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_hit_rate_and_ndcg_by_rank():
    ranked = [7, 3, 9, 1]
    assert hit_rate(ranked, 9, k=3) == 1.0
    assert hit_rate(ranked, 1, k=3) == 0.0  # 4th: outside the top 3
    assert ndcg(ranked, 7, k=3) == 1.0
    assert ndcg(ranked, 3, k=3) == pytest.approx(1 / math.log2(3))
    assert ndcg(ranked, 9, k=3) == pytest.approx(0.5)
    assert ndcg(ranked, 1, k=3) == 0.0


def test_coverage_counts_distinct_products_in_the_top_k():
    assert coverage([[0, 1, 2], [1, 2, 3], [9, 9, 9]], catalog_size=10, k=2) == pytest.approx(4 / 10)
    assert coverage([], catalog_size=0, k=10) == 0.0


def test_intra_list_diversity_and_categories():
    vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    assert intra_list_diversity([0, 1], vectors, k=10) == pytest.approx(0.0)  # the same vector
    assert intra_list_diversity([0, 2], vectors, k=10) == pytest.approx(1.0)  # orthogonal
    assert intra_list_diversity([0, 1, 2], vectors, k=10) == pytest.approx(2 / 3)
    assert intra_list_diversity([0], vectors, k=10) == 0.0
    assert category_diversity([0, 1, 2], np.array([4, 4, 5]), k=10) == pytest.approx(2 / 3)


def _line(customer: str, product: str, order: str, day: int) -> Purchase:
    return Purchase(customer, product, order, T0 + timedelta(days=day))


def test_leave_last_purchase_out_holds_out_the_last_orders_new_product():
    purchases = [
        _line("ann", "a", "o1", 1),
        _line("ann", "b", "o1", 1),
        _line("ann", "a", "o2", 5),  # bought before: not what is held out
        _line("ann", "c", "o2", 5),
        _line("ben", "a", "o3", 2),  # one order only: not evaluated, all of it trains
        _line("cy", "d", "o4", 1),
        _line("cy", "d", "o5", 3),  # the last order has nothing new: cy is not evaluated
    ]
    split = leave_last_purchase_out(purchases)
    assert split.held_out == {"ann": "c"}
    assert split.history["ann"] == ["b", "a"]  # most recent first
    assert {(p.customer_id, p.order_id) for p in split.train} == {
        ("ann", "o1"),
        ("ben", "o3"),
        ("cy", "o4"),
    }


def _catalog(ids: list[str], categories: list[str]) -> CatalogArrays:
    return CatalogArrays(
        ids=ids,
        titles=[f"Product {i}" for i in ids],
        categories=categories,
        brands=["" for _ in ids],
        min_prices=np.full(len(ids), 10.0),
        consumable_tag=np.zeros(len(ids), dtype=bool),
        texts=[f"Product {i}" for i in ids],
    )


def test_collaborative_rankers_find_what_similar_customers_bought_next():
    """Two groups: who buys x1 and x2 then buys x3; who buys y1 and y2 then buys y3 (veterans of
    each group bought all three in one order, so training has seen it). The popular product p is
    bought by everyone, so popularity suggests it first (and misses)."""
    ids = ["p", "x1", "x2", "x3", "y1", "y2", "y3"]
    catalog = _catalog(ids, ["misc", "x", "x", "x", "y", "y", "y"])
    purchases: list[Purchase] = []
    for n in range(8):
        group = "x" if n % 2 == 0 else "y"
        customer = f"{group}{n}"
        purchases += [_line(customer, "p", f"{customer}-1", 1)]
        purchases += [_line(customer, f"{group}1", f"{customer}-1", 1)]
        purchases += [_line(customer, f"{group}2", f"{customer}-2", 2)]
        purchases += [_line(customer, f"{group}3", f"{customer}-3", 3)]
    for group in "xy":
        for n in range(3):
            veteran = f"{group}-veteran-{n}"
            purchases += [_line(veteran, f"{group}{i}", veteran, 0) for i in (1, 2, 3)]
    purchases.sort(key=lambda p: p.created_at)
    # The evaluated customers: their group's third product is what they buy last.
    report = evaluate_purchases("tiny", catalog, purchases, synthetic=True, embedder=None, k=1)
    assert report.evaluated == 8
    assert report.method("popularity").hr == 0.0  # x3 and y3 are the least bought
    assert report.method("item_knn").hr == 1.0
    assert report.method("blend (no MMR)").hr == 1.0
    assert report.method("als").hr == 1.0
    assert report.method("popularity").coverage == pytest.approx(2 / len(ids))


def test_on_the_demo_shop_the_customers_tastes_are_found():
    """The generator's latent tastes are a signal: the collaborative rankers and the blend beat
    popularity (a small shop, without text vectors), and MMR spreads the blend's lists over more
    categories."""
    from eval.recommendations.shops import DemoSizes, evaluate_demo

    report = evaluate_demo(DemoSizes(products=400, customers=300, orders=4000), embedder=None)
    assert report.synthetic and report.evaluated > 150
    popular, blend = report.method("popularity"), report.method("blend")
    assert report.method("als").hr > popular.hr
    assert report.method("blend (no MMR)").hr >= 1.3 * popular.hr
    assert blend.hr > popular.hr  # MMR trades some of it for diversity
    assert blend.category_diversity > report.method("blend (no MMR)").category_diversity
    assert blend.coverage > popular.coverage
    # The control: from another customer's history the blend finds far fewer held-out products.
    assert report.method("blend (histories shuffled)").hr < 0.8 * blend.hr


def test_on_tau_retail_every_ranker_is_measured():
    from eval.recommendations.shops import evaluate_tau
    from tests.conftest import require_shared

    report = evaluate_tau(require_shared("tau_retail"), embedder=None)
    assert (report.products, report.evaluated) == (50, 265)
    names = ["popularity", "item_knn", "als", "blend (no MMR)", "blend", "blend (histories shuffled)"]
    assert [m.method for m in report.methods] == names
    for method in report.methods:
        assert 0.0 < method.hr <= 1.0 and 0.0 < method.ndcg <= method.hr
        assert 0.0 < method.coverage <= 1.0
