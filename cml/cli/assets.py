"""``cml assets gc --keep-days N``: remove stored images that no recent comment shows."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from cml.cli import _forge


def _days(text: str) -> int:
    """``--keep-days``: a whole number of days, at least 1."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"{days}: must be at least 1")
    return days


def register(sub: Any) -> None:
    """Add ``assets`` with its ``gc`` verb."""
    parser = sub.add_parser("assets", help="manage the images cml stored for comments")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True, help="each has its own --help")
    p = verbs.add_parser(
        "gc",
        help="remove images stored over N days ago that no comment updated in the last N days links",
        description="Remove images stored more than N days ago that no comment updated in the last N days "
        "links. GitHub: the assets branch becomes one new commit of the kept files. GitLab: old uploads "
        "are deleted (GitLab 17.2+, Maintainer role). Local forge: files in .cml/assets/.",
    )
    p.add_argument(
        "--keep-days", type=_days, required=True, metavar="N", help="days to look back (at least 1)"
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be removed; change nothing")
    p.add_argument("--json", action="store_true", help='print {"where", "kept", "removed", ...} as JSON')
    _forge.add_forge_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Call :func:`cml.assets.collect` on the detected forge and print what it kept and removed."""
    from cml.assets import GcRequest, collect

    result = collect(
        GcRequest(keep_days=args.keep_days, dry_run=args.dry_run, access=_forge.access(args)), env
    )
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    verb = "would remove" if result.dry_run else "removed"
    print(
        f"{result.where}: {verb} {len(result.removed)}, kept {len(result.kept)} "
        f"(stored or linked since {result.cutoff:%Y-%m-%d %H:%M} UTC)"
    )
    for name in result.removed:
        print(f"  {verb} {name}")
    return 0
