"""``cml comment create|update REPORT.md``: post a report as a PR/MR/commit comment."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cml import ci
from cml.cli import _forge


def register(sub: Any) -> None:
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


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Read the report, upload its images, then create or update the comment."""
    from cml import comment
    from cml.forges import COMMENT_LIMITS
    from cml.log import logger
    from cml.markdown import image_warnings

    _forge.parse_target(args.target)
    full = _forge.read_report(args.report)
    ctx = _forge.context(args, env)
    title = args.watermark_title or ctx.workflow
    sticky = args.verb == "update"
    # Only what the forge can hold is searched for images: bounded work whatever the report's size.
    report, cut = comment.postable(full, title=title, limit=COMMENT_LIMITS[ctx.forge])
    files = _forge.local_image_files(report, args.report.parent, args.report)
    for warning in image_warnings(report):
        logger.warning(warning)
    if args.dry_run:
        return _dry_run(args, env, ctx, report, files, title, sticky)
    session = _forge.open_forge(args, env, ctx)
    forge = session.forge
    target = _forge.resolve_target(args.target, ctx, forge)
    report = _forge.upload_images(report, files, forge)
    posted = comment.send(forge, target, report, title=title, sticky=sticky)
    if cut or posted.truncated:
        ci.append_summary(ctx, full if cut else report)
    if args.json:
        print(json.dumps({"action": posted.action, "url": posted.url, "id": posted.id}))
    else:
        print(f"{posted.action} {posted.url}")
    return 0


def _dry_run(
    args: argparse.Namespace,
    env: Mapping[str, str],
    ctx: Any,
    report: str,
    files: Mapping[str, Path],
    title: str,
    sticky: bool,
) -> int:
    """Print what would be sent, the body redacted; exit 2 like a real run when it holds a secret."""
    from cml import comment
    from cml.log import redact
    from cml.secrets import refuse_if_found

    _forge.token(args, env, ctx, required=False)  # registered, so the body below is redacted

    where = _forge.describe_target(args.target, ctx)
    print(f"# cml comment {args.verb} --dry-run: {_nothing_sent(ctx)}")
    for src, path in files.items():
        print(f"would upload {src} ({path.stat().st_size} bytes) and relink it")
    if sticky:
        whose = (
            f"by {ctx.actor or 'you'} in the local forge" if ctx.forge == "local" else "by the token's user"
        )
        print(f"would read every comment on {where} and edit the newest one {whose} titled {title!r}")
        print("else would create one")
    else:
        print(f"would create a comment on {where} titled {title!r}")
    body, _ = comment.compose(report, title=title, nonce="0" * 12, limit=10**9)
    print("--- body ---")
    print(redact(body))
    refuse_if_found(body, "the comment")
    return 0


def _nothing_sent(ctx: Any) -> str:
    """What ``--dry-run`` leaves alone, in the words of the forge ``ctx`` names."""
    if ctx.forge == "local":
        return f"nothing is written to the local forge ({ctx.workdir / '.cml'})"
    return f"nothing is sent to the {ctx.forge} forge"
