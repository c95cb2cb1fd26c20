"""Real Chromium draws what the report's figures hold: base and head confusion matrices with a lone
error tinted, the log-FPR ROC view, and a legend on a one-trace plot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cml.errors import ConfigError
from cml.report import figures
from cml.report._plotly import BLUES
from cml.report.confusion import section
from cml.report.plots import HEIGHT, SCALE, WIDTH, find_browser, render
from cml.report.sources import parse_plot, sklearn
from tests.integration.report import png

pytestmark = pytest.mark.slow

# 500 right per class; head makes a single mistake, base none.
HEAD = [("cat", "cat")] * 500 + [("cat", "dog")] + [("dog", "dog")] * 480
BASE = [("cat", "cat")] * 500 + [("dog", "dog")] * 481


@pytest.fixture(scope="module")
def browser() -> str:
    try:
        return find_browser(os.environ)
    except ConfigError as exc:
        pytest.fail(f"these tests need Chromium: {exc}")


def test_confusion_base_and_head_render_with_the_lone_error_tinted(tmp_path: Path, browser: str) -> None:
    base_fig, head_fig = section(HEAD, BASE, title="Confusion matrix")[1]
    base_png, head_png = render([base_fig, head_fig], tmp_path, env={"BROWSER_PATH": browser})
    for path in (base_png, head_png):
        image = png.read(path)
        assert (image.width, image.height) == (WIDTH * SCALE, HEIGHT * SCALE)
    # Inside the top-right cell (actual cat, predicted dog), away from its label: white in base (0),
    # a light blue in head (1), though the diagonal's 500 sets the top of the scale.
    base_px, head_px = _pixel(png.read(base_png), 700, 100), _pixel(png.read(head_png), 700, 100)
    assert base_px == (255, 255, 255)
    assert head_px != base_px
    red, _green, blue = head_px
    assert blue > red + 20, head_px  # a tint of blue, not grey
    assert min(head_px) > 100, head_px  # light, not the diagonal's dark blue
    assert head_px != png.rgb(BLUES[-1])


def _pixel(image: png.Png, x: int, y: int) -> tuple[int, int, int]:
    at = x * image.channels
    r, g, b = image.rows[y][at : at + 3]
    return r, g, b


def test_log_roc_and_one_trace_legend_render(tmp_path: Path, browser: str) -> None:
    roc = sklearn("plots/sklearn/roc.json")
    curve = [{"fpr": f, "tpr": min(1.0, f**0.01)} for f in (0, 1e-4, 1e-3, 1e-2, 1e-1, 1)]
    views = figures.views(roc, figures.lines(roc, {roc.series[0][0]: curve}, None))
    one = parse_plot("log.csv:epoch:acc")
    lone = figures.figure(
        one, figures.lines(one, {"log.csv": [{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.7}]}, None)
    )
    paths = render([*views, lone], tmp_path, env={"BROWSER_PATH": browser})
    assert len(paths) == 3
    for path in paths:
        assert len(png.read(path).colours()) >= 8, f"{path.name} looks blank"
