"""``cml comment create|update REPORT.md``: post a report as a PR/MR/commit comment."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cml.cli import Outcome, Subparsers, _forge

if TYPE_CHECKING:
    from cml.posting import CommentRequest, DryRun


def register(sub: Subparsers) -> None:
    """Add ``comment`` with its ``create`` and ``update`` verbs."""
    parser = sub.add_parser("comment", help="post a markdown report as a comment (sticky with update)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True, help="each has its own --help")
    for verb, text in (
        ("create", "post a new comment"),
        ("update", "edit our newest comment with the same --watermark-title, else post one"),
    ):
        p = verbs.add_parser(verb, help=text, description=text)
        p.add_argument(
            "report", type=Path, metavar="REPORT.md", help="markdown file; local images are uploaded"
        )
        p.add_argument(
            "--target",
            default="auto",
            help="auto (this PR/MR, else the open one for this commit, else the commit), pr, pr/N, commit, "
            "commit/SHA, issue/N (default: auto)",
        )
        p.add_argument(
            "--watermark-title",
            metavar="TITLE",
            help="names the sticky comment; several titles keep several comments (default: workflow/job name)",
        )
        p.add_argument("--dry-run", action="store_true", help="print the body and the calls; touch nothing")
        p.add_argument("--json", action="store_true", help='print {"action", "url", "id"} as JSON')
        _forge.add_forge_options(p)
        p.set_defaults(handler=handle)


def request(args: argparse.Namespace) -> CommentRequest:
    """The arguments as a :class:`cml.posting.CommentRequest`."""
    from cml.posting import CommentRequest

    return CommentRequest(
        report=args.report,
        target=args.target,
        title=args.watermark_title,
        sticky=args.verb == "update",
        access=_forge.access(args),
    )


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Post the report (:func:`cml.posting.post`), or with ``--dry-run`` print the plan; print what was done."""
    from cml import posting

    if args.dry_run:
        plan = posting.plan(request(args), env)
        _print_plan(args, plan)
        return Outcome(code=0, result=plan)
    posted = posting.post(request(args), env)
    if args.json:
        print(json.dumps({"action": posted.action, "url": posted.url, "id": posted.id}))
    else:
        print(f"{posted.action} {posted.url}")
    return Outcome(code=0, result=posted)


def _print_plan(args: argparse.Namespace, plan: DryRun) -> None:
    """Print what would be sent, the body redacted; exit 2 like a real run when it holds a secret."""
    from cml.log import redact

    print(f"# cml comment {args.verb} --dry-run: {_nothing_sent(plan)}")
    for src, path in plan.uploads:
        print(f"would upload {src} ({path.stat().st_size} bytes) and relink it")
    if plan.sticky:
        whose = (
            f"by {plan.actor or 'you'} in the local forge" if plan.forge == "local" else "by the token's user"
        )
        print(
            f"would read every comment on {plan.where} and edit the newest one {whose} titled {plan.title!r}"
        )
        print("else would create one")
    else:
        print(f"would create a comment on {plan.where} titled {plan.title!r}")
    print("--- body ---")
    print(redact(plan.body))
    plan.check()


def _nothing_sent(plan: DryRun) -> str:
    """What ``--dry-run`` leaves alone, in the words of the forge it names."""
    if plan.store is not None:
        return f"nothing is written to the local forge ({plan.store})"
    return f"nothing is sent to the {plan.forge} forge"
