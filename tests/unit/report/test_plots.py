"""Plot figures without a browser: validation, file names, browser lookup, plotly styling."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cml.errors import ConfigError
from cml.report.plots import Figure, Series, file_names, find_browser, render


def _line(title: str = "ROC", kind: str = "line") -> Figure:
    return Figure(
        title=title,
        kind=kind,  # type: ignore[arg-type]
        x_label="fpr",
        y_label="tpr",
        series=[
            Series(name="base", x=[0, 0.5, 1], y=[0, 0.6, 1]),
            Series(name="head", x=[0, 0.5, 1], y=[0, 0.8, 1]),
        ],
    )


def _executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_series_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="'head' of 'ROC': 2 x but 1 y"):
        Figure(
            title="ROC", kind="line", x_label="", y_label="", series=[Series(name="head", x=[1, 2], y=[1])]
        )


def test_heatmap_needs_square_z() -> None:
    labels = Series(name="head", x=["a", "b"], y=[])
    with pytest.raises(ValueError, match="square z"):
        Figure(title="cm", kind="heatmap", x_label="", y_label="", series=[labels], z=[[1, 2]])
    fig = Figure(title="cm", kind="heatmap", x_label="", y_label="", series=[labels], z=[[1, 2], [3, 4]])
    assert fig.z == [[1, 2], [3, 4]]


def test_file_names_are_unique_slugs() -> None:
    names = file_names([_line("Precision / Recall"), _line("Precision / Recall"), _line("!!!")])
    assert names == ["01-precision-recall.png", "02-precision-recall.png", "03-figure.png"]


def test_browser_path_wins(tmp_path: Path) -> None:
    chosen = _executable(tmp_path / "my-chrome")
    _executable(tmp_path / "chromium")
    assert find_browser({"BROWSER_PATH": str(chosen), "PATH": str(tmp_path)}) == str(chosen)


def test_headless_shell_preferred_on_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    _executable(first / "chromium")
    shell = _executable(second / "chromium-headless-shell")
    assert find_browser({"PATH": f"{first}{os.pathsep}{second}"}) == str(shell)
    assert find_browser({"PATH": str(first)}) == str(first / "chromium")


def test_missing_browser_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="chromium-headless-shell") as caught:
        find_browser({"PATH": str(tmp_path)})
    assert caught.value.exit_code == 3
    assert "no Chromium found on PATH" in str(caught.value)


def test_bad_browser_path_is_named(tmp_path: Path) -> None:
    not_exe = tmp_path / "chrome"
    not_exe.write_text("")
    with pytest.raises(ConfigError, match=f"BROWSER_PATH={not_exe} is not an executable"):
        find_browser({"BROWSER_PATH": str(not_exe), "PATH": "/usr/bin"})


def test_render_without_browser_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "plots"
    with pytest.raises(ConfigError, match="chromium-headless-shell"):
        render([_line()], out, env={"PATH": str(tmp_path)})
    assert not out.exists()


def test_render_nothing_needs_no_browser(tmp_path: Path) -> None:
    assert render([], tmp_path, env={}) == []


def test_plotly_styling() -> None:
    from cml.report._plotly import BASE_COLOR, HEAD_COLOR, to_plotly

    fig = to_plotly(_line(kind="step"))
    assert [t["name"] for t in fig["data"]] == ["base", "head"]
    assert [t["line"]["color"] for t in fig["data"]] == [BASE_COLOR, HEAD_COLOR]
    assert {t["line"]["shape"] for t in fig["data"]} == {"hv"}
    layout = fig["layout"]
    assert layout["title"]["text"] == "ROC"
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == ("fpr", "tpr")
    assert layout["paper_bgcolor"] == "white"


def test_plotly_heatmap_uses_category_axes() -> None:
    from cml.report._plotly import to_plotly

    labels = Series(name="head", x=["0", "1"], y=[])
    cm = Figure(
        title="cm", kind="heatmap", x_label="Predicted", y_label="Actual", series=[labels], z=[[5, 1], [2, 7]]
    )
    fig = to_plotly(cm)
    assert fig["data"][0]["type"] == "heatmap"
    assert fig["data"][0]["z"] == [[5, 1], [2, 7]]
    assert fig["layout"]["xaxis"]["type"] == fig["layout"]["yaxis"]["type"] == "category"
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"


def test_bar_labels_and_categorical_axis() -> None:
    from cml.report._plotly import to_plotly

    bars = Figure(
        title="Metrics", kind="bar", x_label="metric", y_label="value",
        series=[Series(name="head", x=["acc", "f1"], y=[0.912345, 1.0])],
    )  # fmt: skip
    fig = to_plotly(bars)
    assert fig["data"][0]["type"] == "bar"
    assert fig["data"][0]["text"] == ["0.9123", "1"]
    assert fig["layout"]["xaxis"]["type"] == "category"
    assert "type" not in fig["layout"]["yaxis"]


def test_current_kaleido_keeps_one_page() -> None:
    import kaleido

    from cml.report._render import kaleido_class as _kaleido_class

    cls = _kaleido_class()
    assert cls is not kaleido.Kaleido, "kaleido internals moved: every figure reloads plotly.js again"
    assert issubclass(cls, kaleido.Kaleido)


def test_page_loads_nothing_from_the_network() -> None:
    from kaleido import PageGenerator

    from cml.report.plots import plotly_js

    page = PageGenerator(plotly=plotly_js(), mathjax=False).generate_index()
    assert plotly_js() in page
    assert "http" not in page.replace("http-equiv", "")
