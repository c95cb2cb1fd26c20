"""A browser-free stand-in for ``cml.report.plots.render``, for fast report tests.

The figures and the confusion section stay real; ``render`` writes a small file per figure holding
the figure as JSON behind a PNG signature, so tests can check what was drawn without Chromium. The
real renderer is tested in ``tests/integration/report/test_plots.py`` and ``test_report_e2e.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from cml.report import plots
from cml.report.plots import Figure

PNG = b"\x89PNG\r\n\x1a\n"


def render(figures: Sequence[Figure], out_dir: Path, *, env: Any = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, fig in enumerate(figures, start=1):
        path = out_dir / f"plot-{i}.png"
        path.write_bytes(PNG + json.dumps(asdict(fig)).encode())
        paths.append(path)
    return paths


def read(path: Path) -> dict[str, Any]:
    """The figure a stand-in PNG holds."""
    data: dict[str, Any] = json.loads(path.read_bytes()[len(PNG) :])
    return data


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the Chromium renderer with this browser-free one for one test (figures stay real)."""
    monkeypatch.setattr(plots, "render", render)
    monkeypatch.setattr(plots, "prepare", lambda env=None: None)  # no real Chromium started early
    monkeypatch.setattr(plots, "release", lambda: None)
