# ruff: noqa: E402  (imports below the importorskip of numpy)
"""cml.bench.stats: type-7 (numpy 'linear') percentiles, population std, cv."""

from __future__ import annotations

import math

import pytest

# Skipped, not failed, where only the dev extra is installed (plain `pytest`, the fast lane).
np = pytest.importorskip("numpy", reason="needs the bench extra: pip install -e '.[dev,bench]'")
from hypothesis import given
from hypothesis import strategies as st

from cml.bench.stats import percentile, summarise

times = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False), min_size=1)


def test_known_values_follow_linear_interpolation() -> None:
    latency = summarise([float(t) for t in range(10, 0, -1)])  # 1..10, unordered
    assert latency.median == pytest.approx(5.5)
    assert latency.p90 == pytest.approx(9.1)
    assert latency.p99 == pytest.approx(9.91)
    assert latency.min == 1.0
    assert latency.std == pytest.approx(math.sqrt(8.25))  # population std of 1..10
    assert latency.cv == pytest.approx(math.sqrt(8.25) / 5.5)
    assert latency.runs == 10


def test_extra_fields_are_carried() -> None:
    latency = summarise([2.0, 4.0], init_ms=1.5, first_ms=3.0, peak_rss_kb=1024)
    assert (latency.init_ms, latency.first_ms, latency.peak_rss_kb) == (1.5, 3.0, 1024)
    assert latency.mean_only is False


@given(times)
def test_percentiles_are_ordered_and_cv_is_not_negative(values: list[float]) -> None:
    latency = summarise(values)
    assert min(values) == latency.min <= latency.median <= latency.p90 <= latency.p99 <= max(values)
    assert latency.std >= 0
    assert latency.cv >= 0


@given(times, st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy_linear(values: list[float], q: float) -> None:
    expected = float(np.percentile(values, q, method="linear"))
    assert percentile(sorted(values), q) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_a_single_time_is_every_statistic() -> None:
    latency = summarise([3.0])
    assert (latency.median, latency.p90, latency.p99, latency.min, latency.std, latency.cv) == (
        3.0,
        3.0,
        3.0,
        3.0,
        0.0,
        0.0,
    )


@pytest.mark.parametrize("bad", [[], [1.0, -1.0], [1.0, math.inf], [math.nan]])
def test_no_or_impossible_timings_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="timings"):
        summarise(bad)


def test_percentile_outside_0_100_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)
