"""``cml check create REPORT.md --conclusion C``: report a gate result as a check run / commit status.

The work is :func:`cml.check.check`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

from cml.cli import Outcome, Subparsers, _forge


def register(sub: Subparsers) -> None:
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


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Set the check (:func:`cml.check.check`); print its URL, or ``{"url", "conclusion"}`` with ``--json``."""
    from cml.check import CheckRequest, check

    request = CheckRequest(
        report=args.report,
        conclusion=args.conclusion,
        title=args.title,
        name=args.name,
        access=_forge.access(args),
    )
    done = check(request, env)
    print(json.dumps({"url": done.url, "conclusion": done.conclusion}) if args.json else done.url)
    return Outcome(code=0, result=done)
