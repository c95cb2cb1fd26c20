"""Turn plot specs and their records into figure specs (``cml.report.plots.Figure``), base overlaid.

Validation is pure and happens here: a missing column or a non-numeric y value is an InputError
naming the file and the record. ``cml.report.plots`` (rendering, Chromium) is imported lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from cml.errors import ConfigError, InputError
from cml.report.readers import Record, to_float
from cml.report.sources import PlotSpec

#: Titles of plots whose (x, y) columns say what they are (dvclive's sklearn plots).
MEANINGS: dict[tuple[str, str], str] = {
    ("fpr", "tpr"): "ROC",
    ("recall", "precision"): "precision-recall",
    ("prob_pred", "prob_true"): "calibration",
}
#: Axis labels for the columns of those plots.
AXES: dict[str, str] = {
    "fpr": "false positive rate",
    "tpr": "true positive rate",
    "prob_pred": "mean predicted probability",
    "prob_true": "fraction of positives",
}
#: A ROC whose every curve has at least this area gets a second view with a logarithmic FPR axis.
NEAR_PERFECT_AUC = 0.9

Key = tuple[str, str | None, str]  # (file, x column, y column) once the y column is known


@dataclass(frozen=True, kw_only=True)
class Line:
    """One validated series: its legend name, the (file, x, y) it comes from, and its points."""

    name: str
    key: Key
    x: tuple[float | str, ...]
    y: tuple[float, ...]

    @property
    def base(self) -> bool:
        """True for a baseline series."""
        return self.name == "base" or self.name.endswith(" (base)")


def _column(records: Sequence[Record], path: str, column: str) -> list[Any]:
    values = []
    for i, row in enumerate(records):
        if column not in row:
            known = ", ".join(map(str, row)) or "none"
            raise InputError(f"{path}: record {i}: no column {column!r} (columns: {known})")
        values.append(row[column])
    return values


def points(
    records: Sequence[Record], path: str, x: str | None, y: str
) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    """The (x, y) values of one series; x defaults to the row index."""
    ys = []
    for i, raw in enumerate(_column(records, path, y)):
        number = to_float(raw)
        if number is None:
            raise InputError(f"{path}: record {i}: column {y!r}: not a number ({str(raw)[:40]!r})")
        ys.append(number)
    xs: list[Any] = list(range(len(records))) if x is None else _column(records, path, x)
    xs = [to_float(v) if to_float(v) is not None else str(v) for v in xs]
    return tuple(xs), tuple(ys)


def lines(
    spec: PlotSpec, head: Mapping[str, Sequence[Record]], base: Mapping[str, Sequence[Record]] | None
) -> list[Line]:
    """Head series and, when the baseline has the file, base series. A figure of one series names
    them ``head`` and ``base``; with several, ``<y> (head)`` and ``<y> (base)``."""
    out = []
    many = len({s[0] for s in spec.series}) > 1
    one = len(spec.series) == 1
    for path, x, column in spec.series:
        y = column or _last(head[path], path)
        label = f"{y} ({path})" if many else y
        xs, ys = points(head[path], path, x, y)
        out.append(Line(name="head" if one else f"{label} (head)", key=(path, x, y), x=xs, y=ys))
        if base is not None and path in base:
            bx, by = points(base[path], f"base:{path}", x, y)
            out.append(Line(name="base" if one else f"{label} (base)", key=(path, x, y), x=bx, y=by))
    return out


def unique(drawn: Sequence[tuple[PlotSpec, list[Line]]]) -> list[tuple[PlotSpec, list[Line]]]:
    """Each figure once: a plot whose series another plot already draws (a file named by
    ``dvc.yaml`` and by a flag, or twice in ``dvc.yaml``) is dropped, its title and axis labels kept
    when the first one had none."""
    kept: dict[frozenset[Key], tuple[PlotSpec, list[Line]]] = {}
    for spec, series in drawn:
        key = frozenset(line.key for line in series)
        first = kept.get(key)
        if first is None:
            kept[key] = (spec, series)
        elif not (first[0].title or first[0].x_label or first[0].y_label):
            kept[key] = (
                replace(first[0], title=spec.title, x_label=spec.x_label, y_label=spec.y_label),
                first[1],
            )
    return list(kept.values())


def _last(records: Sequence[Record], path: str) -> str:
    """DVC's ``y`` for a plot that names none: the last column of the first record."""
    if not records or not records[0]:
        raise InputError(f"{path}: no columns to plot")
    return str(list(records[0])[-1])


def plots_module() -> Any:
    """``cml.report.plots``; ConfigError when this install lacks it."""
    try:
        return importlib.import_module("cml.report.plots")
    except ModuleNotFoundError as exc:
        raise ConfigError("plot rendering is not available in this install (no cml.report.plots)") from exc


def title(spec: PlotSpec, drawn: Sequence[Line]) -> str:
    """The plot's title: as ``dvc.yaml`` gives it, else what the plot shows (``ROC``,
    ``loss by step``), never the file name."""
    if spec.title:
        return spec.title
    x, ys = _columns(drawn)
    if len(ys) == 1 and (meaning := MEANINGS.get((x or "", ys[0]))):
        return meaning
    return f"{spec.y_label or ', '.join(ys)} by {x or 'step'}"


def _columns(drawn: Sequence[Line]) -> tuple[str | None, list[str]]:
    """The x column (None: the row index) and the distinct y columns of ``drawn``."""
    x = next((line.key[1] for line in drawn if line.key[1]), None)
    return x, list(dict.fromkeys(line.key[2] for line in drawn))


def figure(spec: PlotSpec, drawn: Sequence[Line]) -> Any:
    """A ``plots.Figure`` for ``spec`` with one ``plots.Series`` per line, titled and labelled."""
    plots = plots_module()
    x, ys = _columns(drawn)
    return plots.Figure(
        title=title(spec, drawn),
        kind=spec.kind,
        x_label=spec.x_label or AXES.get(x or "", x or "step"),
        y_label=spec.y_label or ", ".join(AXES.get(y, y) for y in ys),
        series=[plots.Series(name=line.name, x=list(line.x), y=list(line.y)) for line in drawn],
    )


def views(spec: PlotSpec, drawn: Sequence[Line]) -> list[Any]:
    """The figures of one plot: the plot itself and, for a ROC whose curves all come near AUC 1,
    the same curves over a logarithmic false positive rate (see :func:`log_roc`)."""
    fig = figure(spec, drawn)
    x, ys = _columns(drawn)
    if (x, tuple(ys)) == ("fpr", ("tpr",)) and drawn and all(auc(line) >= NEAR_PERFECT_AUC for line in drawn):
        return [fig, log_roc(fig)]
    return [fig]


def auc(line: Line) -> float:
    """The area under a curve of numeric points (trapezoids, in x order); 0 for text x."""
    if any(isinstance(v, str) for v in line.x):
        return 0.0
    pts = sorted(zip((float(v) for v in line.x), line.y, strict=True))
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in pairwise(pts))


def log_roc(fig: Any) -> Any:
    """``fig`` (a ROC) over a logarithmic false positive rate: near AUC 1 the curves differ where
    FPR is 0.001 or 0.01, which a linear axis squeezes into its first pixels. Points at FPR 0 have
    no place on a log axis and are left out (the linear view shows them)."""
    plots = plots_module()
    series = []
    for s in fig.series:
        kept = [(x, y) for x, y in zip(s.x, s.y, strict=True) if not isinstance(x, str) and x > 0]
        series.append(plots.Series(name=s.name, x=[p[0] for p in kept], y=[p[1] for p in kept]))
    return plots.Figure(
        title=f"{fig.title} (log FPR)",
        kind=fig.kind,
        x_label=f"{fig.x_label} (log scale)",
        y_label=fig.y_label,
        series=series,
        x_log=True,
    )
