"""Numbers that differ never print the same; a non-zero delta never prints as zero."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from cml.report.diff import metric_rows, param_rows
from cml.report.tables import metrics_table, number, numbers, params_table, signed

finite = st.floats(allow_nan=False, allow_infinity=False)


@given(finite, finite)
def test_different_values_print_differently(a: float, b: float) -> None:
    x, y = numbers([a, b])
    assert (x == y) == (a == b)
    assert x == number(a) or a != b  # equal values keep the short form


@given(finite, finite)
def test_nonzero_delta_never_prints_as_zero(a: float, b: float) -> None:
    delta = b - a
    text = signed(delta)
    if delta != 0:
        assert text.lstrip("+-") != "0"
        assert float(text) != 0
        assert text.startswith("-") == (delta < 0)
    else:
        assert text == "+0"


@given(st.lists(finite, min_size=1, max_size=6))
def test_a_column_keeps_distinct_values_distinct(values: list[float]) -> None:
    texts = numbers(values)
    assert len(set(texts)) == len(set(values))


def test_examples() -> None:
    assert numbers([0.9123, 0.9124]) == ["0.9123", "0.9124"]
    assert numbers([0.912341, 0.912342]) == ["0.912341", "0.912342"]
    assert numbers([3.0, 3.0000000001]) == ["3", "3.0000000001"]
    assert numbers([0.5, 0.25]) == ["0.5", "0.25"]  # no widening when not needed
    assert signed(1e-5) == "+1e-05"
    assert [number(math.nan), number(math.inf), number(-math.inf)] == ["NaN", "inf", "-inf"]


def test_metrics_table_widens_and_keeps_delta() -> None:
    rows = metric_rows({"accuracy": 0.912341}, {"accuracy": 0.912342})
    line = metrics_table(rows, show_all=False, has_base=True).splitlines()[-1]
    assert "0.912341" in line
    assert "0.912342" in line
    assert "+1e-06 🟢" in line


def test_one_ulp_change_is_shown_in_every_column() -> None:
    head = math.nextafter(1e300, math.inf)
    line = metrics_table(metric_rows({"loss": 1e300}, {"loss": head}), show_all=False, has_base=True)
    assert [c.strip() for c in line.splitlines()[-1].split("|")[2:6]] == [
        "1e+300",
        "1.0000000000000002e+300",
        "↑ +1.487e+284 🔴",
        "+1.49e-14%",
    ]


def test_changed_float_param_widened() -> None:
    table = params_table(param_rows({"lr": 0.00100001}, {"lr": 0.00100002}), show_all=False, has_base=True)
    assert "0.00100001 → 0.00100002" in table
