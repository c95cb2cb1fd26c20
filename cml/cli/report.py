"""``cml report``: metrics/params/plots of this commit against its baseline, as markdown + images.

Writes ``OUTPUT/report.md`` and its PNGs; with ``--post`` updates the sticky comment (sections
dropped by priority to fit the forge's limit); on GitHub Actions appends to the job summary.
``--fail-on`` raises GateFailed (exit 8) after everything is written and posted.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from cml import ci
from cml.cli import _forge
from cml.errors import GateFailed, UsageError


def register(sub: Any) -> None:
    """Add ``report``."""
    p = sub.add_parser(
        "report",
        help="compare metrics, params and plots with the baseline commit; write (and --post) a report",
        description="Without file flags, reads dvc.yaml (metrics, params, plots) or a dvclive/ folder.",
    )
    add = p.add_argument
    add(
        "--metrics", action="append", default=[], metavar="FILE", help="metrics file (JSON/YAML/TOML/CSV/TSV)"
    )
    add("--params", action="append", default=[], metavar="FILE", help="params file")
    add(
        "--plot",
        action="append",
        default=[],
        metavar="FILE:X:Y[:KIND]",
        help="KIND: line, step, scatter, bar",
    )
    add("--confusion", action="append", default=[], metavar="FILE:ACTUAL:PREDICTED", help="confusion matrix")
    add(
        "--base",
        metavar="REV",
        help="baseline revision (default: merge-base with the PR target / default branch)",
    )
    add(
        "--runs",
        nargs="+",
        default=[],
        type=Path,
        metavar="DIR",
        help="rank several run folders in one table",
    )
    add("--sort-by", metavar="METRIC", help="rank --runs by this metric (default: the first one)")
    add("--all", action="store_true", dest="show_all", help="list unchanged metrics and params too")
    add("--title", default="CML report", help="report heading and sticky comment title (default: CML report)")
    add("--output", type=Path, default=Path("cml-report"), metavar="DIR", help="folder (default: cml-report)")
    add(
        "--fail-on",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'accuracy < -0.01', 'loss > +5%%'",
    )
    add("--warn-on", action="append", default=[], metavar="EXPR", help="like --fail-on, but only warns")
    add("--lower-is-better", action="append", default=[], metavar="METRIC", help="lower is better for METRIC")
    add(
        "--higher-is-better",
        action="append",
        default=[],
        metavar="METRIC",
        help="higher is better for METRIC",
    )
    add(
        "--reader",
        choices=("auto", "dvc", "builtin"),
        default="auto",
        help="how to read dvc.yaml: with DVC, or built in (default: auto, DVC when installed in a DVC repo)",
    )
    add("--bench", type=Path, metavar="FILE.json", help="add a `cml bench` results.json as a section")
    add("--json", action="store_true", help="print a machine summary as JSON")
    add("--post", action="store_true", help="update the sticky comment on this PR/MR (else the commit)")
    _forge.add_forge_options(p)
    p.set_defaults(handler=handle)


def _relative(root: Path, cwd: Path, name: str) -> str:
    """``name`` relative to the work tree root, ``..`` folded but symlinks kept: a data file may be a
    symlink into DVC's cache outside the tree (cml.files.read_data reads through it)."""
    path = Path(os.path.normpath(cwd / name))
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"{name}: outside the git work tree {root}") from None


def options(args: argparse.Namespace, root: Path, cwd: Path) -> Any:
    """Turn flags into :class:`cml.report.pipeline.Options` (sources, parsed rules)."""
    from cml.report import direction, gate, sources
    from cml.report.pipeline import Options

    rel = [_relative(root, cwd, f) for f in (*args.metrics, *args.params)]
    metrics, params = rel[: len(args.metrics)], rel[len(args.metrics) :]
    plots = [_relative_spec(root, cwd, s) for s in args.plot]
    confusions = [_relative_spec(root, cwd, s) for s in args.confusion]
    if metrics or params or plots or confusions:
        src = sources.from_flags(metrics, params, plots, confusions, root)
    else:
        src = sources.discover(root, args.reader)
    if src.empty and not args.runs and not args.bench:
        raise UsageError(
            "nothing to report: give --metrics/--params/--plot/--runs/--bench, or add a dvc.yaml"
        )
    rules = [gate.parse_rule(e, "fail") for e in args.fail_on] + [
        gate.parse_rule(e, "warn") for e in args.warn_on
    ]
    flags = direction.from_flags(args.lower_is_better, args.higher_is_better)
    overrides = direction.merge(flags, direction.from_pyproject(root))
    return Options(
        sources=src,
        base=args.base,
        runs=tuple(args.runs),
        sort_by=args.sort_by,
        show_all=args.show_all,
        title=args.title,
        rules=tuple(rules),
        lower=overrides.lower,
        higher=overrides.higher,
        reader=args.reader,
    )


def _relative_spec(root: Path, cwd: Path, spec: str) -> str:
    path, sep, rest = spec.partition(":")
    return f"{_relative(root, cwd, path)}{sep}{rest}"


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Read, compare, gate, render, write, append to the job summary, post; then raise GateFailed."""
    from cml import git
    from cml.report import baseline, pipeline

    cwd = Path.cwd()
    top = git.query(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        return _outside_git(args, cwd)
    root = Path(top)
    opts = options(args, root, cwd)
    bench = _bench_section(args.bench)
    ctx = _forge.context(args, env)
    session = _forge.open_forge(args, env, ctx) if args.post or ctx.forge == "local" else None
    forge = session.forge if session else None
    empty = opts.sources.empty
    git_token = "" if empty else _forge.token(args, env, ctx, required=False)  # fetches the base with it
    base = (None, "none") if empty else baseline.resolve(root, ctx, opts.base, git_token)
    done = pipeline.compute(root, ctx.sha, opts, base, pipeline.stored_lookup(forge, opts.title))
    return _finish(args=args, ctx=ctx, forge=forge, done=done, opts=opts, bench=bench, cwd=cwd)


def _outside_git(args: argparse.Namespace, cwd: Path) -> int:
    """The report of the files in ``cwd`` alone: no commit, so no baseline and nothing to post on.

    Says so once on stderr; UsageError for ``--base`` and ``--post``, which need a commit.
    """
    from cml.log import logger
    from cml.report import pipeline

    for flag, given in (("--base", args.base), ("--post", args.post)):
        if given:
            raise UsageError(f"{flag}: {cwd} is not in a git repository, so there is no commit to use")
    opts = options(args, cwd, cwd)
    bench = _bench_section(args.bench)
    logger.warning("cml: warning: %s is not in a git repository: no baseline, this folder's files only", cwd)
    done = pipeline.compute(cwd, "", opts, (None, "none"), None)
    return _finish(args=args, ctx=None, forge=None, done=done, opts=opts, bench=bench, cwd=cwd)


def _finish(
    *,
    args: argparse.Namespace,
    ctx: ci.CIContext | None,
    forge: Any,
    done: Any,
    opts: Any,
    bench: str,
    cwd: Path,
) -> int:
    """Draw, write, append to the job summary, post and print ``done``; then raise GateFailed."""
    from cml.report import draw, pipeline

    out_dir = (cwd / args.output).resolve()
    data = draw.draw(done, opts, out_dir)
    data = replace(data, bench=bench) if bench else data
    path, secs = pipeline.write(data, out_dir)
    if ctx is not None:
        ci.append_summary(ctx, pipeline.for_summary(path.read_text(encoding="utf-8"), str(args.output)))
    posted, dropped = (
        _post(args=args, ctx=ctx, forge=forge, secs=secs, path=path) if args.post and forge else (None, [])
    )
    _print(args=args, path=path, done=done, data=data, posted=posted, dropped=dropped)
    if done.gate.failed:
        raise GateFailed("gate failed: " + "; ".join(c.rule.text for c in done.gate.failed))
    return 0


def _bench_section(path: Path | None) -> str:
    """The ``--bench`` results as a report section; InputError naming the file when it does not read."""
    if path is None:
        return ""
    from cml.bench import report, results

    return report.section(results.load(path))


def _post(*, args: argparse.Namespace, ctx: Any, forge: Any, secs: Any, path: Path) -> Any:
    from dataclasses import replace

    from cml import comment
    from cml.files import Tree
    from cml.log import logger
    from cml.markdown import image_warnings, relink_images
    from cml.report.budget import assemble, join

    where = "the job summary / the report artifact" if ctx.step_summary else f"{path}"
    title = args.title
    target = _forge.resolve_target("auto", ctx, forge)
    # Relink before budgeting: a forge link is longer than the local path it replaces. The report and
    # its images are our own output: they must lie in the output folder.
    for warning in image_warnings(join(secs)):
        logger.warning(warning)
    images = _forge.local_image_files(join(secs), path.parent, path, Tree(root=path.parent))
    links = _forge.image_links(images, forge)
    secs = [replace(s, body=relink_images(s.body, links)) for s in secs]
    report, dropped = assemble(secs, comment.room(title, forge.max_comment_chars), where)
    return comment.send(forge, target, report, title=title, sticky=True), dropped


def _print(
    *, args: argparse.Namespace, path: Path, done: Any, data: Any, posted: Any, dropped: list[str]
) -> None:
    """The report's path (and what was posted) or, with ``--json``, a summary; ``images`` counts every
    image the report shows (plots and confusion heatmaps alike), ``plots`` the line plots alone."""
    from cml.markdown import local_images

    if not args.json:
        print(path)
        if posted is not None:
            print(f"{posted.action} {posted.url}")
        return
    summary = {
        "report": str(path),
        "gate": done.gate.conclusion,
        "failed": [c.rule.text for c in done.gate.failed],
        "warned": [c.rule.text for c in done.gate.warned],
        "baseline": data.base_sha,
        "metrics": len(data.metrics),
        "metrics_changed": sum(r.verdict not in ("same", "n/a") for r in data.metrics)
        if data.base_sha
        else 0,
        "params_changed": sum(r.change != "same" for r in data.params) if data.has_base_params else 0,
        "plots": len(data.images),
        "images": len(set(local_images(path.read_text(encoding="utf-8")))),
        "posted": None if posted is None else {"action": posted.action, "url": posted.url, "id": posted.id},
        "dropped": dropped,
    }
    print(json.dumps(summary))
