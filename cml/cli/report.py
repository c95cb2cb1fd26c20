"""``cml report``: metrics/params/plots of this commit against its baseline, as markdown + images.

Writes ``OUTPUT/report.md`` and its PNGs; with ``--post`` updates the sticky comment (sections
dropped by priority to fit the forge's limit); on GitHub Actions appends to the job summary.
``--fail-on`` raises GateFailed (exit 8) after everything is written and posted. The work is
:func:`cml.report.run.report`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cml.cli import Outcome, Subparsers, _forge
from cml.errors import GateFailed

if TYPE_CHECKING:
    from cml.report.run import ReportRequest, ReportResult


def register(sub: Subparsers) -> None:
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
        "--head",
        metavar="REV",
        help="read the head from this commit, not the work tree (default: the work tree)",
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


def request(args: argparse.Namespace) -> ReportRequest:
    """The flags as a :class:`cml.report.run.ReportRequest`."""
    from cml.report.run import ReportRequest

    return ReportRequest(
        metrics=tuple(args.metrics),
        params=tuple(args.params),
        plots=tuple(args.plot),
        confusions=tuple(args.confusion),
        base=args.base,
        head=args.head,
        runs=tuple(args.runs),
        sort_by=args.sort_by,
        show_all=args.show_all,
        title=args.title,
        output=args.output,
        fail_on=tuple(args.fail_on),
        warn_on=tuple(args.warn_on),
        lower_is_better=tuple(args.lower_is_better),
        higher_is_better=tuple(args.higher_is_better),
        bench=args.bench,
        post=args.post,
        access=_forge.access(args),
        reader=args.reader,
    )


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Run :func:`cml.report.run.report`, print its result; a failed gate exits 8 after that."""
    from cml.report.run import report

    result = report(request(args), env)
    _print(args=args, result=result)
    failed = result.gate.failed
    error = GateFailed("gate failed: " + "; ".join(c.rule.text for c in failed)) if failed else None
    return Outcome(code=0, result=result, error=error)


def _print(*, args: argparse.Namespace, result: ReportResult) -> None:
    """The report's path (and what was posted) or, with ``--json``, a summary; ``images`` counts every
    image the report shows (plots and confusion heatmaps alike), ``plots`` the line plots alone."""
    posted = result.posted
    if not args.json:
        print(result.report)
        if posted is not None:
            print(f"{posted.action} {posted.url}")
        return
    summary = {
        "report": str(result.report),
        "gate": result.gate.conclusion,
        "failed": [c.rule.text for c in result.gate.failed],
        "warned": [c.rule.text for c in result.gate.warned],
        "baseline": result.baseline,
        "metrics": len(result.data.metrics),
        "metrics_changed": result.metrics_changed,
        "params_changed": result.params_changed,
        "plots": result.plots,
        "images": len(result.images),
        "posted": None if posted is None else {"action": posted.action, "url": posted.url, "id": posted.id},
        "dropped": list(result.dropped),
        "head": result.data.head_sha or None,
        "uncommitted": list(result.uncommitted),
        "diff": result.diff,
    }
    print(json.dumps(summary))
