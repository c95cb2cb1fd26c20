"""A markdown report on disk and its local images: read safely, upload through a forge, relink.

A report may come from an untrusted fork: every file it names must stay inside the work tree, out
of git directories, and be a regular file of bounded size before anything is uploaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cml import files
from cml.errors import InputError
from cml.forges import Forge
from cml.images import IMAGE_SUFFIXES
from cml.markdown import local_images, relink_images


def read_report(path: Path, where: files.Tree | None = None) -> str:
    """The report's text; InputError when it resolves outside the work tree ``where`` (default: the
    one holding the current directory) or into a git directory, is missing, not a regular file, over
    :data:`cml.files.REPORT_CAP`, binary, not UTF-8 or empty."""
    resolved = (where or files.tree()).check(path, str(path))
    data = files.read_bytes(resolved, files.REPORT_CAP, str(path))
    if b"\0" in data:
        raise InputError(f"{path}: is a binary file, expected markdown text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InputError(f"{path}: is empty")
    return text


def local_image_files(
    report: str, base: Path, origin: Path, where: files.Tree | None = None
) -> dict[str, Path]:
    """Each local image in ``report`` (relative to ``base``) and its resolved file.

    Raises InputError naming the report and the first image that resolves (through ``..`` or a
    symlink) outside the work tree ``where`` (default: the one holding the current directory) or into
    a git directory, is not an image file, is missing, is not a regular file, or is over
    :data:`cml.files.ASSET_CAP`: a report from an untrusted fork must not be able to upload
    ``.git/config`` or ``/proc/self/environ``.
    """
    tree = where or files.tree()
    found: dict[str, Path] = {}
    for src in local_images(report):
        name = f"{origin}: image {src!r}"
        path = tree.check(base / src, name)  # src is the decoded file name, query and fragment dropped
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(f"{origin}: {src!r} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
        try:
            files.check_regular(path, files.ASSET_CAP, name)
        except files.Missing:
            raise InputError(f"{name} not found (looked for {path})") from None
        found[src] = path
    return found


def image_links(images: Mapping[str, Path], forge: Forge) -> dict[str, str]:
    """Upload each image file once through the forge (its asset endpoint); map every source that
    names it to its link."""
    if not images:
        return {}
    links = forge.upload_assets(sorted(set(images.values())))
    return {src: links[path] for src, path in images.items()}


def upload_images(report: str, images: Mapping[str, Path], forge: Forge) -> str:
    """Upload the report's local images through the forge and point the report at them."""
    return relink_images(report, image_links(images, forge)) if images else report
