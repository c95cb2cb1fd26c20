from __future__ import annotations

import sys

import pytest

from cml.errors import ConfigError, InputError
from cml.report import figures
from cml.report.sources import PlotSpec
from tests.fakes import plots as standin

SPEC = PlotSpec(title="acc", kind="line", series=(("log.csv", "epoch", "acc"),))
HEAD = {"log.csv": [{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.75}]}
BASE = {"log.csv": [{"epoch": 1, "acc": 0.4}]}


def test_head_and_base_overlaid() -> None:
    drawn = figures.lines(SPEC, HEAD, BASE)
    assert [(line.name, line.x, line.y) for line in drawn] == [
        ("head", (1.0, 2.0), (0.5, 0.75)),
        ("base", (1.0,), (0.4,)),
    ]
    # A lone trace is still named, so the legend says which commit it is.
    assert [line.name for line in figures.lines(SPEC, HEAD, None)] == ["head"]
    assert [line.name for line in figures.lines(SPEC, HEAD, {})] == ["head"]


def test_row_index_and_string_x() -> None:
    spec = PlotSpec(title="t", kind="bar", series=(("b.json", None, "n"),))
    assert figures.lines(spec, {"b.json": [{"n": 3}, {"n": 4}]}, None)[0].x == (0.0, 1.0)
    spec = PlotSpec(title="t", kind="bar", series=(("b.json", "label", "n"),))
    assert figures.lines(spec, {"b.json": [{"label": "cat", "n": 3}]}, None)[0].x == ("cat",)


def test_several_files_are_named_by_file() -> None:
    spec = PlotSpec(title="t", kind="line", series=(("a.csv", "x", "y"), ("b.csv", "x", "y")))
    recs = {"a.csv": [{"x": 0, "y": 1}], "b.csv": [{"x": 0, "y": 2}]}
    assert [line.name for line in figures.lines(spec, recs, recs)] == [
        "y (a.csv) (head)",
        "y (a.csv) (base)",
        "y (b.csv) (head)",
        "y (b.csv) (base)",
    ]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"epoch": 1, "acc": 0.5}, {"epoch": 2}], "log.csv: record 1: no column 'acc' (columns: epoch)"),
        ([{"step": 1, "acc": 0.5}], "log.csv: record 0: no column 'epoch' (columns: step, acc)"),
        ([{"epoch": 1, "acc": "n/a"}], "log.csv: record 0: column 'acc': not a number ('n/a')"),
        ([{"epoch": 1, "acc": float("nan")}], "log.csv: record 0: column 'acc': not a number ('nan')"),
    ],
)
def test_bad_plot_data(records: list[dict[str, object]], message: str) -> None:
    with pytest.raises(InputError) as err:
        figures.lines(SPEC, {"log.csv": records}, None)
    assert str(err.value) == message


def test_figure_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    standin.install(monkeypatch)
    fig = figures.figure(SPEC, figures.lines(SPEC, HEAD, BASE))
    assert (fig.title, fig.kind, fig.x_label, fig.y_label) == ("acc", "line", "epoch", "acc")
    assert [(s.name, list(s.y)) for s in fig.series] == [("head", [0.5, 0.75]), ("base", [0.4])]


def test_missing_plots_module_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cml.report.plots", None)
    with pytest.raises(ConfigError, match="plot rendering is not available"):
        figures.figure(SPEC, [])
