"""What the report's figures contain, without a browser: titles, axis labels, legends, the log-FPR
ROC view, the confusion colour scale, and each plot drawn once."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cml.report import figures
from cml.report._plotly import to_plotly
from cml.report.build import ReportData
from cml.report.confusion import section
from cml.report.draw import draw
from cml.report.gate import GateResult
from cml.report.pipeline import Computed, Options
from cml.report.readers import Record
from cml.report.snapshot import Snapshot
from cml.report.sources import ConfusionSpec, PlotSpec, Sources, parse_plot, sklearn
from tests.fakes import plots as standin

LOG = {"log.csv": [{"epoch": 1, "acc": 0.5, "loss": 1.0}, {"epoch": 2, "acc": 0.75, "loss": 0.5}]}


def _figure(spec: PlotSpec, head: dict[str, list[Record]], base: dict[str, list[Record]] | None = None):  # type: ignore[no-untyped-def]
    return figures.figure(spec, figures.lines(spec, head, base))


def _roc(points: int, sharpness: float) -> list[Record]:
    """A ROC curve tpr = fpr ** (1 / sharpness) (AUC = sharpness / (sharpness + 1)), from (0, 0)."""
    fprs = [0.0] + [10 ** (-4 + 4 * i / (points - 1)) for i in range(points)]
    return [{"fpr": f, "tpr": f ** (1 / sharpness), "threshold": 1 - f} for f in fprs]


@pytest.mark.parametrize(
    ("spec", "records", "title", "x_label", "y_label"),
    [
        (parse_plot("log.csv:epoch:acc,loss"), LOG, "acc, loss by epoch", "epoch", "acc, loss"),
        (parse_plot("log.csv::loss"), LOG, "loss by step", "step", "loss"),
        (sklearn("plots/sklearn/roc.json"), {"plots/sklearn/roc.json": _roc(5, 3)}, "ROC",
         "false positive rate", "true positive rate"),
        (sklearn("plots/sklearn/precision_recall.json"),
         {"plots/sklearn/precision_recall.json": [{"recall": 1.0, "precision": 0.5}]},
         "precision-recall", "recall", "precision"),
        (sklearn("plots/sklearn/calibration.json"),
         {"plots/sklearn/calibration.json": [{"prob_pred": 0.1, "prob_true": 0.2}]},
         "calibration", "mean predicted probability", "fraction of positives"),
    ],
)  # fmt: skip
def test_titles_say_what_the_plot_shows_not_the_file(
    spec: PlotSpec, records: dict[str, list[Record]], title: str, x_label: str, y_label: str
) -> None:
    fig = _figure(spec, records)
    assert (fig.title, fig.x_label, fig.y_label) == (title, x_label, y_label)
    assert ".csv" not in fig.title
    assert ".json" not in fig.title


def test_dvc_yaml_title_and_axis_labels_win() -> None:
    spec = PlotSpec(
        title="Training", kind="line", series=(("log.csv", "epoch", "loss"),), x_label="Epoch", y_label="Loss"
    )
    fig = _figure(spec, LOG)
    assert (fig.title, fig.x_label, fig.y_label) == ("Training", "Epoch", "Loss")
    dvclive = PlotSpec(title="", kind="line", series=(("log.csv", "epoch", "loss"),), y_label="train/loss")
    assert _figure(dvclive, LOG).title == "train/loss by epoch"


def test_every_plot_has_a_base_head_legend_even_with_one_trace() -> None:
    spec = parse_plot("log.csv:epoch:acc")
    lone = to_plotly(_figure(spec, LOG))
    assert [t["name"] for t in lone["data"]] == ["head"]
    assert lone["layout"]["showlegend"] is True  # explicit: plotly hides a one-trace legend by default
    pair = to_plotly(_figure(spec, LOG, {"log.csv": LOG["log.csv"][:1]}))
    assert [t["name"] for t in pair["data"]] == ["head", "base"]
    assert [t["line"]["dash"] for t in pair["data"]] == ["solid", "dash"]
    many = to_plotly(_figure(parse_plot("log.csv:epoch:acc,loss"), LOG, LOG))
    names = [t["name"] for t in many["data"]]
    assert names == ["acc (head)", "acc (base)", "loss (head)", "loss (base)"]
    colors = [t["line"]["color"] for t in many["data"]]
    assert colors[0] == colors[1] != colors[2] == colors[3]  # a head and its baseline share a colour


def test_a_near_perfect_roc_gets_a_log_fpr_view() -> None:
    spec = sklearn("plots/sklearn/roc.json")
    head, base = {spec.series[0][0]: _roc(30, 200)}, {spec.series[0][0]: _roc(30, 50)}
    drawn = figures.lines(spec, head, base)
    assert all(figures.auc(line) > 0.98 for line in drawn)
    linear, log = figures.views(spec, drawn)
    assert (linear.title, linear.x_log) == ("ROC", False)
    assert (log.title, log.x_log, log.x_label) == ("ROC (log FPR)", True, "false positive rate (log scale)")
    assert [s.name for s in log.series] == ["head", "base"]
    assert all(x > 0 for s in log.series for x in s.x)  # FPR 0 has no place on a log axis
    assert len(log.series[0].x) == len(linear.series[0].x) - 1
    assert to_plotly(log)["layout"]["xaxis"]["type"] == "log"
    assert "type" not in to_plotly(linear)["layout"]["xaxis"]
    # Far from AUC 1 the linear view separates the curves: no second view.
    weak = {spec.series[0][0]: _roc(30, 1.5)}
    assert len(figures.views(spec, figures.lines(spec, weak, None))) == 1


def test_auc_is_the_trapezoid_area() -> None:
    line = figures.Line(name="head", key=("r", "fpr", "tpr"), x=(0.0, 0.5, 1.0), y=(0.0, 1.0, 1.0))
    assert figures.auc(line) == pytest.approx(0.75)


def test_a_file_named_twice_is_drawn_once_keeping_the_given_title() -> None:
    flag = parse_plot("log.csv:epoch:loss")
    yaml = PlotSpec(title="Loss", kind="line", series=(("log.csv", "epoch", "loss"),), y_label="Loss")
    other = parse_plot("log.csv:epoch:acc")
    drawn = [(s, figures.lines(s, LOG, None)) for s in (flag, other, yaml)]
    kept = figures.unique(drawn)
    assert [(spec.title, spec.y_label) for spec, _ in kept] == [("Loss", "Loss"), ("", "")]
    assert [line.key for _, lines in kept for line in lines] == [
        ("log.csv", "epoch", "loss"),
        ("log.csv", "epoch", "acc"),
    ]
    # DVC's default y (the last column) and the same column named: the same series.
    last = PlotSpec(title="", kind="line", series=(("log.csv", "epoch", ""),))
    assert len(figures.unique([(s, figures.lines(s, LOG, None)) for s in (last, flag)])) == 1


def test_confusion_colour_scale_keeps_one_error_visible() -> None:
    pairs = [("a", "a")] * 500 + [("a", "b")] + [("b", "b")] * 480
    base = [("a", "a")] * 500 + [("b", "b")] * 481
    figs = section(pairs, base, title="t")[1]
    assert [f.title for f in figs] == ["confusion matrix (base)", "confusion matrix (head)"]
    trace = to_plotly(figs[1])["data"][0]
    assert trace["text"] == [["500", "1"], ["0", "480"]]
    assert trace["texttemplate"] == "%{text}"
    assert (trace["zmin"], trace["zmax"]) == (0, 1)
    one, zero = trace["z"][0][1], trace["z"][1][0]
    assert zero == 0
    assert one > 0.1
    # The colour of a 0 is white; any count above 0 starts at a visible blue.
    scale = trace["colorscale"]
    assert scale[0] == [0.0, "#ffffff"]
    assert scale[1][0] < one
    assert scale[1][1] != "#ffffff"
    # On a linear scale the lone error would be 1/500 of the way up: as white as 0 to the eye.
    assert 1 / 500 < 0.01 < one
    assert math.isclose(trace["z"][0][0], 1.0)


def test_draw_draws_each_plot_and_confusion_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    standin.install(monkeypatch)
    preds = [
        {"actual": "a", "predicted": "a"},
        {"actual": "a", "predicted": "b"},
        {"actual": "b", "predicted": "b"},
    ]
    records = {**LOG, "preds.json": preds}
    sources = Sources(
        plots=(
            parse_plot("log.csv:epoch:loss"),
            PlotSpec(title="Loss", kind="line", series=(("log.csv", "epoch", "loss"),)),
        ),
        confusions=(
            ConfusionSpec(path="preds.json", actual="actual", predicted="predicted"),
            ConfusionSpec(path="preds.json", actual="actual", predicted="predicted", title="Errors"),
            ConfusionSpec(path="preds.json", actual="predicted", predicted="actual"),
        ),
    )
    snap = Snapshot(records=records, origin="work tree")
    data = ReportData(title="R", head_sha="a" * 40)
    done = Computed(
        head=snap, base=snap, base_sha="b" * 40, sources=sources, data=data, gate=GateResult(checks=())
    )
    out = draw(done, Options(sources=sources), tmp_path)
    assert [title for title, _ in out.images] == ["Loss"]  # the flag and dvc.yaml's plot: one figure
    assert [title for title, _ in out.extra] == ["Errors", "Confusion matrix"]
    for _, markdown in out.extra:  # each section shows its own base and head, side by side
        assert markdown.count('<img src="') == 2
    assert len(list(tmp_path.glob("*.png"))) == 1 + 2 * 2
