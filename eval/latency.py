"""The one percentile the benchmarks report latencies with (nearest rank, so a p95 is a latency
that was measured, not an interpolation between two)."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` (0 to 1) percentile of ``values`` by nearest rank; 0.0 for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else 0.0
