"""The one percentile of every benchmark figure."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The value at fraction ``q`` (0.95 for p95) of the sorted values, nearest rank.

    A measured value, never one interpolated between two: with 20 runs p95 is the
    second slowest. Raises ValueError for no values.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
