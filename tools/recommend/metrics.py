"""Offline recommendation metrics: hit rate, NDCG, catalog coverage, intra-list diversity.

Leave-one-out: each customer has one held-out product, so HR@k is 1 when it is in the top k
and NDCG@k is 1/log2(rank + 1) for its 1-based rank (0 outside the top k).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def hit_rate(ranked: Sequence[int], held_out: int, k: int) -> float:
    return 1.0 if held_out in ranked[:k] else 0.0


def ndcg(ranked: Sequence[int], held_out: int, k: int) -> float:
    for rank, item in enumerate(ranked[:k], start=1):
        if item == held_out:
            return 1.0 / math.log2(rank + 1)
    return 0.0


def coverage(lists: Sequence[Sequence[int]], catalog_size: int, k: int) -> float:
    """Share of the catalog that appears in at least one top-k list."""
    if catalog_size <= 0:
        return 0.0
    shown = {item for ranked in lists for item in ranked[:k]}
    return len(shown) / catalog_size


def intra_list_diversity(ranked: Sequence[int], vectors: np.ndarray, k: int) -> float:
    """Mean pairwise distance (1 - cosine of unit vectors) within one top-k list; 0 below 2 items."""
    items = list(ranked[:k])
    if len(items) < 2:
        return 0.0
    block = vectors[items]
    similarities = block @ block.T
    pairs = len(items) * (len(items) - 1)
    return float((pairs - (similarities.sum() - np.trace(similarities))) / pairs)


def category_diversity(ranked: Sequence[int], category_of: np.ndarray, k: int) -> float:
    """Distinct categories per item within one top-k list (1.0: every item a different category)."""
    items = list(ranked[:k])
    if not items:
        return 0.0
    return len({int(category_of[i]) for i in items}) / len(items)
