"""Real Chromium renders real PNGs: right size, not blank, base and head both drawn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cml.errors import ConfigError
from cml.report import plots
from cml.report._plotly import BASE_COLOR, HEAD_COLOR
from cml.report.confusion import section
from cml.report.plots import Figure, Series, find_browser, render
from tests.integration.report import png

pytestmark = pytest.mark.slow

HEAD = [("cat", "cat")] * 30 + [("cat", "dog")] * 4 + [("dog", "dog")] * 25 + [("dog", "cat")] * 6
BASE = [("cat", "cat")] * 26 + [("cat", "dog")] * 8 + [("dog", "dog")] * 28 + [("dog", "cat")] * 3


@pytest.fixture(scope="module")
def browser() -> str:
    try:
        return find_browser(os.environ)
    except ConfigError as exc:
        pytest.fail(f"these tests need Chromium: {exc}")


def _curve(kind: str) -> Figure:
    xs = [i / 10 for i in range(11)]
    return Figure(
        title=f"Precision-recall ({kind})",
        kind=kind,  # type: ignore[arg-type]
        x_label="recall",
        y_label="precision",
        series=[
            Series(name="base", x=xs, y=[1 - 0.5 * x * x for x in xs]),
            Series(name="head", x=xs, y=[1 - 0.3 * x * x for x in xs]),
        ],
    )


def test_renders_every_kind_with_one_browser(tmp_path: Path, browser: str) -> None:
    bar = Figure(
        title="Metrics",
        kind="bar",
        x_label="metric",
        y_label="value",
        series=[
            Series(name="base", x=["acc", "f1"], y=[0.8, 0.7]),
            Series(name="head", x=["acc", "f1"], y=[0.85, 0.72]),
        ],
    )
    heatmap = section(HEAD, BASE, title="Classifier")[1][-1]  # head's (base's comes first)
    figures = [_curve("line"), _curve("step"), _curve("scatter"), bar, heatmap]
    paths = render(figures, tmp_path / "out", env={"BROWSER_PATH": browser})
    assert [p.name for p in paths] == plots.file_names(figures)
    for path in paths:
        image = png.read(path)
        assert (image.width, image.height) == (plots.WIDTH * plots.SCALE, plots.HEIGHT * plots.SCALE)
        colours = image.colours()
        assert (255, 255, 255) in colours, f"{path.name}: no white background"
        assert len(colours) >= 8, f"{path.name} looks blank: {len(colours)} colours"


@pytest.mark.parametrize("kind", ["line", "step", "bar"])
def test_base_and_head_colours_both_appear(tmp_path: Path, browser: str, kind: str) -> None:
    fig = _curve(kind)
    (path,) = render([fig], tmp_path, env={"BROWSER_PATH": browser})
    colours = png.read(path).colours()
    assert png.rgb(BASE_COLOR) in colours
    assert png.rgb(HEAD_COLOR) in colours


def test_head_only_figure_has_no_base_colour(tmp_path: Path, browser: str) -> None:
    fig = _curve("line")
    head_only = Figure(
        title=fig.title, kind="line", x_label=fig.x_label, y_label=fig.y_label, series=[fig.series[1]]
    )
    (path,) = render([head_only], tmp_path, env={"BROWSER_PATH": browser})
    colours = png.read(path).colours()
    assert png.rgb(HEAD_COLOR) in colours
    assert png.rgb(BASE_COLOR) not in colours


def test_nan_and_infinite_values_are_gaps_not_errors(tmp_path: Path, browser: str) -> None:
    """A loss that went NaN or inf mid-run: the renderer sends strict JSON (null), plotly.js draws a gap."""
    nan, inf = float("nan"), float("inf")
    fig = Figure(
        title="loss by step",
        kind="line",
        x_label="step",
        y_label="loss",
        series=[Series(name="head", x=[1, 2, 3, 4, 5], y=[0.9, nan, 0.5, inf, 0.2])],
    )
    (path,) = render([fig], tmp_path, env={"BROWSER_PATH": browser})
    assert png.rgb(HEAD_COLOR) in png.read(path).colours()


def test_the_browser_is_gone_and_its_profile_removed_after_a_render(tmp_path: Path, browser: str) -> None:
    """The renderer kills its Chromium after answering (no graceful close on the caller's path): no
    browser process and no profile folder may be left."""
    import tempfile

    from cml import proc

    def profiles() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("cml-chromium-*"))

    before = profiles()
    render([_curve("line")], tmp_path, env={"BROWSER_PATH": browser})
    assert profiles() == before
    assert [pid for pid in proc.descendants(proc.children()) if "cml-chromium-" in _cmdline(pid)] == []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:  # gone meanwhile
        return ""


def test_reused_page_leaks_nothing_between_figures(tmp_path: Path, browser: str) -> None:
    heatmap = section(HEAD, BASE, title="Classifier")[1][-1]  # head's (base's comes first)
    together = render([heatmap, _curve("step")], tmp_path / "a", env={"BROWSER_PATH": browser})
    alone = render([_curve("step")], tmp_path / "b", env={"BROWSER_PATH": browser})
    assert together[1].read_bytes() == alone[0].read_bytes()


def test_found_on_path_by_name(tmp_path: Path, browser: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chromium").symlink_to(browser)
    (path,) = render([_curve("line")], tmp_path / "out", env={"PATH": str(bin_dir)})
    assert png.read(path).width == plots.WIDTH * plots.SCALE


_OFFLINE = """
import sys
from pathlib import Path
from cml.report.plots import Figure, Series, render
line = Series(name="head", x=[0, 1], y=[0, 1])
fig = Figure(title="offline", kind="line", x_label="x", y_label="y", series=[line])
print(render([fig], Path(sys.argv[1]))[0])
"""


def test_renders_without_any_network(tmp_path: Path, browser: str) -> None:
    if subprocess.run(["unshare", "-n", "true"], check=False, capture_output=True).returncode:
        pytest.skip("cannot make a network namespace here (needs root and unshare)")
    env = {**os.environ, "BROWSER_PATH": browser, "PYTHONPATH": str(Path(__file__).parents[3])}
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", _OFFLINE, str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert png.read(Path(done.stdout.strip())).width == plots.WIDTH * plots.SCALE


def test_missing_chromium_is_a_config_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="apt-get install chromium-headless-shell"):
        render([_curve("line")], tmp_path / "out", env={"PATH": str(empty)})
    with pytest.raises(ConfigError, match="BROWSER_PATH="):
        render(
            [_curve("line")],
            tmp_path / "out",
            env={"PATH": str(empty), "BROWSER_PATH": str(empty / "chrome")},
        )


def test_broken_browser_is_a_config_error(tmp_path: Path) -> None:
    false = shutil.which("false")
    assert false
    with pytest.raises(ConfigError, match=f"Chromium at {false} failed to render"):
        render([_curve("line")], tmp_path / "out", env={"BROWSER_PATH": false})


_HUNG = """
import os, sys, time
from pathlib import Path
from cml.report import plots
plots.RENDER_BUDGET, plots.RENDER_PER_FIGURE = 3.0, 0.0
fig = plots.Figure(title="loss", kind="line", x_label="step", y_label="loss",
                   series=[plots.Series(name="head", x=[0, 1], y=[1.0, 0.5])])
started = time.monotonic()
try:
    plots.render([fig], Path(sys.argv[2]), env={"BROWSER_PATH": sys.argv[1]})
except Exception as exc:
    print(f"{type(exc).__name__} after {time.monotonic() - started:.1f} s: {exc}", flush=True)
"""


def test_a_browser_that_never_answers_is_given_up_within_the_budget(tmp_path: Path) -> None:
    """A Chromium that hangs must not hang cml report: one ConfigError line within the budget, the
    browser it started is ended, and the process then exits on its own (kaleido's reader threads, which
    are not daemons, wait on the dead browser's pipe in the renderer's process, not in this one)."""
    hung = tmp_path / "chromium"
    hung.write_text("#!/bin/sh\nsleep 600\n")  # sh stays the parent: pgrep finds it by path
    hung.chmod(0o755)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _HUNG, str(hung), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    line = done.stdout.strip()
    assert line.startswith("ConfigError after "), (line, done.stderr[-2000:])
    assert f"Chromium at {hung} " in line
    assert float(line.split()[2]) < 30
    assert not (tmp_path / "out").exists()
    left = subprocess.run(["pgrep", "-f", str(hung)], capture_output=True, text=True, check=False).stdout
    assert left == ""  # the hung browser was ended
