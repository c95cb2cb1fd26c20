from __future__ import annotations

from collections.abc import Callable

import pytest

from cml.report.diff import direction, metric_rows, param_rows
from cml.report.experiments import Run, ranked, table
from cml.report.tables import metrics_table, number, params_table, signed

Golden = Callable[[str, str], None]

BASE = {"accuracy": 0.91, "val_loss": 0.30, "f1": 0.8, "latency_ms": 12.0, "dropped": 1.0}
HEAD = {"accuracy": 0.912345678, "val_loss": 0.35, "f1": 0.8, "latency_ms": 10.5, "new_metric": 3.0}


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("accuracy", "higher"),
        ("val_loss", "lower"),
        ("Train/Error", "lower"),
        ("p95_latency", "lower"),
        ("model_size", "lower"),
        ("eval.json:rmse", "lower"),
        ("f1", "higher"),
    ],
)
def test_direction_from_words(name: str, want: str) -> None:
    assert direction(name) == want


def test_direction_overrides_by_full_or_bare_name() -> None:
    assert direction("a.json:loss_scale", higher=frozenset({"loss_scale"})) == "higher"
    assert direction("throughput", lower=frozenset({"throughput"})) == "lower"


def test_numbers() -> None:
    assert number(0.912345678) == "0.91235"
    assert number(12345678.9) == "1.2346e+07"
    assert number(3.0) == "3"
    assert number(None) == "—"
    assert signed(0.5) == "+0.5"
    assert signed(-2.0) == "-2"


def test_metrics_changed_only(golden: Golden) -> None:
    rows = metric_rows(BASE, HEAD)
    golden("metrics_changed", metrics_table(rows, show_all=False, has_base=True))


def test_metrics_all(golden: Golden) -> None:
    rows = metric_rows(BASE, HEAD)
    golden("metrics_all", metrics_table(rows, show_all=True, has_base=True))


def test_metrics_without_baseline(golden: Golden) -> None:
    golden("metrics_no_base", metrics_table(metric_rows(None, HEAD), show_all=False, has_base=False))


def test_verdicts_follow_direction() -> None:
    verdicts = {r.name: r.verdict for r in metric_rows(BASE, HEAD)}
    assert verdicts == {
        "accuracy": "better",
        "val_loss": "worse",
        "f1": "same",
        "latency_ms": "better",
        "new_metric": "new",
        "dropped": "gone",
    }


def test_long_tables_fold(golden: Golden) -> None:
    base = {f"m{i:02}": float(i) for i in range(20)}
    head = {f"m{i:02}": float(i) + 0.5 for i in range(20)}
    text = metrics_table(metric_rows(base, head), show_all=False, has_base=True)
    golden("metrics_folded", text)
    assert text.startswith("<details><summary>20 metrics</summary>")


def test_nothing_changed_is_empty() -> None:
    assert metrics_table(metric_rows(BASE, BASE), show_all=False, has_base=True) == ""


def test_params(golden: Golden) -> None:
    base = {"lr": 0.1, "batch": 32, "model.depth": 3, "optimizer": "sgd", "old": True, "seed": None}
    head = {"lr": 0.01, "batch": 32, "model.depth": 4, "optimizer": "a|b", "seed": None, "augment": False}
    rows = param_rows(base, head)
    assert [r.change for r in rows] == ["changed", "same", "changed", "changed", "same", "added", "removed"]
    golden("params_changed", params_table(rows, show_all=False, has_base=True))


def test_param_int_and_float_equal_is_unchanged() -> None:
    assert [r.change for r in param_rows({"a": 1, "b": True}, {"a": 1.0, "b": 1})] == ["same", "changed"]


RUNS = [
    Run(name="lr-0.1", params={"lr": 0.1, "epochs": 10}, metrics={"accuracy": 0.81, "loss": 0.5}),
    Run(name="lr-0.01", params={"lr": 0.01, "epochs": 10}, metrics={"accuracy": 0.93, "loss": 0.2}),
    Run(name="lr-0.001", params={"lr": 0.001, "epochs": 10}, metrics={"accuracy": 0.88, "loss": 0.3}),
    Run(name="broken", params={"lr": 1.0, "epochs": 10}, metrics={"loss": 9.0}),
]


def test_experiments_ranked_by_accuracy(golden: Golden) -> None:
    golden("experiments_accuracy", table(RUNS, "accuracy", frozenset(), frozenset()))


def test_experiments_ranked_by_loss_lower_first() -> None:
    assert [r.name for r in ranked(RUNS, "loss", frozenset(), frozenset())] == [
        "lr-0.01",
        "lr-0.001",
        "lr-0.1",
        "broken",
    ]
    assert ranked(RUNS, "loss", frozenset(), frozenset({"loss"}))[0].name == "broken"


def test_values_that_are_not_numbers(golden: Golden) -> None:
    """Text, booleans, NaN, ±inf and lists: each shown as itself, none sinks the table (issue 12)."""
    nan, inf = float("nan"), float("inf")
    base = {"status": "ok", "converged": True, "loss": 0.3, "grad_norm": 1.0, "auc": nan, "best": 2.0}
    head = {"status": "diverged", "converged": False, "loss": nan, "grad_norm": inf, "auc": nan, "best": -inf}
    rows = metric_rows(base, head)
    golden("metrics_odd_values", metrics_table(rows, show_all=True, has_base=True))
    params = param_rows(
        {"layers": [64, 32], "name": "small", "dropout": None, "flags": {"a": 1}},
        {"layers": [128, 64, 32], "name": "small", "dropout": 0.2, "flags": {"a": 1}},
    )
    golden("params_odd_values", params_table(params, show_all=True, has_base=True))
