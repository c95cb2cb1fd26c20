"""Read files an attacker may have written: where they may lie, what they may be, how much is read.

A report, its images and its data can come from a fork's artifact (a tar archive, a GitLab artifact),
which can carry symlinks and special files. Two rules, each with one home here:

* **Where.** A report or image must resolve (after every symlink and ``..``) inside the
  :class:`Tree` cml runs in: the git work tree holding the current directory, or the current directory
  outside a repository (``cml comment`` in a folder holding a downloaded artifact). A git directory is
  never part of it (``.git`` at any depth, and the repository's own git dirs wherever they lie): an
  artifact's symlink to ``.git/config`` would otherwise upload the token ``actions/checkout`` persisted
  there. Data files (metrics, params, plots) may resolve anywhere else (DVC's symlink cache and
  external cache dirs rely on it), but never into a git directory either.
* **What and how much.** Only regular files are read, opened without blocking (a FIFO does not hang)
  and checked with ``fstat`` on the open descriptor (no race between check and read), and at most
  ``cap + 1`` bytes are read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cml.errors import InputError

MB = 1_000_000
#: Reports: ten times the largest body any forge keeps (a GitLab note, 1,000,000 characters, is at most
#: 4 MB of UTF-8; a GitHub comment 65,536 characters; a job summary 1 MiB). Fitting is linear, so a
#: report at the cap still posts in seconds.
REPORT_CAP = 10 * MB
#: Metrics, params and plot data: a dvclive log of a million steps is 20-30 MB of TSV; JSON parses
#: 50 MB in about half a second, YAML at about 1 MB a second.
DATA_CAP = 50 * MB
#: Images and published files: GitHub stores at most 100 MB per file and renders attached images up
#: to 10 MB; 25 MB holds any figure and keeps a hostile artifact from making the job upload gigabytes.
ASSET_CAP = 25 * MB

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Missing(InputError):
    """The file does not exist."""


@dataclass(frozen=True, kw_only=True)
class Tree:
    """Where a report and its images may lie: ``root`` and below, less every git directory."""

    root: Path
    git_dirs: tuple[Path, ...] = ()

    def check(self, path: Path, name: str) -> Path:
        """``path`` resolved; InputError naming ``name`` when it lies outside ``root`` or in a git dir."""
        resolved = resolve(path, name)
        if not resolved.is_relative_to(self.root):
            raise InputError(
                f"{name}: resolves to {resolved}, outside the work tree {self.root}",
                hint="reports and images must lie in the work tree; copy the file in instead of linking it",
            )
        refuse_git_dir(resolved, name, self)
        return resolved


def tree(cwd: Path | None = None) -> Tree:
    """The git work tree holding ``cwd`` (default: the current directory), else ``cwd`` itself.

    Found as git finds it, without running git (no log line before the token is masked, and no
    "dubious ownership" refusal in a container): the nearest folder holding a ``.git`` entry. A
    ``.git`` file (a linked worktree, a submodule) names the git dir, which is refused too.
    ``GIT_DIR`` and ``GIT_WORK_TREE`` are not consulted.
    """
    here = Path(os.path.realpath(cwd or Path.cwd()))
    for folder in (here, *here.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return Tree(root=folder, git_dirs=(dot_git,))
        if dot_git.is_file():
            return Tree(root=folder, git_dirs=_pointed_to(dot_git))
    return Tree(root=here)


def _pointed_to(dot_git: Path) -> tuple[Path, ...]:
    """The git dir a ``.git`` file names (``gitdir: PATH``) and the ``commondir`` that one names."""
    git_dir = _pointer(dot_git, "gitdir:")
    common = _pointer(git_dir / "commondir", "") if git_dir else None
    return tuple(d for d in (git_dir, common) if d is not None)


def _pointer(file: Path, prefix: str) -> Path | None:
    """The folder ``file`` names after ``prefix``, relative to ``file``'s folder; None if unreadable."""
    try:
        text = read_text(file, 4096, str(file)).strip()
    except InputError:
        return None
    if not text.startswith(prefix):
        return None
    return Path(os.path.realpath(file.parent / text.removeprefix(prefix).strip()))


def resolve(path: Path, name: str) -> Path:
    """``path`` with every symlink and ``..`` resolved (it need not exist); InputError on a loop."""
    try:
        return Path(os.path.realpath(path, strict=False))
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"{name}: cannot resolve: {exc}") from None


def refuse_git_dir(resolved: Path, name: str, where: Tree) -> None:
    """InputError when ``resolved`` lies in a git directory: one of ``where.git_dirs``, or any folder
    named ``.git`` (below ``where.root`` when inside it, else anywhere on the path)."""
    inside = resolved.is_relative_to(where.root)
    parts = resolved.relative_to(where.root).parts if inside else resolved.parts
    in_dot_git = any(part.lower() == ".git" for part in parts)  # .GIT is .git on macOS and Windows
    if in_dot_git or any(resolved.is_relative_to(d) for d in where.git_dirs):
        raise InputError(
            f"{name}: resolves to {resolved}, inside a git directory",
            hint="cml never reads or uploads git's own files (they can hold credentials)",
        )


def open_regular(path: Path, name: str) -> int:
    """A read-only descriptor on ``path``, a regular file; InputError for anything else.

    Opens without blocking and without taking a terminal, then checks the open file with ``fstat``.
    """
    try:
        before = os.stat(path)  # refuse devices and sockets without opening them at all
        _refuse_special(before.st_mode, name)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise Missing(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        _refuse_special(os.fstat(fd).st_mode, name)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_special(mode: int, name: str) -> None:
    for test, kind in _KINDS:
        if test(mode):
            raise InputError(f"{name}: is {kind}, expected a regular file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{name}: is not a regular file")


def read_bytes(path: Path, cap: int, name: str) -> bytes:
    """At most ``cap`` bytes of the regular file ``path``; InputError naming ``name`` when it is not a
    regular file, cannot be read, or holds more than ``cap`` bytes."""
    fd = open_regular(path, name)
    try:
        size = os.fstat(fd).st_size
        if size > cap:
            raise _too_big(name, size, cap)
        chunks: list[bytes] = []
        left = cap + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > cap:  # it grew while we read
        raise _too_big(name, len(data), cap)
    return data


def check_regular(path: Path, cap: int, name: str) -> int:
    """The size of the regular file ``path`` (checked on an open descriptor); InputError as
    :func:`read_bytes`. For files another module reads later (images the forge uploads)."""
    fd = open_regular(path, name)
    try:
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if size > cap:
        raise _too_big(name, size, cap)
    return size


def read_text(path: Path, cap: int, name: str) -> str:
    """:func:`read_bytes` decoded as UTF-8; InputError naming the first bad byte."""
    data = read_bytes(path, cap, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def check_size(text: str, cap: int, name: str) -> str:
    """``text`` when its UTF-8 size is at most ``cap``; else InputError (text read by other means)."""
    if len(text) * 4 > cap:  # else it cannot be over: a character is at most 4 bytes
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > cap:
            raise _too_big(name, size, cap)
    return text


def _too_big(name: str, size: int, cap: int) -> InputError:
    return InputError(f"{name}: {size:,} bytes, over cml's limit of {cap // MB} MB for this kind of file")


def read_data(path: Path, name: str, where: Tree) -> str:
    """A metrics, params or plot file as UTF-8 text: symlinks may lead anywhere but into a git directory
    of ``where``; InputError as :func:`read_bytes`."""
    resolved = resolve(path, name)
    refuse_git_dir(resolved, name, where)
    return read_text(resolved, DATA_CAP, name)
