"""Ranking metrics over graded judgments (grades 0-3, see :mod:`eval.retrieval.labels`).

- **recall@k**: the share of a query's relevant products (grade >= :data:`RELEVANT_GRADE`) found
  in the top k, capped so a perfect top k scores 1: ``hits / min(k, relevant)`` (BEIR's
  "capped recall"; plain recall could never reach 1 for "running shoes", which has 166
  relevant products). Graded-1 products are "related": they earn nDCG credit only.
- **MRR@k**: the mean over queries of 1 / rank of the first result with grade >=
  :data:`RELEVANT_GRADE` within the top k (0 when none is).
- **nDCG@k**: scikit-learn's :func:`sklearn.metrics.ndcg_score` with the grades as linear gains
  and a log2 discount. The ideal ranking is built from every graded product of the store, not
  only the retrieved ones, so missing a relevant product costs what it should.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import ndcg_score

RELEVANT_GRADE = 2


def _top(ranking: Sequence[str], k: int) -> list[str]:
    if k < 1:
        raise ValueError("k must be at least 1")
    return list(dict.fromkeys(ranking))[:k]


def recall_at_k(
    ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10, *, threshold: int = RELEVANT_GRADE
) -> float:
    """Capped recall: relevant products in the top k / min(k, number of relevant products)."""
    relevant = {doc for doc, grade in judgments.items() if grade >= threshold}
    if not relevant:
        return 0.0
    hits = sum(1 for doc in _top(ranking, k) if doc in relevant)
    return hits / min(k, len(relevant))


def reciprocal_rank(
    ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10, *, threshold: int = RELEVANT_GRADE
) -> float:
    """1 / rank of the first relevant product in the top k, or 0."""
    for rank, doc in enumerate(_top(ranking, k), start=1):
        if judgments.get(doc, 0) >= threshold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (the grades), via scikit-learn."""
    top = _top(ranking, k)
    retrieved = set(top)
    # The ranking padded to k with non-relevant slots, then the relevant products it missed
    # (scored below every slot, so they only enter the ideal ranking), then one spare
    # zero so there are always at least two documents, as ndcg_score requires.
    gains = [judgments.get(doc, 0) for doc in top] + [0] * (k - len(top))
    missed = [grade for doc, grade in judgments.items() if grade > 0 and doc not in retrieved]
    y_true = np.asarray([[*gains, *missed, 0]], dtype=float)
    if not y_true.any():
        return 0.0
    y_score = np.asarray([[*range(k + 1, 1, -1), *([1] * len(missed)), 0]], dtype=float)
    return float(ndcg_score(y_true, y_score, k=k, ignore_ties=True))


@dataclass(frozen=True)
class Scores:
    recall: float
    mrr: float
    ndcg: float

    @classmethod
    def of(cls, ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> Scores:
        return cls(
            recall=recall_at_k(ranking, judgments, k),
            mrr=reciprocal_rank(ranking, judgments, k),
            ndcg=ndcg_at_k(ranking, judgments, k),
        )

    @classmethod
    def mean(cls, scores: Sequence[Scores]) -> Scores:
        if not scores:
            return cls(0.0, 0.0, 0.0)
        return cls(
            recall=float(np.mean([s.recall for s in scores])),
            mrr=float(np.mean([s.mrr for s in scores])),
            ndcg=float(np.mean([s.ndcg for s in scores])),
        )

    def as_dict(self) -> dict[str, float]:
        return {"recall": round(self.recall, 4), "mrr": round(self.mrr, 4), "ndcg": round(self.ndcg, 4)}
