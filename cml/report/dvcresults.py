"""Turn what DVC's ``metrics.show`` / ``params.show`` / ``plots.collect`` return into cml's own values.

Pure functions over DVC's documented result shapes (no DVC import): a revision's result is
``{"data": {path: {"data": value} | {"error": exception}}}`` or ``{"error": exception}``; metrics and
params become the flattened mappings :mod:`cml.report.readers` makes of a file, plot data the same
records, so the diff, the tables and the figures are shared by both readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cml.errors import CmlError
from cml.report.readers import Metric, Record, Scalar, cell, flatten, metric_value, records


@dataclass(frozen=True, kw_only=True)
class Files:
    """One revision's files as DVC read them: data by path, and the error of each file not read."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    failed: BaseException | None = None  # DVC could not read the revision at all (e.g. a bad dvc.yaml)

    @property
    def paths(self) -> list[str]:
        """Every file DVC names at this revision, read or not."""
        return [*self.data, *(p for p in self.errors if p not in self.data)]


def files(result: Mapping[str, Any] | None) -> Files:
    """One revision's entry of a ``metrics.show`` / ``params.show`` result (None: DVC did not get to
    the revision, e.g. no DVC project in that commit); paths become POSIX paths."""
    if not result:
        return Files()
    if "error" in result and "data" not in result:
        return Files(failed=result["error"])
    data: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}
    for path, entry in (result.get("data") or {}).items():
        name = str(path).replace("\\", "/")
        if isinstance(entry, Mapping) and "error" in entry:
            errors[name] = entry["error"]
        elif isinstance(entry, Mapping):
            data[name] = entry.get("data")
    return Files(data=data, errors=errors)


def keyed(*revisions: Files) -> bool:
    """Whether names carry their file (``file:name``): more than one file at these revisions."""
    return len({p for r in revisions for p in r.paths}) > 1


def metrics(read: Files, *, by_file: bool) -> dict[str, Metric]:
    """Flattened metrics of every file read (``file:name`` with ``by_file``); nulls skipped, numbers
    as floats, text and booleans kept, as :func:`cml.report.readers.read_metrics` does."""
    out: dict[str, Metric] = {}
    for path, data in read.data.items():
        for key, value in flatten(data if isinstance(data, Mapping) else {}).items():
            if value is not None:
                out[f"{path}:{key}" if by_file else key] = metric_value(value)
    return out


def params(read: Files, *, by_file: bool) -> dict[str, Scalar]:
    """Flattened params of every file read (``file:key`` with ``by_file``), a list as one value, as
    :func:`cml.report.readers.read_params` does."""
    out: dict[str, Scalar] = {}
    for path, data in read.data.items():
        for key, value in flatten(data if isinstance(data, Mapping) else {}, lists=False).items():
            kept = (
                value if isinstance(value, int | float | str | bool | list) or value is None else str(value)
            )
            out[f"{path}:{key}" if by_file else key] = kept
    return out


def plot_sources(collected: Mapping[str, Any]) -> Files:
    """The ``sources`` of one revision of ``plots.collect`` (data sources already resolved) as Files."""
    sources = collected.get("sources") or {}
    if "error" in sources and "data" not in sources:
        return Files(failed=sources["error"])
    return files(sources)


def plot_records(read: Files, paths: Iterable[str], where: str) -> tuple[dict[str, list[Record]], list[str]]:
    """The records of each of ``paths`` DVC read (CSV/TSV cells as numbers where they read as one, as
    the built-in reader does); a note for each file whose data is not a table of records."""
    out: dict[str, list[Record]] = {}
    notes: list[str] = []
    for path in paths:
        if path not in read.data:
            continue
        data = read.data[path]
        if path.lower().endswith((".csv", ".tsv")) and isinstance(data, list):
            data = [_cells(row) for row in data]
        try:
            out[path] = records(data, path)
        except CmlError as exc:
            notes.append(f"{exc.message} ({where}); not drawn")
    return out, notes


def _cells(row: Any) -> Any:
    if not isinstance(row, Mapping):
        return row
    return {k: cell(v.strip()) if isinstance(v, str) else v for k, v in row.items()}


def definitions(collected: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], BaseException | None]:
    """The plot definitions of one revision of ``plots.collect`` as ``{dvc.yaml: {plot id: props}}``,
    and the error DVC met collecting them (None when none)."""
    defs = collected.get("definitions") or {}
    out: dict[str, dict[str, Any]] = {}
    for config, entry in (defs.get("data") or {}).items():
        if isinstance(entry, Mapping) and isinstance(entry.get("data"), Mapping):
            out[str(config)] = dict(entry["data"])
    return out, defs.get("error")


def reason(exc: BaseException) -> str:
    """One line saying why DVC could not read something."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "a folder, not a file"
    text = " ".join(str(exc).split()) or type(exc).__name__
    # DVC's schema errors say where in their cause; a parser's cause may quote the file, so no other
    cause = " ".join(str(exc.__cause__ or "").split()) if type(exc).__name__ == "YAMLValidationError" else ""
    if cause and cause not in text:
        text = f"{text}: {cause}"
    return text[:300]
