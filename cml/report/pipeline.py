"""The I/O edges of ``cml report``: read head and baseline, compute, write files.

:func:`compute` reads and compares (no writes); :func:`cml.report.draw.draw` renders the figures
into the output folder; :func:`write` writes ``report.md``. Posting is :mod:`cml.report.post`; the
whole command is :func:`cml.report.run.report`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cml.errors import CmlError
from cml.forges import Forge
from cml.images import Image
from cml.log import logger
from cml.markdown import replace_images
from cml.report import baseline, experiments, jsondiff
from cml.report.budget import Section, join
from cml.report.build import ReportData, sections
from cml.report.diff import metric_rows, param_rows
from cml.report.gate import GateResult, Rule, evaluate
from cml.report.head import Head
from cml.report.head import resolve as resolve_head
from cml.report.jsondiff import Entry
from cml.report.snapshot import Snapshot, encode_block, read_snapshot
from cml.report.sources import Sources


@dataclass(frozen=True, kw_only=True)
class Options:
    """What the user asked for, paths relative to the work tree root."""

    sources: Sources
    base: str | None = None
    head: str | None = None  #: ``--head REV``; None: the work tree
    runs: tuple[Path, ...] = ()
    sort_by: str | None = None
    show_all: bool = False
    title: str = "CML report"
    rules: tuple[Rule, ...] = ()
    lower: frozenset[str] = frozenset()
    higher: frozenset[str] = frozenset()
    reader: str = "auto"  # auto | dvc | builtin: how dvc.yaml is read (cml.report.dvcrepo.choose)


@dataclass(frozen=True, kw_only=True)
class Computed:
    """Head, baseline and everything derived from them (nothing written yet)."""

    head: Snapshot
    base: Snapshot | None
    base_sha: str | None
    sources: Sources  # what was read: opts.sources, or the plots DVC could read (cml.report.dvcrepo)
    data: ReportData
    gate: GateResult
    diff: dict[str, dict[str, dict[str, Entry]]] = field(
        default_factory=dict
    )  #: ``--json``'s ``diff`` (cml.report.jsondiff)
    uncommitted: tuple[str, ...] = ()  #: tracked inputs differing from the head's commit: a workspace


def read_base(
    root: Path, sources: Sources, sha: str | None, stored: Callable[[str], Snapshot | None] | None
) -> Snapshot | None:
    """Sources as committed at ``sha``, completed from the snapshot an earlier report stored on
    ``sha``'s comments (``stored``) for metrics or params that are not committed (build outputs).

    None when nothing at all is known about ``sha``.
    """
    if sha is None:
        return None
    base = read_snapshot(sources, baseline.at_commit(root, sha), f"git {sha[:7]}")
    return complete(base, sources, sha, stored)


def complete(
    base: Snapshot | None,
    sources: Sources,
    sha: str,
    stored: Callable[[str], Snapshot | None] | None,
    *,
    partial: bool = False,
) -> Snapshot | None:
    """``base`` completed from the report stored on ``sha`` when it has no metrics (or, with
    ``partial``, lacks some: a file DVC could not fetch) or no params; None when nothing is known."""
    base = base or Snapshot(origin=f"git {sha[:7]}")
    need_metrics = bool(sources.metrics) and (partial or not base.metrics)
    need_params = bool(sources.params) and not base.params
    kept = stored(sha) if stored is not None and (need_metrics or need_params) else None
    if kept is not None:
        base = replace(
            base,
            metrics={**kept.metrics, **base.metrics} if need_metrics else base.metrics,
            params=base.params or kept.params,
            origin=kept.origin if need_metrics and kept.metrics else base.origin,
        )
    return base if (base.metrics or base.params or base.records) else None


def compute(
    root: Path,
    head_sha: str,
    opts: Options,
    base: tuple[str | None, str],
    stored: Callable[[str], Snapshot | None] | None,
) -> Computed:
    """Read head (``opts.head``, else the work tree on ``head_sha``) and baseline, compare, evaluate the
    gate; raises on any bad input. The head's values go into the data block only when they are commit
    ``head_sha``'s own: not a workspace (:mod:`cml.report.head`), not another commit."""
    base_sha, how = base
    sources = opts.sources
    top = resolve_head(root, opts.head, sources, on=head_sha)
    if sources.reader == "dvc":
        head, before, sources = _read_dvc(root, sources, base_sha, stored)
    else:
        head = read_snapshot(sources, top.read, top.origin)
        before = read_base(root, sources, base_sha, stored)
    base_is_head = base_sha is not None and base_sha == head_sha
    if base_is_head and before is not None and _same(before, head):
        before = None  # the commit compared with itself: nothing to compare
    has_m = before is not None and bool(before.metrics)
    has_p = before is not None and bool(before.params)
    rows = metric_rows(
        before.metrics if before and has_m else None, head.metrics, lower=opts.lower, higher=opts.higher
    )
    gate = evaluate(opts.rules, rows)
    table = ""
    if opts.runs:
        runs = [experiments.load_run(folder) for folder in opts.runs]
        table = experiments.table(runs, opts.sort_by, opts.lower, opts.higher)
    params = param_rows(before.params if before and has_p else {}, head.params)
    if top.uncommitted:
        logger.warning("%s", top.note())
    data = ReportData(
        title=opts.title,
        head_sha=top.sha,
        head_label=top.label(),
        base_sha=base_sha if before else None,
        base_origin=_origin(before, base_sha, how),
        base_is_head=base_is_head,
        metrics=rows,
        params=params,
        has_base_metrics=has_m,
        has_base_params=has_p,
        show_all=opts.show_all,
        gate=gate,
        experiments=table,
        notes=(*sources.notes, *filter(None, [top.note()])),
        data_block=encode_block(head, top.sha) if _own(top, head_sha) else "",
    )
    return Computed(
        head=head,
        base=before,
        base_sha=base_sha,
        sources=sources,
        data=data,
        gate=gate,
        diff=jsondiff.diff(rows, params, sources, show_all=opts.show_all),
        uncommitted=top.uncommitted,
    )


def _own(head: Head, on: str) -> bool:
    """Whether ``head``'s values are the own data of commit ``on`` (the run's), to be stored on it."""
    return bool(head.sha) and head.sha == on and not head.uncommitted


def _same(a: Snapshot, b: Snapshot) -> bool:
    """True when two snapshots hold the same metrics, params and plot data (NaN equal to NaN)."""

    def text(s: Snapshot) -> str:
        return json.dumps([s.metrics, s.params, s.records], sort_keys=True, default=str)

    return text(a) == text(b)


def _read_dvc(
    root: Path, sources: Sources, sha: str | None, stored: Callable[[str], Snapshot | None] | None
) -> tuple[Snapshot, Snapshot | None, Sources]:
    """Head and base read by DVC, the base completed from a stored report where DVC's cache and
    remote lack a file; a note saying where each cached base metrics file came from."""
    from cml.report import dvcrepo

    got = dvcrepo.read(root, sources, sha)
    if sha is None:
        return got.head, None, got.sources
    missing = [p for p, how in got.cache.items() if how == "missing"]
    before = complete(got.base, got.sources, sha, stored, partial=bool(missing))
    from_store = before is not None and before.origin.startswith("stored")
    notes = [_cache_note(path, how, sha, from_store=from_store) for path, how in got.cache.items()]
    for note in notes:
        logger.info("%s", note)
    return got.head, before, replace(got.sources, notes=(*got.sources.notes, *notes))


def _cache_note(path: str, how: str, sha: str, *, from_store: bool) -> str:
    """One line saying where the base values of a metrics file kept in DVC's cache came from."""
    where = f"`{path}` at `{sha[:7]}` (kept in the DVC cache)"
    if how == "local":
        return f"Base {where}: read from the local DVC cache."
    if how == "remote":
        return f"Base {where}: fetched from the DVC remote."
    found = "taken from the report stored on that commit" if from_store else "no base values for it"
    return f"Base {where}: neither the local cache nor a remote has it; {found}."


def _origin(base: Snapshot | None, sha: str | None, how: str) -> str | None:
    if base is None or sha is None:
        return None
    if base.origin.startswith("stored"):
        return f"`{sha[:7]}`, {how} (metrics from the report stored on that commit)"
    return f"`{sha[:7]}`, {how}"


def write(data: ReportData, out_dir: Path) -> tuple[Path, list[Section]]:
    """Write ``out_dir/report.md`` (the full report) and return its path and sections."""
    secs = sections(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.md"
    path.write_text(join(secs), encoding="utf-8")
    return path, secs


def for_summary(report: str, folder: str) -> str:
    """``report`` for the CI job summary, which cannot show local images: each becomes a pointer."""

    def pointer(image: Image) -> str | None:
        if image.path is None:
            return None
        where = f"{folder}/{image.path}"
        if image.html:
            alt = html.escape(image.alt or "image")
            return f"<em>{alt}: <code>{html.escape(where)}</code> in the report folder</em>"
        return f"*{image.alt}: `{where}` in the report folder*"

    return replace_images(report, pointer)


def stored_lookup(forge: Forge | None, title: str) -> Callable[[str], Snapshot | None] | None:
    """A function reading the data block stored on a commit's comments through ``forge``."""
    if forge is None:
        return None

    def lookup(sha: str) -> Snapshot | None:
        try:
            return baseline.stored(forge, sha, title)
        except CmlError as exc:
            logger.warning("could not read stored baseline on %s: %s", sha[:7], exc)
            return None

    return lookup
