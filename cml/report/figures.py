"""Turn plot specs and their records into figure specs (``cml.report.plots.Figure``), base overlaid.

Validation is pure and happens here: a missing column or a non-numeric y value is an InputError
naming the file and the record. ``cml.report.plots`` (rendering, Chromium) is imported lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cml.errors import ConfigError, InputError
from cml.report.readers import Record, to_float
from cml.report.sources import PlotSpec


@dataclass(frozen=True, kw_only=True)
class Line:
    """One validated series: its name and points."""

    name: str
    x: tuple[float | str, ...]
    y: tuple[float, ...]


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
    """Head series (and base series, named ``... (base)``, when the baseline has the file)."""
    out = []
    many = len({s[0] for s in spec.series}) > 1
    for path, x, column in spec.series:
        y = column or _last(head[path], path)
        label = f"{y} ({path})" if many else y
        xs, ys = points(head[path], path, x, y)
        out.append(Line(name=label, x=xs, y=ys))
        if base is not None and path in base:
            bx, by = points(base[path], f"base:{path}", x, y)
            out.append(Line(name=f"{label} (base)", x=bx, y=by))
    return out


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


def figure(spec: PlotSpec, drawn: Sequence[Line]) -> Any:
    """A ``plots.Figure`` for ``spec`` with one ``plots.Series`` per line."""
    plots = plots_module()
    x_label = next((s[1] for s in spec.series if s[1]), "step")
    y_label = ", ".join(dict.fromkeys(s[2] for s in spec.series if s[2])) or ", ".join(
        dict.fromkeys(line.name.removesuffix(" (base)") for line in drawn)
    )
    return plots.Figure(
        title=spec.title,
        kind=spec.kind,
        x_label=x_label,
        y_label=y_label,
        series=[plots.Series(name=line.name, x=list(line.x), y=list(line.y)) for line in drawn],
    )
