"""Read ``dvc.yaml`` as plain YAML (DVC itself is not needed): its metrics, params and plots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cml.errors import InputError
from cml.report.readers import parse
from cml.report.sources import TEMPLATES, ConfusionSpec, PlotSpec, Sources


def _entries(value: Any, where: str) -> Iterable[tuple[str, Any]]:
    """DVC list entries: ``"file"`` or ``{"file": options}``."""
    if value is None:
        return
    if not isinstance(value, list):
        raise InputError(f"dvc.yaml: {where}: expected a list")
    for entry in value:
        if isinstance(entry, str):
            yield entry, None
        elif isinstance(entry, Mapping) and len(entry) == 1:
            yield from ((str(k), v) for k, v in entry.items())
        else:
            raise InputError(f"dvc.yaml: {where}: expected a file name or {{file: options}}, got {entry!r}")


def _plot(name: str, options: Any, where: str) -> PlotSpec | ConfusionSpec:
    opts = options if isinstance(options, Mapping) else {}
    template = str(opts.get("template", "linear"))
    kind = TEMPLATES.get(template)
    if kind is None:
        raise InputError(f"dvc.yaml: {where}: {name}: unknown template {template!r}")
    x, y = opts.get("x"), opts.get("y")
    if kind == "confusion":
        if not (isinstance(x, str) and isinstance(y, str)):
            raise InputError(f"dvc.yaml: {where}: {name}: a confusion plot needs x and y column names")
        return ConfusionSpec(path=name, actual=x, predicted=y)
    title = str(opts.get("title") or name)
    if isinstance(y, Mapping):  # a plot id: {file: column(s)}
        series = [(str(f), _x(x, str(f)), str(c)) for f, cols in y.items() for c in _list(cols)]
    else:
        series = [(name, _x(x, name), str(c)) for c in (_list(y) if y is not None else ["value"])]
    return PlotSpec(title=title, kind=kind, series=tuple(series))  # type: ignore[arg-type]


def _x(x: Any, path: str) -> str | None:
    if isinstance(x, Mapping):
        value = x.get(path)
        return str(value) if value is not None else None
    return str(x) if x is not None else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _params(value: Any, where: str) -> list[str]:
    """Param files: a bare key lives in ``params.yaml``; ``{file: [keys]}`` names the file."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"dvc.yaml: {where}: expected a list")
    files = []
    for entry in value:
        if isinstance(entry, str):
            files.append("params.yaml")
        elif isinstance(entry, Mapping):
            files += [str(k) for k in entry]
        else:
            raise InputError(f"dvc.yaml: {where}: expected a key or {{file: [keys]}}, got {entry!r}")
    return files


def from_dvc_yaml(text: str, origin: str) -> Sources:
    """Top-level and per-stage ``metrics``, ``params`` and ``plots`` of a ``dvc.yaml``."""
    data = parse(text, origin) or {}
    if not isinstance(data, Mapping):
        raise InputError(f"{origin}: expected a mapping at the top")
    sections: list[tuple[str, Mapping[str, Any]]] = [("", data)]
    stages = data.get("stages") or {}
    if not isinstance(stages, Mapping):
        raise InputError(f"{origin}: stages: expected a mapping")
    sections += [(f"stages.{n}.", s) for n, s in stages.items() if isinstance(s, Mapping)]
    metrics, params, plots = [], [], []
    for prefix, sec in sections:
        metrics += [f for f, _ in _entries(sec.get("metrics"), f"{prefix}metrics")]
        params += _params(sec.get("params"), f"{prefix}params")
        plots += [_plot(f, o, f"{prefix}plots") for f, o in _entries(sec.get("plots"), f"{prefix}plots")]
    return Sources(
        metrics=tuple(dict.fromkeys(metrics)),
        params=tuple(dict.fromkeys(params)),
        plots=tuple(p for p in plots if isinstance(p, PlotSpec)),
        confusions=tuple(p for p in plots if isinstance(p, ConfusionSpec)),
        origin=origin,
    )
