"""``cml publish FILE``: store one file where the repository's readers (and only they) can see it.

The work is :func:`cml.publish.publish`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from cml.cli import Outcome, Subparsers, _forge


def register(sub: Subparsers) -> None:
    """Add ``publish``."""
    p = sub.add_parser("publish", help="upload a file (an image) privately and print its URL or markdown")
    p.add_argument(
        "file", type=Path, metavar="FILE", help="a regular file in the work tree (an image, a log, ...)"
    )
    p.add_argument("--md", action="store_true", help="print markdown (an image or a link) instead of the URL")
    p.add_argument("--title", help="alt text / link text for --md (default: the file name)")
    _forge.add_forge_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Publish ``args.file`` (:func:`cml.publish.publish`); print its link, or markdown with ``--md``."""
    from cml.publish import PublishRequest, publish

    done = publish(PublishRequest(file=args.file, access=_forge.access(args)), env)
    print(done.markdown(args.title or args.file.name) if args.md else done.url)
    return Outcome(code=0, result=done)
