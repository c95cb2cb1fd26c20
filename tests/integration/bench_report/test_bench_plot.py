"""The latency plot through the report's real renderer (kaleido + the system Chromium)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cml.bench import report as render
from cml.errors import ConfigError
from cml.report import plots
from cml.report._plotly import BASE_COLOR, HEAD_COLOR
from tests.integration.report import png
from tests.unit.bench_report.samples import results

pytestmark = pytest.mark.slow


def test_latency_plot_renders_head_and_base_bars(tmp_path: Path) -> None:
    try:
        plots.find_browser(os.environ)
    except ConfigError as exc:
        pytest.fail(f"this test needs Chromium: {exc}")
    fig = render.figure(results(), results(scale=1.5))
    (path,) = plots.render([fig], tmp_path)
    assert path.name == "01-latency-median.png"
    image = png.read(path)
    assert image.width == plots.WIDTH * plots.SCALE
    colours = image.colours()
    assert png.rgb(HEAD_COLOR) in colours
    assert png.rgb(BASE_COLOR) in colours
