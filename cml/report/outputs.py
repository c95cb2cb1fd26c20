"""Which changed files are outputs (written by running the commit's own code) and which are inputs.

A work tree whose only tracked differences from its commit are outputs holds that commit's data: the
usual CI run checks out, trains, then reports. Outputs are:

* the files the report reads as metrics, plots and confusion matrices (``--metrics``, ``--plot``,
  ``--confusion``, or ``dvc.yaml``);
* what any ``dvc.yaml`` names as ``metrics`` or ``plots`` (top level and stages; a plot's ``y`` files
  too) or as a stage's ``outs``, relative to the file's folder and the stage's ``wdir``; a folder
  covers everything in it, and ``${...}`` stands for one path segment (a path made only of
  ``${...}`` covers nothing);
* everything inside a folder named ``dvclive``, and a ``params.yaml`` beside an output
  ``metrics.json`` in a subfolder that holds no ``dvc.yaml`` (dvclive's ``Live(dir=...)`` writes both);
* ``dvc.lock`` and ``.gitignore`` files, which ``dvc repro`` rewrites.

Every other tracked file is an input: code, params files (``--params``, stage ``params``), DVC
``deps``, data. Untracked files are never inputs.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cml.errors import CmlError
from cml.report.sources import Sources

#: Files DVC rewrites when it runs a pipeline; they never change what the code computes.
BOOKKEEPING = frozenset({"dvc.lock", ".gitignore"})
_TEMPLATE = re.compile(r"\$\{[^}]*\}")


def inputs(changed: Iterable[str], root: Path, sources: Sources) -> tuple[str, ...]:
    """Those of ``changed`` (paths relative to ``root``) that are inputs, in the order given; reads
    the ``dvc.yaml`` files under ``root`` only when something changed."""
    changed = list(changed)
    if not changed:
        return ()
    covers = _pattern(outputs(root, sources))
    return tuple(p for p in changed if not _output(p, covers))


def _output(path: str, covers: re.Pattern[str]) -> bool:
    parts = path.split("/")
    return parts[-1] in BOOKKEEPING or "dvclive" in parts[:-1] or bool(covers.fullmatch(path))


def outputs(root: Path, sources: Sources) -> list[str]:
    """The output paths (files or folders) the report and the ``dvc.yaml`` files under ``root`` name,
    with dvclive's ``params.yaml`` beside them (see the module doc)."""
    from cml.report import dvcyaml

    found = dvcyaml.find(root)
    named = [*read(sources), *declared(root, found)]
    return named + _dvclive_params(named, {posixpath.dirname(n) for n in found})


def read(sources: Sources) -> list[str]:
    """The files a report reads as outputs: metrics, plot data, confusion matrices (not params)."""
    plots = [s[0] for p in sources.plots for s in p.series]
    return [*sources.metrics, *plots, *(c.path for c in sources.confusions)]


def declared(root: Path, found: Iterable[str]) -> list[str]:
    """Outputs the ``dvc.yaml`` files ``found`` under ``root`` name; a file that does not parse is
    skipped (the report notes it already)."""
    from cml import files
    from cml.report.readers import parse

    out: list[str] = []
    for name in found:
        try:
            data = parse(files.read_data(root / name, name, files.tree(root)), name)
        except CmlError:
            continue
        if isinstance(data, Mapping):
            out += of_dvc_yaml(data, posixpath.dirname(name))
    return out


def of_dvc_yaml(data: Mapping[str, Any], folder: str) -> list[str]:
    """The outputs one parsed ``dvc.yaml`` in ``folder`` names, relative to the work tree root."""
    out = [posixpath.join(folder, p) for p in _names(data, ("metrics", "plots"))]
    stages = data.get("stages")
    for stage in stages.values() if isinstance(stages, Mapping) else ():
        body = stage.get("do", stage) if isinstance(stage, Mapping) else None
        if isinstance(body, Mapping):
            wdir = str(body.get("wdir") or ".")
            out += [posixpath.join(folder, wdir, p) for p in _names(body, ("outs", "metrics", "plots"))]
    return [n for p in out if (n := posixpath.normpath(p)) != ".." and not n.startswith(("../", "/"))]


def _names(section: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Paths listed under ``keys``: ``"path"`` or ``{path: options}``; a plot's ``y: {file: col}``."""
    out: list[str] = []
    for key in keys:
        entries = section.get(key)
        for name, options in _entries(entries if isinstance(entries, list) else []):
            y = options.get("y") if isinstance(options, Mapping) else None
            out += [name, *(str(f) for f in y)] if isinstance(y, Mapping) else [name]
    return out


def _entries(entries: list[Any]) -> list[tuple[str, Any]]:
    """DVC list entries as ``(path, options)``: ``"path"`` or ``{path: options}``; others skipped."""
    out: list[tuple[str, Any]] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append((entry, None))
        elif isinstance(entry, Mapping):
            out += [(str(k), v) for k, v in entry.items()]
    return out


def _dvclive_params(outputs: list[str], project_folders: set[str]) -> list[str]:
    """``D/params.yaml`` for each output ``D/metrics.json`` in a subfolder ``D`` holding no dvc.yaml."""
    folders = {posixpath.dirname(p) for p in outputs if posixpath.basename(p) == "metrics.json"}
    return [f"{d}/params.yaml" for d in sorted(folders - project_folders - {""})]


def _pattern(paths: Iterable[str]) -> re.Pattern[str]:
    """One pattern matching each path and anything below it (``${...}``: one path segment)."""
    alternatives = []
    for path in dict.fromkeys(paths):
        if not _TEMPLATE.sub("", path).strip("/."):
            continue
        literal = [re.escape(part) for part in _TEMPLATE.split(path)]
        alternatives.append("[^/]*".join(literal))
    body = "|".join(alternatives) or "(?!)"
    return re.compile(f"(?:{body})(?:/.*)?", re.DOTALL)
