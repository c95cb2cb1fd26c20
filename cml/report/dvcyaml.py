"""Read ``dvc.yaml`` files as plain YAML (DVC itself is not needed): their metrics, params and plots.

Covers what dvclive 3 and DVC's docs write: every ``dvc.yaml`` in the tree (paths relative to each
file's folder), folder plot targets (each data file inside), top-level ``params`` files, stage
``{file: [keys]}`` filters, DVC's default axes (x: the row index, y: the last column) and dvclive's
``plots/sklearn/*.json``. What cannot be read becomes a one-line note instead of an error.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml.errors import CmlError, InputError
from cml.images import is_image
from cml.log import logger
from cml.report.dvcrepo import INSTALL
from cml.report.readers import parse
from cml.report.sources import LAST_COLUMN, SKLEARN, TEMPLATES, ConfusionSpec, PlotSpec, Sources, sklearn

#: Folders never searched for ``dvc.yaml`` (besides hidden ones).
_SKIP = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
#: How many folders the search visits at most.
_MAX_DIRS = 5_000
_DATA = (".json", ".yaml", ".yml", ".csv", ".tsv")
#: What a note about a DVC-only feature tells the user to do.
DVC_ONLY = f"DVC reads it: {INSTALL}"


def find(root: Path) -> list[str]:
    """Paths (relative to ``root``) of every ``dvc.yaml`` under it, the top one first; hidden
    folders, virtual environments and node_modules are not searched."""
    found: list[str] = []
    for visited, (here, dirs, files) in enumerate(os.walk(root)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP)
        if "dvc.yaml" in files:
            found.append(Path(here, "dvc.yaml").relative_to(root).as_posix())
        if visited >= _MAX_DIRS:
            break
    return found


@dataclass(kw_only=True)
class _Acc:
    """What the dvc.yaml files name so far, and what could not be read."""

    metrics: list[str] = field(default_factory=list)
    params: dict[str, list[str] | None] = field(default_factory=dict)  # file -> keys (None: all)
    plots: list[PlotSpec] = field(default_factory=list)
    confusions: list[ConfusionSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        logger.warning("%s", text)
        self.notes.append(text)

    def param(self, path: str, keys: list[str] | None) -> None:
        if path in self.params and (self.params[path] is None or keys is None):
            self.params[path] = None
        else:
            self.params[path] = [*(self.params.get(path) or []), *(keys or [])] if keys is not None else None


def read_all(root: Path, files: list[str]) -> Sources:
    """Every ``dvc.yaml`` in ``files`` merged; a file that cannot be read is a note."""
    from cml.files import read_data, tree

    acc = _Acc()
    for name in files:
        try:
            _read(read_data(root / name, name, tree(root)), name, root, acc)
        except CmlError as exc:
            acc.note(f"{name}: not read: {exc.message}")
    return Sources(
        metrics=tuple(dict.fromkeys(acc.metrics)),
        params=tuple(acc.params),
        param_keys=tuple((f, tuple(k)) for f, k in acc.params.items() if k is not None),
        plots=tuple(acc.plots),
        confusions=tuple(acc.confusions),
        origin=", ".join(files),
        notes=tuple(acc.notes),
    )


def from_dvc_yaml(text: str, origin: str, root: Path | None = None) -> Sources:
    """One ``dvc.yaml`` (its folder taken from ``origin``); what cannot be read is a note."""
    acc = _Acc()
    _read(text, origin, root, acc)
    return Sources(
        metrics=tuple(dict.fromkeys(acc.metrics)),
        params=tuple(acc.params),
        param_keys=tuple((f, tuple(k)) for f, k in acc.params.items() if k is not None),
        plots=tuple(acc.plots),
        confusions=tuple(acc.confusions),
        origin=origin,
        notes=tuple(acc.notes),
    )


def resolved(definitions: Mapping[str, Mapping[str, Any]]) -> Sources:
    """Plot definitions DVC resolved (``{dvc.yaml: {plot id: props}}``: paths relative to the root,
    folders expanded to their files, ``${}`` filled in) as plot specs, by the rules a ``dvc.yaml`` is
    read with here; a note for each plot not drawn."""
    acc = _Acc()
    for config, plots in definitions.items():
        ctx = _Ctx(origin=config or "dvc.yaml", folder="", root=None, acc=acc)
        for plot_id, props in plots.items():
            _plot(plot_id, props, "plots", ctx)
    return Sources(plots=tuple(acc.plots), confusions=tuple(acc.confusions), notes=tuple(acc.notes))


def _read(text: str, origin: str, root: Path | None, acc: _Acc) -> None:
    """Add the top-level and per-stage sections of one ``dvc.yaml`` to ``acc``."""
    data = parse(text, origin) or {}
    if not isinstance(data, Mapping):
        raise InputError(f"{origin}: expected a mapping at the top")
    folder = posixpath.dirname(origin)
    sections: list[tuple[str, Mapping[str, Any], bool]] = [("", data, True)]
    stages = data.get("stages") or {}
    if not isinstance(stages, Mapping):
        acc.note(f"{origin}: stages: expected a mapping; stages not read")
        stages = {}
    for n, stage in stages.items():
        if isinstance(stage, Mapping) and ("foreach" in stage or "matrix" in stage):
            kind = "foreach" if "foreach" in stage else "matrix"
            acc.note(f"{origin}: stages.{n}: a {kind} stage, expanded by DVC only ({DVC_ONLY}); not read")
        elif isinstance(stage, Mapping):
            sections.append((f"stages.{n}.", stage, False))
    ctx = _Ctx(origin=origin, folder=folder, root=root, acc=acc)
    for prefix, sec, top in sections:
        for f, _ in _entries(sec.get("metrics"), f"{prefix}metrics", ctx):
            ctx.add_file(f, f"{prefix}metrics", acc.metrics.append)
        _params(sec.get("params"), f"{prefix}params", ctx, top=top)
        for f, opts in _entries(sec.get("plots"), f"{prefix}plots", ctx):
            _plot(f, opts, f"{prefix}plots", ctx)


@dataclass(frozen=True, kw_only=True)
class _Ctx:
    origin: str
    folder: str
    root: Path | None
    acc: _Acc

    def path(self, name: str) -> str | None:
        """``name`` relative to the work tree root; None (and a note) when it leaves the tree or
        holds a ``${}`` DVC fills in."""
        if "${" in name:
            self.acc.note(f"{self.origin}: {name}: ${{}} is filled in by DVC only ({DVC_ONLY}); not read")
            return None
        joined = posixpath.normpath(posixpath.join(self.folder, name))
        if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
            self.acc.note(f"{self.origin}: {name}: outside the work tree; not read")
            return None
        return joined

    def add_file(self, name: str, where: str, add: Any) -> None:
        path = self.path(name)
        if path is None:
            return
        if self.root is not None and not (self.root / path).is_file():
            what = "a folder" if (self.root / path).is_dir() else "no such file"
            self.acc.note(f"{self.origin}: {where}: {name}: {what}; not read")
            return
        add(path)


def _entries(value: Any, where: str, ctx: _Ctx) -> Iterable[tuple[str, Any]]:
    """DVC list entries: ``"file"`` or ``{"file": options}``; anything else is a note."""
    if value is None:
        return
    if not isinstance(value, list):
        ctx.acc.note(f"{ctx.origin}: {where}: expected a list; not read")
        return
    for entry in value:
        if isinstance(entry, str):
            yield entry, None
        elif isinstance(entry, Mapping) and len(entry) == 1:
            yield from ((str(k), v) for k, v in entry.items())
        else:
            ctx.acc.note(
                f"{ctx.origin}: {where}: expected a file name or {{file: options}}, got {entry!r:.60}"
            )


def _params(value: Any, where: str, ctx: _Ctx, *, top: bool) -> None:
    """Top level: param files. Stages: a bare key lives in ``params.yaml``; ``{file: [keys]}``."""
    if value is None:
        return
    if not isinstance(value, list):
        ctx.acc.note(f"{ctx.origin}: {where}: expected a list; not read")
        return
    for entry in value:
        if isinstance(entry, str) and top:
            ctx.add_file(entry, where, lambda p: ctx.acc.param(p, None))
        elif isinstance(entry, str):
            ctx.add_file("params.yaml", where, lambda p, e=entry: ctx.acc.param(p, [e]))
        elif isinstance(entry, Mapping):
            for file, keys in entry.items():
                wanted = [str(k) for k in keys] if isinstance(keys, list) and keys else None
                ctx.add_file(str(file), where, lambda p, w=wanted: ctx.acc.param(p, w))
        else:
            ctx.acc.note(f"{ctx.origin}: {where}: expected a key or {{file: [keys]}}, got {entry!r:.60}")


def _plot(name: str, options: Any, where: str, ctx: _Ctx) -> None:
    """One plot entry: a file, a folder of files, or a plot id whose ``y`` maps files to columns."""
    opts = options if isinstance(options, Mapping) else {}
    template = str(opts.get("template", "linear"))
    kind = TEMPLATES.get(template)
    if kind is None:
        ctx.acc.note(f"{ctx.origin}: {where}: {name}: unknown template {template!r}; not drawn")
        return
    x, y = opts.get("x"), opts.get("y")
    if isinstance(y, Mapping):  # a plot id: {file: column(s)}
        series = [
            (p, _x(x, str(f)), str(c))
            for f, cols in y.items()
            if (p := ctx.path(str(f)))
            for c in _list(cols)
        ]
        if kind == "confusion":
            ctx.acc.confusions += [
                ConfusionSpec(path=p, actual=str(a), predicted=c, **_confusion(opts, template))
                for p, a, c in series
            ]
            return
        labels = {**_labels(opts), "title": str(opts.get("title") or name)}
        ctx.acc.plots.append(PlotSpec(kind=kind, series=tuple(series), **labels))  # type: ignore[arg-type]
        return
    path = ctx.path(name)
    if path is None:
        return
    if ctx.root is not None and (ctx.root / path).is_dir():
        for file in sorted(f for f in (ctx.root / path).rglob("*") if f.is_file()):
            _file(file.relative_to(ctx.root).as_posix(), opts, kind, ctx)
        return
    if ctx.root is not None and not (ctx.root / path).is_file():
        ctx.acc.note(f"{ctx.origin}: {where}: {name}: no such file or folder; not drawn")
        return
    _file(path, opts, kind, ctx)


def _file(path: str, opts: Mapping[str, Any], kind: str, ctx: _Ctx) -> None:
    """One data file of a plot (``x``/``y`` as given, else dvclive's sklearn axes, else DVC's defaults)."""
    if is_image(path):
        ctx.acc.note(f"{ctx.origin}: {path}: an image plot; not shown (cml draws data plots only)")
        return
    if not path.lower().endswith(_DATA):
        ctx.acc.note(f"{ctx.origin}: {path}: not a data file (.json, .yaml, .csv, .tsv); not drawn")
        return
    x, y = opts.get("x"), opts.get("y")
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if x is None and y is None and "/sklearn/" in f"/{path}" and stem in SKLEARN:
        spec = sklearn(path)
        if isinstance(spec, ConfusionSpec):
            ctx.acc.confusions.append(spec)
        else:
            ctx.acc.plots.append(spec)
        return
    if kind == "confusion":
        if not (isinstance(x, str) and isinstance(y, str)):
            ctx.acc.note(f"{ctx.origin}: {path}: a confusion plot needs x and y column names; not drawn")
            return
        template = str(opts.get("template", ""))
        ctx.acc.confusions.append(
            ConfusionSpec(path=path, actual=x, predicted=y, **_confusion(opts, template))
        )
        return
    ys = [str(c) for c in _list(y)] if y is not None else [LAST_COLUMN]
    series = tuple((path, _x(x, path), c) for c in ys)
    ctx.acc.plots.append(PlotSpec(kind=kind, series=series, **_labels(opts)))  # type: ignore[arg-type]


def _labels(opts: Mapping[str, Any]) -> dict[str, str]:
    """A plot's ``title``, ``x_label`` and ``y_label`` as given ("" when not)."""
    return {k: str(opts.get(k) or "") for k in ("title", "x_label", "y_label")}


def _confusion(opts: Mapping[str, Any], template: str) -> dict[str, Any]:
    """A confusion plot's title and whether DVC normalises it (``confusion_normalized``)."""
    return {"title": str(opts.get("title") or ""), "normalized": template == "confusion_normalized"}


def _x(x: Any, path: str) -> str | None:
    if isinstance(x, Mapping):
        value = x.get(path)
        return str(value) if value is not None else None
    return str(x) if x is not None else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
