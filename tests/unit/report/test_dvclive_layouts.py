"""The built-in reader on the layouts dvclive 3.49 writes, and values of every kind in the tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

from cml.report import tables
from cml.report.diff import metric_rows, param_rows
from cml.report.gate import check, parse_rule
from cml.report.readers import read_metrics, read_params
from cml.report.sources import ConfusionSpec, discover


def _dvclive(root: Path, folder: str = "dvclive") -> None:
    live = root / folder
    (live / "plots" / "metrics" / "train").mkdir(parents=True)
    (live / "plots" / "sklearn").mkdir(parents=True)
    (live / "metrics.json").write_text('{"train": {"loss": 0.2}, "step": 2}')
    (live / "params.yaml").write_text("lr: 0.01\nlayers: [64, 32]\n")
    (live / "plots" / "metrics" / "train" / "loss.tsv").write_text(
        "timestamp\tstep\tloss\n1\t0\t0.5\n2\t1\t0.2\n"
    )
    (live / "plots" / "sklearn" / "roc.json").write_text(
        json.dumps({"roc": [{"fpr": 0, "tpr": 0, "threshold": 1}]})
    )
    (live / "plots" / "sklearn" / "confusion_matrix.json").write_text('[{"actual": "0", "predicted": "1"}]')


def test_root_dvc_yaml_with_a_folder_plot_target(tmp_path: Path) -> None:
    _dvclive(tmp_path)
    (tmp_path / "dvc.yaml").write_text(
        "metrics:\n- dvclive/metrics.json\nplots:\n- dvclive/plots/metrics:\n    x: step\n"
        "- dvclive/plots/sklearn/confusion_matrix.json:\n    template: confusion\n    x: actual\n"
        "    y: predicted\n    title: Confusion Matrix\nparams:\n- dvclive/params.yaml\n"
    )
    src = discover(tmp_path)
    assert src.notes == ()
    assert src.metrics == ("dvclive/metrics.json",)
    assert src.params == ("dvclive/params.yaml",)
    assert [p.series for p in src.plots] == [(("dvclive/plots/metrics/train/loss.tsv", "step", ""),)]
    assert src.confusions == (
        ConfusionSpec(
            path="dvclive/plots/sklearn/confusion_matrix.json",
            actual="actual",
            predicted="predicted",
            title="Confusion Matrix",  # dvc.yaml's title
        ),
    )


def test_nested_dvc_yaml_paths_are_relative_to_its_folder(tmp_path: Path) -> None:
    _dvclive(tmp_path, "dvclive")
    (tmp_path / "dvclive" / "dvc.yaml").write_text(
        "metrics:\n- metrics.json\nplots:\n- plots/metrics:\n    x: step\n- plots/sklearn/roc.json:\n"
        "    template: simple\n    x: fpr\n    y: tpr\nparams:\n- params.yaml\n- missing.yaml\n"
    )
    src = discover(tmp_path)
    assert src.metrics == ("dvclive/metrics.json",)
    assert [s for p in src.plots for s in p.series] == [
        ("dvclive/plots/metrics/train/loss.tsv", "step", ""),
        ("dvclive/plots/sklearn/roc.json", "fpr", "tpr"),
    ]
    assert src.notes == ("dvclive/dvc.yaml: params: missing.yaml: no such file; not read",)


def test_stage_param_filters(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("train: {lr: 1}\nseed: 3\n")
    (tmp_path / "dvc.yaml").write_text("stages:\n  s:\n    cmd: x\n    params:\n    - train\n")
    assert discover(tmp_path).param_keys == (("params.yaml", ("train",)),)


def test_text_nan_and_list_values_render_as_such() -> None:
    base = read_metrics('{"status": "ok", "ok": true, "acc": 0.9}', "m.json")
    head = read_metrics('{"status": "diverged", "ok": true, "acc": NaN}', "m.json")
    table = tables.metrics_table(metric_rows(base, head), show_all=False, has_base=True)
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert rows == [["status", "ok", "diverged", "changed", "—"], ["acc", "0.9", "NaN", "🔴", "—"]]
    params = param_rows(
        read_params("layers: [64, 32]\n", "p.yaml"), read_params("layers: [128, 64, 32]\n", "p.yaml")
    )
    assert "| layers  | [64, 32] → [128, 64, 32] |" in tables.params_table(
        params, show_all=False, has_base=True
    )


def test_nan_and_inf_trip_the_gate_and_text_is_skipped() -> None:
    rows = metric_rows({"acc": 0.9, "s": "a"}, {"acc": math.inf, "s": "b"})
    assert check(parse_rule("acc < 0.5", "fail"), rows[0]).outcome == "tripped"
    assert check(parse_rule("s < 0.5", "fail"), rows[1]).outcome == "skipped"
