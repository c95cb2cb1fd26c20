"""``cml publish FILE`` as a library call: :func:`publish` stores one file where the repository's
readers (and only they) can see it and returns a :class:`Published`."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cml import ci, files, session
from cml.images import IMAGE_SUFFIXES


@dataclass(frozen=True, kw_only=True)
class PublishRequest:
    """The file to publish (relative to the current directory) and how to reach the forge."""

    file: Path
    access: session.Access = field(default_factory=session.Access)


@dataclass(frozen=True, kw_only=True)
class Published:
    """Where a published file can be opened."""

    file: Path  # the file as the request named it
    resolved: Path  # the file it resolved to in the work tree
    url: str  # a forge URL, or for the local forge a path usable from the current directory

    @property
    def image(self) -> bool:
        """True when the file is an image (``--md`` shows it rather than linking it)."""
        return self.file.suffix.lower() in IMAGE_SUFFIXES

    def markdown(self, title: str | None = None) -> str:
        """An image (``![title](url)``) or a link (``[title](url)``); ``title`` defaults to the file name."""
        text = title or self.file.name
        return f"![{text}]({self.url})" if self.image else f"[{text}]({self.url})"


def publish(request: PublishRequest, env: Mapping[str, str]) -> Published:
    """Upload ``request.file`` through the forge's asset endpoint and return its link.

    The file must resolve inside the work tree (the current directory outside a repository), not
    into a git directory, and be a regular file of at most :data:`cml.files.ASSET_CAP` bytes
    (InputError, exit 2); ConfigError (3) without a token, ForgeError (4) when the upload fails.
    """
    path = request.file
    _refuse_special(path)
    resolved = files.tree().check(path, str(path))
    files.check_regular(resolved, files.ASSET_CAP, str(path))
    opened = session.open_forge(env, request.access)
    link = opened.forge.upload_assets([resolved])[resolved]
    return Published(file=path, resolved=resolved, url=_usable(opened.ctx, link))


def _refuse_special(path: Path) -> None:
    """InputError naming what ``path`` is when it exists and is a folder, a device, a FIFO or a socket,
    before the work-tree check: ``/dev/null`` is not a regular file, whatever folder it lies in."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the checks that follow name it
    if not stat.S_ISREG(mode):
        files.check_regular(path, files.ASSET_CAP, str(path))  # raises, naming what it is


def _usable(ctx: ci.CIContext, link: str) -> str:
    """``link`` as the user can open it from the current directory.

    A forge's link is a URL and stays one; the local forge's is relative to its HTML preview folder
    (``.cml/preview/``), which is turned into a path relative to the current directory when the file
    lies under it, else an absolute one.
    """
    if urlsplit(link).scheme:
        return link
    stored = Path(os.path.normpath(Path(ctx.workdir) / ".cml" / "preview" / link))
    cwd = Path.cwd()
    return str(stored.relative_to(cwd)) if stored.is_relative_to(cwd) else str(stored)
