"""``cml publish FILE``: store one file where the repository's readers (and only they) can see it."""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cml import files
from cml.cli import _forge


def register(sub: Any) -> None:
    """Add ``publish``."""
    p = sub.add_parser("publish", help="upload a file (an image) privately and print its URL or markdown")
    p.add_argument(
        "file", type=Path, metavar="FILE", help="a regular file in the work tree (an image, a log, ...)"
    )
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
    _refuse_special(path)
    resolved = files.tree().check(path, str(path))
    files.check_regular(resolved, files.ASSET_CAP, str(path))
    session = _forge.open_forge(args, env)
    link = _usable(session, session.forge.upload_assets([resolved])[resolved])
    if args.md:
        title = args.title or path.name
        print(f"![{title}]({link})" if path.suffix.lower() in _forge.IMAGE_SUFFIXES else f"[{title}]({link})")
    else:
        print(link)
    return 0


def _refuse_special(path: Path) -> None:
    """InputError naming what ``path`` is when it exists and is a folder, a device, a FIFO or a socket,
    before the work-tree check: ``/dev/null`` is not a regular file, whatever folder it lies in."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the checks that follow name it
    if not stat.S_ISREG(mode):
        files.check_regular(path, files.ASSET_CAP, str(path))  # raises, naming what it is


def _usable(session: _forge.Session, link: str) -> str:
    """``link`` as the user can open it from the current directory.

    A forge's link is a URL and stays one; the local forge's is relative to its HTML preview folder
    (``.cml/preview/``), which is turned into a path relative to the current directory when the file
    lies under it, else an absolute one.
    """
    if urlsplit(link).scheme:
        return link
    stored = Path(os.path.normpath(Path(session.ctx.workdir) / ".cml" / "preview" / link))
    cwd = Path.cwd()
    return str(stored.relative_to(cwd)) if stored.is_relative_to(cwd) else str(stored)
