"""Per-run inference times → :class:`~cml.bench.Latency`.

Percentiles use linear interpolation between the closest ranks (Hyndman & Fan type 7: numpy's default
``method="linear"``, R's default, ``statistics.quantiles(method="inclusive")``): for ``n`` sorted times
``x[0..n-1]`` the ``q``-th percentile is ``x[h]`` interpolated at ``h = (n - 1) * q / 100``. The standard
deviation is the population one (``ddof=0``, numpy's default) and ``cv = std / mean``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from cml.bench import Latency


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of the ascending ``ordered`` by linear interpolation (type 7).

    Raises ValueError when ``ordered`` is empty or ``q`` is outside 0..100.
    """
    if not ordered:
        raise ValueError("no timings")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    h = (len(ordered) - 1) * q / 100
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (h - low) * (ordered[high] - ordered[low])
    return min(max(value, ordered[low]), ordered[high])  # rounding never leaves the bracketing pair


def summarise(times_ms: Sequence[float], **extra: Any) -> Latency:
    """Median, p90, p99, min, std and cv of per-run times (ms); ``extra`` fills the other Latency fields
    (``init_ms``, ``first_ms``, ``peak_rss_kb``).

    Raises ValueError when ``times_ms`` is empty or holds a negative or non-finite time.
    """
    ordered = sorted(float(t) for t in times_ms)
    if not ordered:
        raise ValueError("no timings")
    if ordered[0] < 0 or not math.isfinite(ordered[-1]):
        raise ValueError("timings must be finite and not negative")
    mean = math.fsum(ordered) / len(ordered)
    std = math.sqrt(math.fsum((t - mean) ** 2 for t in ordered) / len(ordered))
    return Latency(
        median=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        min=ordered[0],
        std=std,
        cv=std / mean if mean > 0 else 0.0,
        runs=len(ordered),
        **extra,
    )
