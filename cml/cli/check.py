"""``cml check create REPORT.md --conclusion C``: report a gate result as a check run / commit status."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cml.cli import _forge

#: GitHub check runs keep 65,535 characters of summary.
SUMMARY_LIMIT = 65_535


def register(sub: Any) -> None:
    """Add ``check`` with its ``create`` verb."""
    parser = sub.add_parser("check", help="report a result on this commit (GitHub check run, GitLab status)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True, help="each has its own --help")
    p = verbs.add_parser("create", help="create or replace the check named --name on this commit")
    p.add_argument("report", type=Path, metavar="REPORT.md", help="markdown summary")
    p.add_argument(
        "--conclusion",
        required=True,
        choices=("success", "failure", "neutral"),
        help="the check's outcome shown on the commit",
    )
    p.add_argument("--title", help="one line (default: the report's first heading)")
    p.add_argument("--name", default="cml", help="check name; the same name replaces it (default: cml)")
    p.add_argument("--json", action="store_true", help='print {"url", "conclusion"} as JSON')
    _forge.add_forge_options(p)
    p.set_defaults(handler=handle)


def title_of(report: str, conclusion: str) -> str:
    """The first heading (or non-empty line, markup stripped), else ``cml: CONCLUSION``; ≤ 140 chars."""
    for line in report.splitlines():
        text = re.sub(r"<!--.*?-->|^\s*#+\s*|[*_`>]", "", line).strip()
        if text:
            return text[:140]
    return f"cml: {conclusion}"


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Read the report and call ``forge.set_status(ctx.sha, Status(...))``; print its URL."""
    from cml.forges import Status
    from cml.markdown import fit
    from cml.secrets import refuse_if_found

    report = _forge.read_report(args.report)
    session = _forge.open_forge(args, env)
    summary, _cut = fit(report, SUMMARY_LIMIT, lambda n: f"> Cut by {n:,} characters; see the job summary.")
    status = Status(
        name=args.name,
        conclusion=args.conclusion,
        title=(args.title or title_of(report, args.conclusion)).splitlines()[0][:140],
        summary=summary,
    )
    refuse_if_found(f"{status.title}\n{status.summary}", "the check")
    url = session.forge.set_status(session.ctx.sha, status)
    print(json.dumps({"url": url, "conclusion": args.conclusion}) if args.json else url)
    return 0
