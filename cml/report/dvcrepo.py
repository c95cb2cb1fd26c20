"""Read a DVC project with DVC itself (the ``dvc`` extra): metrics, params and plots at two revisions.

``dvc.repo.Repo(root)``: ``metrics.show`` and ``params.show`` with ``on_error="return"`` and
``plots.collect`` with an ``onerror`` collector, so one file DVC cannot read is a note, never an
abort. DVC resolves ``vars``/``${}``, ``foreach``/``matrix``, every ``dvc.yaml`` of the repository and
outputs kept in its cache (through ``dvc.lock``: from the local cache, else the remote the revision
configures). DVC is imported here only, when a report reads with it: it is slow to import.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from cml.errors import ConfigError, InputError, UsageError
from cml.log import logger
from cml.report import dvcresults as results
from cml.report.readers import Record
from cml.report.snapshot import Snapshot
from cml.report.sources import Sources

READERS: tuple[str, ...] = ("auto", "dvc", "builtin")
INSTALL = "pip install 'cml-suite[dvc]'"
_WORKSPACE = "workspace"
#: The loggers DVC sets up on import (INFO to stdout): silenced while cml reads, its errors become notes.
_DVC_LOGGERS = ("dvc", "dvc_objects", "dvc_data", "scmrepo")


class Rejected(InputError):
    """DVC cannot read the project at all (a ``dvc.yaml`` failing DVC's schema)."""


def installed() -> bool:
    """Whether DVC can be imported (it is not imported here)."""
    return importlib.util.find_spec("dvc") is not None


def choose(root: Path, reader: str) -> Literal["dvc", "builtin"]:
    """Which reader reads ``root``'s ``dvc.yaml``: ``auto`` is DVC when it is installed and ``root``
    is a DVC repository (``.dvc/``) with a ``dvc.yaml``, else the built-in one. ConfigError when
    ``dvc`` is asked for and DVC is not installed or ``root`` is no DVC repository."""
    if reader not in READERS:
        raise UsageError(f"--reader {reader!r}: expected one of {', '.join(READERS)}")
    if reader == "builtin":
        return "builtin"
    is_repo = (root / ".dvc").is_dir()
    if reader == "dvc":
        if not installed():
            raise ConfigError(f"--reader dvc: DVC is not installed ({INSTALL}); or use --reader builtin")
        if not is_repo:
            raise ConfigError(
                f"--reader dvc: {root} is not a DVC repository (no .dvc folder): run `dvc init`, "
                "or use --reader builtin"
            )
        return "dvc"
    from cml.report import dvcyaml

    return "dvc" if is_repo and installed() and dvcyaml.find(root) else "builtin"


@contextlib.contextmanager
def _opened(root: Path) -> Iterator[Any]:
    """``dvc.repo.Repo(root)`` with the process in ``root`` (DVC names plot files relative to the
    current folder) and DVC's own log silenced; ConfigError naming ``root`` when DVC cannot open it,
    or saying so when DVC is installed but does not import."""
    try:
        from dvc.exceptions import DvcException
        from dvc.repo import Repo
    except ImportError as exc:
        raise ConfigError(
            f"DVC does not import ({exc}): reinstall it ({INSTALL}), or use --reader builtin"
        ) from None

    loggers = [logging.getLogger(name) for name in _DVC_LOGGERS]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.CRITICAL + 1)
    _guard(root, _project_files(root))
    try:
        with contextlib.chdir(root):
            try:
                repo = Repo(str(root))
            except DvcException as exc:
                raise ConfigError(f"{root}: DVC cannot open this repository: {results.reason(exc)}") from None
            with repo:
                yield repo
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _guard(root: Path, names: Iterable[str]) -> None:
    """Refuse, before DVC opens them, the work-tree files cml itself would not read
    (:func:`cml.files.read_data`): a link into a git directory (it can hold the checkout's token), a
    FIFO or a device (reading one hangs or never ends), a file over the data cap. InputError naming the
    first; a missing file (or a dangling link) is left to DVC."""
    from cml import files

    where = files.tree(root)
    for name in names:
        path = root / name.lstrip("/")
        if not os.path.lexists(path):
            continue
        resolved = files.resolve(path, name.lstrip("/"))
        files.refuse_git_dir(resolved, name.lstrip("/"), where)
        with contextlib.suppress(files.Missing):  # a dangling link: DVC says "no such file" in a note
            files.check_regular(resolved, files.DATA_CAP, name.lstrip("/"))


def _project_files(root: Path) -> list[str]:
    """What DVC reads while it opens the project: its config, every ``dvc.yaml`` (as
    :func:`cml.report.dvcyaml.find` finds them), the ``dvc.lock`` and ``params.yaml`` beside each (the
    default ``${}`` context) and the files their ``vars`` name. Each ``dvc.yaml`` passes the guard
    before it is read here."""
    from cml import files
    from cml.report import dvcyaml
    from cml.report.readers import parse

    names = [".dvc/config", ".dvc/config.local", "params.yaml"]
    for found in dvcyaml.find(root):
        folder = posixpath.dirname(found)
        _guard(root, [found])
        try:
            data = parse(files.read_data(root / found, found, files.tree(root)), found)
        except InputError:
            data = None  # DVC meets and reports the same error
        names += [posixpath.join(folder, n) for n in ("dvc.lock", "params.yaml", *_vars(data))]
    return names


def _vars(data: Any) -> list[str]:
    """The files a ``dvc.yaml``'s top-level and stage ``vars`` name (``file.yaml:keys`` as the file)."""
    if not isinstance(data, Mapping):
        return []
    stages = data.get("stages")
    stages = stages if isinstance(stages, Mapping) else {}
    lists = [data.get("vars"), *(s.get("vars") for s in stages.values() if isinstance(s, Mapping))]
    return [v.split(":", 1)[0] for vs in lists if isinstance(vs, list) for v in vs if isinstance(v, str)]


def _data_files(repo: Any) -> list[str]:
    """The metrics and params files DVC would read in the work tree, listed without reading them
    (DVC's own collectors, which ``metrics.show``/``params.show`` call first); empty when DVC cannot
    list them (``show`` then reports why); ConfigError when this DVC has no such collectors."""
    try:
        from dvc.dependency.param import ParamsDependency
        from dvc.repo.metrics.show import _collect_metrics
        from dvc.repo.params.show import _collect_params
    except ImportError as exc:  # fail closed: no DVC read without the check
        raise ConfigError(
            f"this DVC cannot list its files before reading them ({exc}); use --reader builtin"
        ) from None
    try:
        params = _collect_params(repo, default_file=ParamsDependency.DEFAULT_PARAMS_FILE)
        return [*_collect_metrics(repo), *params]
    except Exception as exc:  # DVC's own errors are many; show() meets and reports the same one
        logger.debug("DVC could not list the data files: %s", exc)
        return []


def discover(root: Path) -> Sources:
    """What DVC reads in the work tree: the metrics and params files ``dvc metrics/params show``
    list and the plots ``dvc plots show`` draws, as Sources with ``reader="dvc"`` (values are read
    per revision by :func:`read`, which notes the files DVC cannot read); a note for each plot not
    drawn and for plot definitions DVC cannot read. Rejected when DVC cannot read the project at all
    (a ``dvc.yaml`` that fails DVC's schema); InputError for a file :func:`_guard` refuses."""
    with _opened(root) as repo:
        _guard(root, _data_files(repo))
        m = results.files(repo.metrics.show(hide_workspace=False, on_error="return").get(""))
        p = results.files(repo.params.show(hide_workspace=False, on_error="return").get(""))
        collected = _plots(repo, root, [_WORKSPACE], data=False).get(_WORKSPACE, {})
    broken = m.failed or p.failed
    if broken is not None:
        raise Rejected(f"DVC cannot read this project ({root}): {results.reason(broken)}")
    defs, failed = results.definitions(collected)
    notes = [_failed(failed, "plots", _where(None))] if failed is not None else []
    from cml.report import dvcyaml

    plots = dvcyaml.resolved(defs)
    for note in notes:
        logger.warning("%s", note)
    return Sources(
        metrics=tuple(m.paths),
        params=tuple(p.paths),
        plots=plots.plots,
        confusions=plots.confusions,
        origin="dvc.yaml (read with DVC)",
        reader="dvc",
        notes=(*notes, *plots.notes),
    )


@dataclass(frozen=True, kw_only=True)
class Read:
    """Both revisions as DVC read them."""

    sources: Sources  # the plots whose work-tree data DVC read; a note for each file it could not read
    head: Snapshot
    base: Snapshot | None  # None: no baseline commit, or no DVC project in it
    cache: dict[str, str]  # base metrics files kept in DVC's cache -> "local", "remote" or "missing"


def read(root: Path, sources: Sources, base_sha: str | None) -> Read:
    """Metrics, params and plot data in the work tree (the head) and at ``base_sha``, read by DVC; a file DVC
    cannot read is a note (and a warning), a base metrics file kept in DVC's cache that neither the
    local cache nor a remote has is ``"missing"`` in ``Read.cache`` (the caller may complete it
    from a stored report)."""
    revs = [base_sha] if base_sha else []
    with _opened(root) as repo:
        cached = _cached(repo, base_sha) if base_sha else {}
        local = {path for path, oid in cached.items() if repo.cache.local.exists(oid)}
        _guard(root, _data_files(repo))
        metrics = repo.metrics.show(revs=revs or None, hide_workspace=False, on_error="return")
        params = repo.params.show(revs=revs or None, hide_workspace=False, on_error="return")
        plots = _plots(repo, root, [_WORKSPACE, *revs], data=True)
    state = _State(cached=cached)
    head_key = _WORKSPACE if revs else ""
    hm, hp = results.files(metrics.get(head_key)), results.files(params.get(head_key))
    has_base = base_sha is not None and (base_sha in metrics or base_sha in params)
    bm = results.files(metrics.get(base_sha)) if base_sha else results.Files()
    bp = results.files(params.get(base_sha)) if base_sha else results.Files()
    by_m, by_p = results.keyed(hm, bm), results.keyed(hp, bp)
    head = state.snapshot(hm, hp, by_file=(by_m, by_p), rev=None)
    head_records, drawn = state.records(sources, plots.get(_WORKSPACE, {}), None)
    head = replace(head, records=head_records)
    base = None
    if has_base and base_sha:
        base = state.snapshot(bm, bp, by_file=(by_m, by_p), rev=base_sha)
        base = replace(base, records=state.records(sources, plots.get(base_sha, {}), base_sha)[0])
    cache = {
        path: "missing" if path in state.missing else "local" if path in local else "remote"
        for path in cached
        if path in bm.paths
    }
    notes = tuple(dict.fromkeys((*sources.notes, *state.notes)))
    return Read(sources=replace(drawn, notes=notes), head=head, base=base, cache=cache)


@dataclass(kw_only=True)
class _State:
    """Turns DVC's results into snapshots, gathering a note per file DVC could not read."""

    cached: Mapping[str, str]
    notes: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # base files kept in DVC's cache it could not fetch

    def note(self, text: str) -> None:
        logger.warning("%s", text)
        self.notes.append(text)

    def check(self, read: results.Files, what: str, rev: str | None) -> None:
        """A note per file DVC could not read; at the base, a file absent from the commit is no news
        (build outputs are not committed) and a cached one DVC could not fetch is ``missing``."""
        where = _where(rev)
        if read.failed is not None:
            self.note(_failed(read.failed, what, where))
        for path, exc in read.errors.items():
            if rev is not None and path in self.cached and isinstance(exc, FileNotFoundError):
                self.missing.add(path)
            elif rev is None or not isinstance(exc, FileNotFoundError):
                self.note(f"{path}: DVC could not read it {where}: {results.reason(exc)}")

    def snapshot(
        self, m: results.Files, p: results.Files, *, by_file: tuple[bool, bool], rev: str | None
    ) -> Snapshot:
        """Metrics and params of one revision (notes for what DVC could not read)."""
        self.check(m, "metrics", rev)
        self.check(p, "params", rev)
        return Snapshot(
            metrics=results.metrics(m, by_file=by_file[0]),
            params=results.params(p, by_file=by_file[1]),
            origin="work tree" if rev is None else f"git {rev[:7]}",
        )

    def records(
        self, sources: Sources, collected: Mapping[str, Any], rev: str | None
    ) -> tuple[dict[str, list[Record]], Sources]:
        """The plot records of one revision, and ``sources`` keeping the plots that have all their data."""
        read, where = results.plot_sources(collected), _where(rev)
        if read.failed is not None and collected:
            self.note(_failed(read.failed, "plots", where))
        wanted = sorted(
            {s[0] for p in sources.plots for s in p.series} | {c.path for c in sources.confusions}
        )
        got, bad = results.plot_records(read, wanted, where)
        for text in bad:
            self.note(text)
        for path in wanted:
            exc = read.errors.get(path)
            if exc is not None and (rev is None or not isinstance(exc, FileNotFoundError)):
                self.note(f"{path}: DVC could not read it {where}: {results.reason(exc)}; not drawn")
            elif rev is None and path not in got and path not in read.errors and read.failed is None:
                self.note(f"{path}: DVC read no data for it {where}; not drawn")
        drawn = replace(
            sources,
            plots=tuple(p for p in sources.plots if all(s[0] in got for s in p.series)),
            confusions=tuple(c for c in sources.confusions if c.path in got),
        )
        return got, drawn


def _where(rev: str | None) -> str:
    return "in the work tree" if rev is None else f"at {rev[:7]}"


def _failed(exc: BaseException, what: str, where: str) -> str:
    return f"DVC could not read the project's {what} {where}: {results.reason(exc)}"


def _plots(repo: Any, root: Path, revs: list[str], *, data: bool) -> dict[str, Any]:
    """``repo.plots.collect`` for ``revs`` (``{rev: {"definitions", "sources"}}``); with ``data``,
    each data source is read while DVC is at its revision (work-tree files checked by :func:`_guard`
    first). ``plots.show`` would do the same and also print its own error line on stderr."""
    out: dict[str, Any] = {}
    for collected in repo.plots.collect(revs=revs, onerror=_collect):
        if data and _WORKSPACE in collected:
            _guard(root, (collected[_WORKSPACE].get("sources") or {}).get("data") or {})
        if data:
            _resolve(collected)
        out.update(collected)
    return out


def _collect(result: dict[str, Any], exception: BaseException, *_args: Any, **_kwargs: Any) -> None:
    """DVC's ``onerror``: keep the error in the result instead of raising."""
    result["error"] = exception


def _resolve(tree: Any) -> None:
    """Replace every ``data_source`` callable under ``tree`` with what it reads (``data`` or ``error``)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        source = node.pop("data_source", None)
        if callable(source):
            node.update(source(cache=True))
        stack.extend(node.values())


def _cached(repo: Any, sha: str) -> dict[str, str]:
    """The outputs DVC keeps in its cache at ``sha`` (their ``dvc.lock`` hash by repo-relative path);
    empty when DVC cannot tell (no DVC project in that commit, a broken ``dvc.lock``)."""
    from dvc.exceptions import DvcException

    found: dict[str, str] = {}
    try:
        with repo.switch(sha):
            for out in repo.index.outs:
                if out.use_cache and out.hash_info and out.hash_info.value:
                    path = repo.fs.relpath(out.fs_path, repo.root_dir)
                    found[str(path).replace("\\", "/")] = str(out.hash_info.value)
    except (DvcException, OSError) as exc:
        logger.debug("DVC could not list the cached outputs at %s: %s", sha[:7], exc)
    return found
