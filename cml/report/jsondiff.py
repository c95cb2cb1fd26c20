"""``cml report --json``'s ``diff``: old, new and diff per metric and param, shaped like DVC's.

``{"metrics": {FILE: {NAME: {"old": x, "new": y, "diff": y - x}}}, "params": {FILE: {...}}}``, the
shape of ``dvc metrics diff --json`` and ``dvc params diff --json`` (DVC 3): a value missing on one
side is ``null`` and has no ``diff``; text and booleans have no ``diff`` (DVC subtracts booleans);
NaN and infinities are written as Python's ``json`` writes them (``NaN``, ``Infinity``), as DVC does;
a list param stays a JSON list (DVC writes its Python text). Like DVC, only changed entries unless
``--all``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cml.report.diff import MetricRow, ParamRow
from cml.report.readers import numeric
from cml.report.sources import Sources

Entry = dict[str, Any]


def diff(
    metrics: Sequence[MetricRow], params: Sequence[ParamRow], sources: Sources, *, show_all: bool
) -> dict[str, dict[str, dict[str, Entry]]]:
    """The ``diff`` object for ``metrics`` and ``params`` rows read from ``sources``' files."""
    kept_m = [r for r in metrics if show_all or r.verdict not in ("same", "n/a")]
    kept_p = [r for r in params if show_all or r.change != "same"]
    return {
        "metrics": _by_file([(r.name, entry(r.base, r.head)) for r in kept_m], sources.metrics),
        "params": _by_file([(r.name, entry(r.base, r.head)) for r in kept_p], sources.params),
    }


def entry(old: Any, new: Any) -> Entry:
    """``{"old", "new"}`` plus ``"diff"`` (new - old) when both are numbers (not booleans)."""
    out: Entry = {"old": old, "new": new}
    a, b = numeric(old), numeric(new)
    if a is not None and b is not None:
        out["diff"] = b - a if isinstance(old, float) or isinstance(new, float) else new - old
    return out


def _by_file(entries: list[tuple[str, Entry]], files: Sequence[str]) -> dict[str, dict[str, Entry]]:
    """Entries grouped by file: a report keys values ``name`` with one file, ``file:name`` with more."""
    out: dict[str, dict[str, Entry]] = {}
    longest_first = sorted(files, key=len, reverse=True)
    for name, value in entries:
        file, key = _split(name, files, longest_first)
        out.setdefault(file, {})[key] = value
    return out


def _split(name: str, files: Sequence[str], longest_first: Sequence[str]) -> tuple[str, str]:
    if len(files) > 1:
        for file in longest_first:
            if name.startswith(f"{file}:"):
                return file, name[len(file) + 1 :]
    return (files[0] if files else ""), name
