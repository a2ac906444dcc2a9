"""The ranking metrics against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from eval.retrieval.metrics import Scores, ndcg_at_k, recall_at_k, reciprocal_rank

LOG2 = math.log2

# Judgments: a and b highly relevant, c relevant, d related (grade 1, nDCG only).
JUDGED = {"a": 3, "b": 3, "c": 2, "d": 1}


def test_recall_counts_grade_two_and_up_and_is_capped_at_k() -> None:
    # Relevant (grade >= 2): a, b, c. The top 3 holds a and c: 2 / min(3, 3).
    assert recall_at_k(["a", "x", "c", "b"], JUDGED, k=3) == pytest.approx(2 / 3)
    # d (grade 1) does not count as relevant.
    assert recall_at_k(["d", "x"], JUDGED, k=2) == 0.0
    # Capped: with k=2 and 3 relevant products, finding 2 is perfect (2 / min(2, 3)).
    assert recall_at_k(["b", "a"], JUDGED, k=2) == 1.0
    # A duplicate in the ranking is counted once.
    assert recall_at_k(["a", "a", "a"], JUDGED, k=3) == pytest.approx(1 / 3)
    assert recall_at_k(["a"], {"z": 1}, k=10) == 0.0  # nothing relevant at all


def test_reciprocal_rank_is_first_relevant_within_k() -> None:
    assert reciprocal_rank(["x", "d", "c"], JUDGED, k=10) == pytest.approx(1 / 3)  # d is grade 1
    assert reciprocal_rank(["a"], JUDGED) == 1.0
    assert reciprocal_rank(["x", "y", "b"], JUDGED, k=2) == 0.0  # b is past the cut-off
    assert reciprocal_rank([], JUDGED) == 0.0


def test_ndcg_by_hand() -> None:
    # Ranking b(3), x(0), d(1) at k=3: DCG = 3/log2(2) + 0/log2(3) + 1/log2(4) = 3 + 0.5 = 3.5.
    # Ideal top 3 over every graded product: 3, 3, 2 -> 3 + 3/log2(3) + 2/log2(4) = 4 + 3/log2(3).
    expected = 3.5 / (4 + 3 / LOG2(3))
    assert ndcg_at_k(["b", "x", "d"], JUDGED, k=3) == pytest.approx(expected)
    assert expected == pytest.approx(0.5939, abs=1e-4)


def test_ndcg_counts_relevant_products_that_were_not_retrieved() -> None:
    # Only "a" retrieved at k=10 out of a, b, c, d: DCG = 3.
    # Ideal: 3 + 3/log2(3) + 2/log2(4) + 1/log2(5).
    ideal = 3 + 3 / LOG2(3) + 1 + 1 / LOG2(5)
    assert ndcg_at_k(["a"], JUDGED, k=10) == pytest.approx(3 / ideal)


def test_ndcg_short_rankings_earn_no_credit_for_missing_slots() -> None:
    # One result that is not relevant: 0, even though relevant products exist beyond it.
    assert ndcg_at_k(["x"], JUDGED, k=10) == 0.0
    assert ndcg_at_k([], JUDGED, k=10) == 0.0
    # The perfect ranking scores 1 at any cut-off, including k=1.
    assert ndcg_at_k(["a", "b", "c", "d"], JUDGED, k=10) == pytest.approx(1.0)
    assert ndcg_at_k(["a"], {"a": 3}, k=1) == pytest.approx(1.0)
    assert ndcg_at_k(["a"], {}, k=10) == 0.0


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        recall_at_k(["a"], JUDGED, k=0)


def test_scores_of_and_mean() -> None:
    first = Scores.of(["x", "a"], JUDGED, k=2)  # recall 1/2, RR 1/2
    assert first.recall == pytest.approx(0.5) and first.mrr == pytest.approx(0.5)
    # DCG = 3/log2(3); ideal top 2: 3 + 3/log2(3).
    assert first.ndcg == pytest.approx((3 / LOG2(3)) / (3 + 3 / LOG2(3)))
    second = Scores(recall=1.0, mrr=1.0, ndcg=1.0)
    mean = Scores.mean([first, second])
    assert mean.recall == pytest.approx(0.75) and mean.mrr == pytest.approx(0.75)
    assert mean.ndcg == pytest.approx((first.ndcg + 1.0) / 2)
    assert Scores.mean([]) == Scores(0.0, 0.0, 0.0)
    assert set(first.as_dict()) == {"recall", "mrr", "ndcg"}
