"""Figures for a report: validate plot data, build figure specs, render them, link them in.

Bad plot data raises InputError; a missing renderer (no Chromium, no ``cml.report.plots``) becomes a
note in the report instead of an error.
"""

from __future__ import annotations

import html
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cml.errors import CmlError, ConfigError, InputError
from cml.log import logger
from cml.report import figures
from cml.report.build import ReportData
from cml.report.pipeline import Computed, Options
from cml.report.readers import Record
from cml.report.sources import ConfusionSpec, PlotSpec

if TYPE_CHECKING:
    from cml.report.confusion import Pairs
    from cml.report.plots import Figure


class _ConfusionModule(Protocol):
    """What draw uses of :mod:`cml.report.confusion` (loaded only when a report has a confusion matrix)."""

    def section(
        self,
        head_pairs: Pairs,
        base_pairs: Pairs | None,
        *,
        title: str,
        figure: str = ...,
        normalized: bool = ...,
    ) -> tuple[str, list[Figure]]: ...


if TYPE_CHECKING:
    from cml.report import confusion

    _HOLDS: _ConfusionModule = confusion  # mypy holds the module to the protocol


def draw(done: Computed, opts: Options, out_dir: Path) -> ReportData:
    """Build figures (validating plot data), render them into ``out_dir``, add them to the report.

    Each plot and confusion matrix is drawn once however many sources name it. Bad plot data raises
    InputError for a plot given by a flag, and is a note under Plots for one ``dvc.yaml`` defines; a renderer that is missing or fails (no Chromium, no plots module) becomes a note in
    the report instead, and the confusion tables are kept.
    """
    base_records = done.base.records if done.base else None
    strict = done.sources.origin == "flags"  # a plot the user named on the command line: bad input
    skipped: list[str] = []
    built: list[tuple[PlotSpec, list[figures.Line]]] = []
    for spec in done.sources.plots:
        try:
            built.append((spec, figures.lines(spec, done.head.records, base_records)))
        except InputError as exc:
            _skip(exc, strict, skipped)
    drawn = figures.unique(built)
    confusions: list[ConfusionSpec] = []
    pairs = []
    for c in _unique_confusions(done.sources.confusions):
        try:
            pairs.append(_pairs(done.head.records, base_records, c))
        except InputError as exc:
            _skip(exc, strict, skipped)
        else:
            confusions.append(c)
    if not drawn and not pairs:
        return replace(done.data, plot_notes=skipped) if skipped else done.data
    notes = list(done.data.notes)
    extra: list[tuple[str, str]] = []
    figs: list[Figure] = []
    owners: list[int] = []  # -1: the Plots section, else the index of a confusion section in ``extra``
    try:
        for spec, lines in drawn:
            views = figures.views(spec, lines)
            figs += views
            owners += [-1] * len(views)
        for i, (c, (head, base)) in enumerate(zip(confusions, pairs, strict=True)):
            title = _confusion_title(c, confusions)
            md, heatmaps = _confusion().section(
                head, base, title=title, figure=c.title or "confusion matrix", normalized=c.normalized
            )
            extra.append((title, md))
            figs += heatmaps
            owners += [i] * len(heatmaps)
        paths = figures.plots_module().render(figs, out_dir) if figs else []
    except InputError:
        raise
    except CmlError as exc:  # no Chromium, no renderer, a browser that crashed: keep the tables
        logger.warning("plots not rendered: %s", exc)
        notes.append(f"Plots not rendered: {exc.message}")
        return replace(done.data, notes=notes, extra=extra, plot_notes=skipped)
    placed = [(f.title, _rel(p, out_dir), o) for f, p, o in zip(figs, paths, owners, strict=True)]
    images = [(t, p) for t, p, o in placed if o == -1]
    extra = [
        (title, "\n\n".join([md.rstrip("\n"), _side_by_side([(t, p) for t, p, o in placed if o == i])]))
        for i, (title, md) in enumerate(extra)
    ]
    return replace(done.data, images=images, extra=extra, notes=notes, plot_notes=skipped)


def _skip(exc: InputError, strict: bool, skipped: list[str]) -> None:
    """A plot whose data does not fit its definition (a missing file or column, a value that is not a
    number): raise for one given by a flag (bad input), else one line in ``skipped`` (shown under
    Plots) and on stderr: one broken plot definition in ``dvc.yaml`` never sinks the report."""
    if strict:
        raise exc
    logger.warning("cml: warning: plot not drawn: %s", exc.message)
    skipped.append(f"Not drawn: {exc.message}")


def _unique_confusions(specs: Sequence[ConfusionSpec]) -> list[ConfusionSpec]:
    """Each (file, actual, predicted) once, in first-seen order, with the first title given."""
    kept: dict[tuple[str, str, str], ConfusionSpec] = {}
    for c in specs:
        key = (c.path, c.actual, c.predicted)
        if key not in kept or (c.title and not kept[key].title):
            kept[key] = c
    return list(kept.values())


def _confusion_title(spec: ConfusionSpec, every: Sequence[ConfusionSpec]) -> str:
    """The section's heading: the plot's title (default ``Confusion matrix``), with its file when
    another confusion matrix in the report has the same title."""
    name = spec.title or "Confusion matrix"
    same = [c for c in every if (c.title or "Confusion matrix") == name]
    return f"{name}: {spec.path}" if len(same) > 1 else name


def _side_by_side(images: Sequence[tuple[str, str]]) -> str:
    """One image as markdown; base and head as two HTML images side by side."""
    if len(images) == 1:
        return f"![{images[0][0]}]({images[0][1]})"
    return " ".join(
        f'<img src="{html.escape(path)}" alt="{html.escape(title)}" width="49%">' for title, path in images
    )


def _confusion() -> _ConfusionModule:
    try:
        return importlib.import_module("cml.report.confusion")
    except ModuleNotFoundError as exc:
        raise ConfigError("confusion matrices are not available in this install") from exc


def _rel(path: Path, out_dir: Path) -> str:
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _pairs(
    head: Mapping[str, Sequence[Record]], base: Mapping[str, Sequence[Record]] | None, spec: ConfusionSpec
) -> tuple[list[tuple[str, str]], list[tuple[str, str]] | None]:
    def pairs(records: Sequence[Record], origin: str) -> list[tuple[str, str]]:
        out = []
        for i, row in enumerate(records):
            for col in (spec.actual, spec.predicted):
                if col not in row:
                    raise InputError(f"{origin}: record {i}: no column {col!r} (columns: {', '.join(row)})")
            out.append((str(row[spec.actual]), str(row[spec.predicted])))
        return out

    h = pairs(head[spec.path], spec.path)
    return h, pairs(base[spec.path], f"base:{spec.path}") if base and spec.path in base else None
