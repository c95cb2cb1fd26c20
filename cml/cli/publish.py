"""``cml publish FILE``: store one file where the repository's readers (and only they) can see it."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cml import files
from cml.cli import _forge


def register(sub: Any) -> None:
    """Add ``publish``."""
    p = sub.add_parser("publish", help="upload a file (an image) privately and print its URL or markdown")
    p.add_argument("file", type=Path)
    p.add_argument("--md", action="store_true", help="print markdown (an image or a link) instead of the URL")
    p.add_argument("--title", help="alt text / link text for --md (default: the file name)")
    _forge.add_forge_options(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Upload ``args.file`` through the forge and print its link.

    The file must resolve inside the work tree (the current directory outside a repository), not
    into a git directory, and be a regular file of at most :data:`cml.files.ASSET_CAP` bytes.
    """
    path: Path = args.file
    resolved = files.tree().check(path, str(path))
    files.check_regular(resolved, files.ASSET_CAP, str(path))
    session = _forge.open_forge(args, env)
    link = session.forge.upload_assets([resolved])[resolved]
    if args.md:
        title = args.title or path.name
        print(f"![{title}]({link})" if path.suffix.lower() in _forge.IMAGE_SUFFIXES else f"[{title}]({link})")
    else:
        print(link)
    return 0
