"""GitLab image uploads that are reused when GitLab already holds the same content.

Every ``POST /projects/:id/uploads`` stores a new file under a new random secret, and GitLab keeps
it whether a note still links to it or not; uploading every plot on every pipeline piles up copies.
How GitLab's API could tell us that an upload already exists, and why we use what we use:

- ``GET /projects/:id/uploads`` (GitLab 17.2) lists uploads, but needs the **Maintainer** role, which
  the Reporter project access token cml asks for does not have, and answers only ``id``, ``size``,
  ``filename``: no secret, so no link could be rebuilt from it anyway. Not used.
- Our own earlier notes already hold the links: each upload is named after its content
  (``<stem>-<first 32 hex digits of its sha256><suffix>``), and the notes the token's own user
  wrote on this pipeline's merge request are searched for ``/uploads/<secret>/<that name>``.
- A link found there is used only once ``GET /projects/:id/uploads/:secret/:filename`` (GitLab
  17.4, Guest role) returns bytes with that sha256: a maintainer may have deleted the file, and
  someone else's note is never trusted. On an older GitLab that route is missing (404), and
  outside a merge request pipeline there is no note to search: the file is uploaded, as before.

Cost: one listing of the MR's notes per run that has images (the sticky comment lists them anyway)
and one download per image found again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

_HEX = 32
_LINK = re.compile(
    rf"/uploads/(?P<secret>[0-9a-f]{{32}})/(?P<name>[A-Za-z0-9._+-]*-(?P<digest>[0-9a-f]{{{_HEX}}})\.[A-Za-z0-9]+)"
)
#: Any project upload a note links, as ``POST /projects/:id/uploads`` answers its ``url``.
_ANY = re.compile(r"/uploads/[0-9a-f]{32}/(?P<name>[^/\s)\]\"'<>?#]+)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def digest(data: bytes) -> str:
    """The content's sha256, hex."""
    return hashlib.sha256(data).hexdigest()


def upload_name(path: Path, sha256: str) -> str:
    """The name an upload of ``path`` gets: a readable stem and the content's hash (only safe characters)."""
    stem = _UNSAFE.sub("-", path.stem).strip("-.")[:60] or "file"
    suffix = _UNSAFE.sub("", path.suffix)[:10]
    return f"{stem}-{sha256[:_HEX]}{suffix}"


def earlier_links(bodies: Iterable[str]) -> dict[str, str]:
    """``{hash prefix: /uploads/<secret>/<name>}`` for every content-named upload the bodies link; newest wins."""
    found: dict[str, str] = {}
    for body in bodies:
        for match in _LINK.finditer(body):
            found[match["digest"]] = f"/uploads/{match['secret']}/{match['name']}"
    return found


def key(sha256: str) -> str:
    """The part of a content hash that upload names carry."""
    return sha256[:_HEX]


def linked_names(body: str) -> set[str]:
    """The file names of the project uploads ``body`` links (``/uploads/<secret>/<name>``, decoded)."""
    return {unquote(match["name"]) for match in _ANY.finditer(body)}
