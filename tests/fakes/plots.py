"""A stand-in for ``cml.report.plots`` and ``cml.report.confusion`` (built by another branch).

Same names and signatures; ``render`` writes a small file per figure holding the figure as JSON
behind a PNG signature, so tests can check what was drawn without a browser.
"""

from __future__ import annotations

import json
import sys
import types
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True, kw_only=True)
class Series:
    name: str
    x: Sequence[float | str]
    y: Sequence[float]


@dataclass(frozen=True, kw_only=True)
class Figure:
    title: str
    kind: str
    x_label: str
    y_label: str
    series: Sequence[Series]


PNG = b"\x89PNG\r\n\x1a\n"


def render(figures: Sequence[Figure], out_dir: Path) -> list[Path]:
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


def section(
    head_pairs: Sequence[tuple[str, str]],
    base_pairs: Sequence[tuple[str, str]] | None,
    *,
    title: str,
    out_dir: Path,
) -> tuple[str, list[Figure]]:
    right = sum(a == p for a, p in head_pairs)
    base = "" if base_pairs is None else f" (base {sum(a == p for a, p in base_pairs)}/{len(base_pairs)})"
    counts = Counter(head_pairs)
    fig = Figure(
        title=title,
        kind="bar",
        x_label="pair",
        y_label="count",
        series=[
            Series(name="head", x=[f"{a}->{p}" for a, p in counts], y=[float(c) for c in counts.values()])
        ],
    )
    return f"correct {right}/{len(head_pairs)}{base}", [fig]


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``cml.report.plots`` and ``cml.report.confusion`` this stand-in for one test."""
    plots = types.ModuleType("cml.report.plots")
    plots.Series, plots.Figure, plots.render = Series, Figure, render  # type: ignore[attr-defined]
    confusion = types.ModuleType("cml.report.confusion")
    confusion.section = section  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cml.report.plots", plots)
    monkeypatch.setitem(sys.modules, "cml.report.confusion", confusion)
