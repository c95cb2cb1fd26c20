"""``cml report --post`` end to end with the real renderer: Chromium draws, the local forge stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml.report._plotly import BASE_COLOR, HEAD_COLOR
from tests.integration.report import png
from tests.integration.report.conftest import Cml

pytestmark = pytest.mark.slow


def test_report_renders_real_pngs_and_posts_them(project: Path, cml: Cml) -> None:
    code, out, err = cml(
        "--metrics", "metrics.json", "--params", "params.yaml",
        "--plot", "train.csv:epoch:acc", "--confusion", "preds.csv:actual:predicted",
        "--post", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["posted"]["action"] == "created"
    report = (project / "cml-report" / "report.md").read_text()
    images = sorted((project / "cml-report").glob("*.png"))
    assert len(images) == 3  # the training curve and the base and head confusion heatmaps
    curve = png.read(images[0])
    assert (curve.width, curve.height) >= (800, 450)
    colours = curve.colours()
    assert png.rgb(BASE_COLOR) in colours, "no base trace"
    assert png.rgb(HEAD_COLOR) in colours, "no head trace"
    assert all(len(png.read(image).colours()) >= 8 for image in images[1:])
    # Per-class precision / recall / F1 with deltas against the base commit.
    assert "| class" in report
    assert "F1" in report
    assert "↑" in report
    # The posted comment links the images the local forge stored, not the report folder.
    (store,) = (project / ".cml" / "comments").glob("*.json")
    (posted,) = json.loads(store.read_text())
    links = [part.split(")")[0] for part in posted["body"].split("](../assets/")[1:]]
    links += [part.split('"')[0] for part in posted["body"].split('<img src="../assets/')[1:]]
    assert len(links) == 3
    for link in links:
        assert (project / ".cml" / "assets" / link).read_bytes()[:8] == png.SIGNATURE
