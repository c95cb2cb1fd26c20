"""Figures for a report: validate plot data, build figure specs, render them, link them in.

Bad plot data raises InputError; a missing renderer (no Chromium, no ``cml.report.plots``) becomes a
note in the report instead of an error.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cml.errors import CmlError, ConfigError, InputError
from cml.log import logger
from cml.report import figures
from cml.report.build import ReportData
from cml.report.pipeline import Computed, Options


def draw(done: Computed, opts: Options, out_dir: Path) -> ReportData:
    """Build figures (validating plot data), render them into ``out_dir``, add them to the report.

    Bad plot data raises InputError; a renderer that is missing or fails (no Chromium, no plots
    module) becomes a note in the report instead, and the confusion tables are kept.
    """
    base_records = done.base.records if done.base else None
    figs: list[Any] = []
    lines = [figures.lines(spec, done.head.records, base_records) for spec in done.sources.plots]
    pairs = [_pairs(done.head.records, base_records, c) for c in done.sources.confusions]
    if not lines and not pairs:
        return done.data
    notes = list(done.data.notes)
    extra: list[tuple[str, str]] = []
    try:
        figs = [figures.figure(spec, drawn) for spec, drawn in zip(done.sources.plots, lines, strict=True)]
        owners = ["Plots"] * len(figs)
        for c, (head, base) in zip(done.sources.confusions, pairs, strict=True):
            md, heatmap = _confusion().section(head, base, title=f"Confusion: {c.path}")
            extra.append((f"Confusion: {c.path}", md))
            figs.append(heatmap)
            owners.append(f"Confusion: {c.path}")
        paths = figures.plots_module().render(figs, out_dir) if figs else []
    except InputError:
        raise
    except CmlError as exc:  # no Chromium, no renderer, a browser that crashed: keep the tables
        logger.warning("plots not rendered: %s", exc)
        notes.append(f"Plots not rendered: {exc.message}")
        return replace(done.data, notes=notes, extra=extra)
    images = [
        (f.title, _rel(p, out_dir)) for f, p, o in zip(figs, paths, owners, strict=True) if o == "Plots"
    ]
    for i, (title, md) in enumerate(extra):
        own = [
            f"![{f.title}]({_rel(p, out_dir)})"
            for f, p, o in zip(figs, paths, owners, strict=True)
            if o == title
        ]
        extra[i] = (title, "\n\n".join([md, *own]))
    return replace(done.data, images=images, extra=extra, notes=notes)


def _confusion() -> Any:
    try:
        return importlib.import_module("cml.report.confusion")
    except ModuleNotFoundError as exc:
        raise ConfigError("confusion matrices are not available in this install") from exc


def _rel(path: Path, out_dir: Path) -> str:
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _pairs(head: Any, base: Any, spec: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]] | None]:
    def pairs(records: Sequence[dict[str, Any]], origin: str) -> list[tuple[str, str]]:
        out = []
        for i, row in enumerate(records):
            for col in (spec.actual, spec.predicted):
                if col not in row:
                    raise InputError(f"{origin}: record {i}: no column {col!r} (columns: {', '.join(row)})")
            out.append((str(row[spec.actual]), str(row[spec.predicted])))
        return out

    h = pairs(head[spec.path], spec.path)
    return h, pairs(base[spec.path], f"base:{spec.path}") if base and spec.path in base else None
