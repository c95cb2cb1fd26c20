"""``cml report`` as a library call: :func:`report` takes a :class:`ReportRequest`, returns a
:class:`ReportResult`.

Reads the sources (flags, else ``dvc.yaml``, else ``dvclive/``) at the work tree and at the
baseline commit, compares, evaluates the gate, draws the plots, writes ``OUTPUT/report.md``,
appends it to the CI job summary and, with ``post``, updates the sticky comment. A failed gate is
in the result (``result.gate.failed``); raising for it is the caller's choice (the CLI exits 8).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

from cml import ci, session
from cml.comment import Posted
from cml.errors import UsageError
from cml.forges import Forge
from cml.log import logger
from cml.report.build import ReportData
from cml.report.gate import GateResult
from cml.report.jsondiff import Entry
from cml.report.pipeline import Computed, Options


@dataclass(frozen=True, kw_only=True)
class ReportRequest:
    """What to report on, as ``cml report``'s flags give it; file names relative to ``cwd``.

    ``plots``: ``FILE:X:Y[:KIND]``; ``confusions``: ``FILE:ACTUAL:PREDICTED``; ``fail_on`` and
    ``warn_on``: gate rules such as ``accuracy < -0.01``; ``bench``: a ``cml bench`` results.json.
    With no metrics, params, plots or confusions, ``dvc.yaml`` (else ``dvclive/``) says what to read.
    """

    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()
    confusions: tuple[str, ...] = ()
    base: str | None = None
    head: str | None = None  # a commit to read the head from; None: the work tree
    reader: str = "auto"  # how dvc.yaml is read: auto (DVC when installed), dvc, builtin
    runs: tuple[Path, ...] = ()
    sort_by: str | None = None
    show_all: bool = False
    title: str = "CML report"
    output: Path = Path("cml-report")
    fail_on: tuple[str, ...] = ()
    warn_on: tuple[str, ...] = ()
    lower_is_better: tuple[str, ...] = ()
    higher_is_better: tuple[str, ...] = ()
    bench: Path | None = None
    post: bool = False
    access: session.Access = field(default_factory=session.Access)


@dataclass(frozen=True, kw_only=True)
class ReportResult:
    """What :func:`report` wrote, compared, concluded and posted."""

    report: Path  # OUTPUT/report.md, absolute
    images: tuple[Path, ...]  # every image file the report shows (plots and confusion heatmaps)
    plots: int  # the line plots among them
    gate: GateResult
    baseline: str | None  # the baseline commit's sha; None when there was nothing to compare with
    data: ReportData  # the report's content: metric and param rows, notes, sections' inputs
    posted: Posted | None = None
    dropped: tuple[str, ...] = ()  # sections left out of the comment to fit the forge's limit
    uncommitted: tuple[str, ...] = ()  # tracked inputs differing from the head's commit: a workspace
    diff: dict[str, dict[str, dict[str, Entry]]] = field(default_factory=dict)  # old/new/diff per file

    @property
    def output(self) -> Path:
        """The folder holding the report and its images."""
        return self.report.parent

    @property
    def metrics_changed(self) -> int:
        """Metrics that differ from the baseline (0 without one)."""
        if not self.baseline:
            return 0
        return sum(r.verdict not in ("same", "n/a") for r in self.data.metrics)

    @property
    def params_changed(self) -> int:
        """Params that differ from the baseline's (0 when the baseline has none)."""
        return sum(r.change != "same" for r in self.data.params) if self.data.has_base_params else 0


def report(request: ReportRequest, env: Mapping[str, str], cwd: Path | None = None) -> ReportResult:
    """Read, compare, gate, render, write, append to the job summary and (``post``) post.

    ``cwd`` (default: the current directory) is where relative names start; outside a git work tree
    the files there are reported alone (no baseline, nothing to post). Raises UsageError/InputError
    (exit 2) for bad input, ConfigError (3) for a missing token or runtime, ForgeError (4) when the
    forge fails; never for a failed gate.
    """
    from cml import git
    from cml.report import baseline, pipeline

    cwd = cwd or Path.cwd()
    root = git.work_tree(cwd)
    if root is None:
        return _outside_git(request, cwd)
    ctx = session.context(env, request.access, cwd)
    request = _fetch_head(request, root, ctx, env)
    opts = options(request, root, cwd)
    with _warm(opts):
        bench = _bench_section(request.bench)
        opened = (
            session.open_forge(env, request.access, ctx) if request.post or ctx.forge == "local" else None
        )
        forge = opened.forge if opened else None
        empty = opts.sources.empty
        git_token = "" if empty else session.token(ctx, env, request.access, required=False)  # for the base
        base = (
            (None, "none") if empty else baseline.resolve(root, ctx, opts.base, git_token, head_rev=opts.head)
        )
        done = pipeline.compute(root, ctx.sha, opts, base, pipeline.stored_lookup(forge, opts.title))
        return _finish(request, ctx=ctx, forge=forge, done=done, opts=opts, bench=bench, cwd=cwd)


def _outside_git(request: ReportRequest, cwd: Path) -> ReportResult:
    """The report of the files in ``cwd`` alone: no commit, so no baseline and nothing to post on.

    Says so once on stderr; UsageError for ``--base``, ``--head`` and ``--post``, which need a commit.
    """
    from cml.report import pipeline

    for flag, given in (("--base", request.base), ("--head", request.head), ("--post", request.post)):
        if given:
            raise UsageError(f"{flag}: {cwd} is not in a git repository, so there is no commit to use")
    opts = options(request, cwd, cwd)
    with _warm(opts):
        bench = _bench_section(request.bench)
        logger.warning(
            "cml: warning: %s is not in a git repository: no baseline, this folder's files only", cwd
        )
        done = pipeline.compute(cwd, "", opts, (None, "none"), None)
        return _finish(request, ctx=None, forge=None, done=done, opts=opts, bench=bench, cwd=cwd)


def _fetch_head(
    request: ReportRequest, root: Path, ctx: ci.CIContext, env: Mapping[str, str]
) -> ReportRequest:
    """``request`` with ``--head REV`` as the sha it names here, or fetched from origin when it is not
    here (a shallow CI clone); UsageError naming REV when neither has it."""
    from cml.report import baseline

    if request.head is None or baseline.commit(root, request.head) is not None:
        return request
    token = session.token(ctx, env, request.access, required=False)
    return replace(request, head=baseline.head_commit(root, ctx, token, request.head))


@contextmanager
def _warm(opts: Options) -> Iterator[None]:
    """Start Chromium at once when there is something to draw, so it loads while the data and the
    baseline are read (:func:`cml.report.plots.prepare`); on the way out, stop it if nothing took it
    (a failure before the plots, or none drawn). Nothing when the plots extra is missing."""
    plots: ModuleType | None = None
    if opts.sources.plots or opts.sources.confusions:
        with suppress(ModuleNotFoundError):  # no plotly/kaleido: draw() says so in the report
            plots = importlib.import_module("cml.report.plots")
    if plots is not None:
        plots.prepare()
    try:
        yield
    finally:
        if plots is not None:
            plots.release()


def _finish(
    request: ReportRequest,
    *,
    ctx: ci.CIContext | None,
    forge: Forge | None,
    done: Computed,
    opts: Options,
    bench: str,
    cwd: Path,
) -> ReportResult:
    """Draw, write, append to the job summary and post ``done``."""
    from cml.markdown import local_images
    from cml.report import draw, pipeline
    from cml.report.post import post_sections

    out_dir = (cwd / request.output).resolve()
    data = draw.draw(done, opts, out_dir)
    data = replace(data, bench=bench) if bench else data
    path, secs = pipeline.write(data, out_dir)
    text = path.read_text(encoding="utf-8")
    if ctx is not None:
        ci.append_summary(ctx, pipeline.for_summary(text, str(request.output)))
    posted, dropped = (
        post_sections(ctx, forge, secs, path, request.title) if request.post and forge and ctx else (None, [])
    )
    return ReportResult(
        report=path,
        images=tuple(out_dir / src for src in dict.fromkeys(local_images(text))),
        plots=len(data.images),
        gate=done.gate,
        baseline=data.base_sha,
        data=data,
        posted=posted,
        dropped=tuple(dropped),
        uncommitted=done.uncommitted,
        diff=done.diff,
    )


def _relative(root: Path, cwd: Path, name: str) -> str:
    """``name`` relative to the work tree root, ``..`` folded but symlinks kept: a data file may be a
    symlink into DVC's cache outside the tree (cml.files.read_data reads through it)."""
    path = Path(os.path.normpath(cwd / name))
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"{name}: outside the git work tree {root}") from None


def _relative_spec(root: Path, cwd: Path, spec: str) -> str:
    path, sep, rest = spec.partition(":")
    return f"{_relative(root, cwd, path)}{sep}{rest}"


def options(request: ReportRequest, root: Path, cwd: Path) -> Options:
    """The request as :class:`cml.report.pipeline.Options` (sources, parsed rules); UsageError when
    there is nothing to report or a rule or file name is bad."""
    from cml.report import direction, gate, head, sources

    if request.head and request.reader == "dvc":
        raise UsageError("--head with --reader dvc: DVC reads the work tree only; use --reader builtin")
    rel = [_relative(root, cwd, f) for f in (*request.metrics, *request.params)]
    metrics, params = rel[: len(request.metrics)], rel[len(request.metrics) :]
    plots = [_relative_spec(root, cwd, s) for s in request.plots]
    confusions = [_relative_spec(root, cwd, s) for s in request.confusions]
    with head.files_at(root, request.head) as tree:  # --head: REV's files, nothing from the work tree
        if metrics or params or plots or confusions:
            src = sources.from_flags(metrics, params, plots, confusions, tree)
        else:
            src = sources.discover(tree, request.reader)
        pyproject = direction.from_pyproject(tree)
    if src.empty and not request.runs and not request.bench:
        raise UsageError(
            "nothing to report: give --metrics/--params/--plot/--runs/--bench, or add a dvc.yaml"
        )
    rules = [gate.parse_rule(e, "fail") for e in request.fail_on] + [
        gate.parse_rule(e, "warn") for e in request.warn_on
    ]
    flags = direction.from_flags(list(request.lower_is_better), list(request.higher_is_better))
    overrides = direction.merge(flags, pyproject)
    return Options(
        sources=src,
        base=request.base,
        head=request.head,
        reader=request.reader,
        runs=tuple(request.runs),
        sort_by=request.sort_by,
        show_all=request.show_all,
        title=request.title,
        rules=tuple(rules),
        lower=overrides.lower,
        higher=overrides.higher,
    )


def _bench_section(path: Path | None) -> str:
    """The ``--bench`` results as a report section; InputError naming the file when it does not read."""
    if path is None:
        return ""
    from cml.bench import report as bench_report
    from cml.bench import results

    return bench_report.section(results.load(path))
