"""``--runs DIR...``: one table ranking several runs (e.g. a matrix sweep's downloaded artifacts).

Each run folder holds its params and metrics files: any ``*params*`` / ``*metrics*`` file in
JSON, YAML, TOML or CSV/TSV, or a ``dvclive/`` folder, searched recursively.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cml import files
from cml.errors import InputError, UsageError
from cml.report.direction import Direction, direction
from cml.report.readers import Scalar, numeric, read_metrics, read_params
from cml.report.tables import fold, numbers, tabulate_md, value

_EXTS = {".json", ".yaml", ".yml", ".toml", ".csv", ".tsv"}


@dataclass(frozen=True, kw_only=True)
class Run:
    """One run: its folder name, flattened params and metrics."""

    name: str
    params: dict[str, Scalar]
    metrics: dict[str, float]


def load_run(folder: Path, where: files.Tree | None = None) -> Run:
    """Read every params and metrics file under ``folder`` (see :func:`cml.files.read_data`, in the
    work tree ``where``, default the current one); InputError when it holds none."""
    if not folder.is_dir():
        raise InputError(f"--runs {folder}: not a folder")
    tree = where or files.tree()
    params: dict[str, Scalar] = {}
    metrics: dict[str, float] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _EXTS):
        name = path.name.lower()
        if "metrics" in name and "plots" not in path.parts:
            found = read_metrics(files.read_data(path, str(path), tree), str(path))
            metrics.update((k, n) for k, v in found.items() if (n := numeric(v)) is not None)
        elif "params" in name:
            params.update(read_params(files.read_data(path, str(path), tree), str(path)))
    if not metrics:
        raise InputError(f"--runs {folder}: no metrics file (*metrics*.json/yaml/toml/csv) in it")
    return Run(name=folder.name, params=params, metrics=metrics)


def ranked(
    runs: Sequence[Run], sort_by: str | None, lower: frozenset[str], higher: frozenset[str]
) -> list[Run]:
    """Runs best first by ``sort_by`` (default: the first metric); runs lacking it go last.

    UsageError when no run has the metric, or when its direction is unknown (see
    :mod:`cml.report.direction`) and not given."""
    metric = sort_by or next(iter(runs[0].metrics))
    if not any(metric in r.metrics for r in runs):
        raise UsageError(f"--sort-by {metric!r}: no run has this metric")
    sign = -1.0 if _direction(metric, lower, higher) == "higher" else 1.0
    return sorted(runs, key=lambda r: (metric not in r.metrics, sign * r.metrics.get(metric, 0.0)))


def table(runs: Sequence[Run], sort_by: str | None, lower: frozenset[str], higher: frozenset[str]) -> str:
    """``# | run | params that differ... | metrics...``, best row marked 🏆."""
    order = ranked(runs, sort_by, lower, higher)
    metric = sort_by or next(iter(runs[0].metrics))
    keys = list(dict.fromkeys(k for r in runs for k in r.params))
    differing = [k for k in keys if len({repr(r.params.get(k)) for r in runs}) > 1]
    metrics = [metric, *[m for m in dict.fromkeys(m for r in runs for m in r.metrics) if m != metric]]
    columns = [numbers([r.metrics.get(m) for r in order]) for m in metrics]
    rows = []
    for i, run in enumerate(order, start=1):
        mark = " 🏆" if i == 1 and metric in run.metrics else ""
        rows.append(
            [
                f"{i}{mark}",
                run.name,
                *[value(run.params[k]) if k in run.params else "—" for k in differing],
                *[column[i - 1] for column in columns],
            ]
        )
    arrow = "↓" if _direction(metric, lower, higher) == "lower" else "↑"
    headers = ["#", "run", *differing, *[f"{m} {arrow}" if m == metric else m for m in metrics]]
    return fold(tabulate_md(headers, rows), len(rows), f"{len(rows)} runs")


def _direction(metric: str, lower: frozenset[str], higher: frozenset[str]) -> Direction:
    """``metric``'s direction; UsageError naming the flags when it is unknown."""
    found = direction(metric, lower, higher)
    if found is None:
        raise UsageError(
            f"--runs ranks by {metric!r}, whose direction is unknown: give --lower-is-better {metric} "
            f"or --higher-is-better {metric} (or [tool.cml] in pyproject.toml), or --sort-by another metric"
        )
    return found
