"""``--json``'s ``diff``: DVC's shape, grouped by file, changed rows unless ``--all``."""

from __future__ import annotations

import math

from cml.report.diff import metric_rows, param_rows
from cml.report.jsondiff import diff, entry
from cml.report.sources import Sources


def test_entries_like_dvc() -> None:
    assert entry(0.9, 0.87) == {"old": 0.9, "new": 0.87, "diff": 0.87 - 0.9}
    assert entry(3, 4) == {"old": 3, "new": 4, "diff": 1}
    assert isinstance(entry(3, 4)["diff"], int)
    assert entry(None, 2.0) == {"old": None, "new": 2.0}
    assert entry("ok", "bad") == {"old": "ok", "new": "bad"}
    assert entry(True, False) == {"old": True, "new": False}
    assert entry([1], [1, 2]) == {"old": [1], "new": [1, 2]}
    assert math.isnan(entry(5.0, math.nan)["diff"])


def test_grouped_by_file_changed_only_unless_all() -> None:
    sources = Sources(metrics=("a.json", "sub/a.json"), params=("params.yaml",))
    base = {"a.json:acc": 0.5, "sub/a.json:acc": 0.7, "a.json:loss": 1.0}
    head = {"a.json:acc": 0.6, "sub/a.json:acc": 0.7, "a.json:loss": 1.0}
    metrics = metric_rows(base, head)
    params = param_rows({"lr": 0.1, "batch": 4}, {"lr": 0.2, "batch": 4})
    assert diff(metrics, params, sources, show_all=False) == {
        "metrics": {"a.json": {"acc": {"old": 0.5, "new": 0.6, "diff": 0.6 - 0.5}}},
        "params": {"params.yaml": {"lr": {"old": 0.1, "new": 0.2, "diff": 0.2 - 0.1}}},
    }
    every = diff(metrics, params, sources, show_all=True)
    assert every["metrics"]["sub/a.json"] == {"acc": {"old": 0.7, "new": 0.7, "diff": 0.0}}
    assert every["metrics"]["a.json"]["loss"] == {"old": 1.0, "new": 1.0, "diff": 0.0}
    assert every["params"]["params.yaml"]["batch"] == {"old": 4, "new": 4, "diff": 0}


def test_without_a_baseline_every_value_is_new() -> None:
    sources = Sources(metrics=("m.json",))
    got = diff(metric_rows(None, {"acc": 0.5}), [], sources, show_all=False)
    assert got == {"metrics": {"m.json": {"acc": {"old": None, "new": 0.5}}}, "params": {}}
