"""The report's head: the work tree (default) or a commit (``--head REV``), and whether its values
are that commit's own data.

With ``--head REV`` nothing in the work tree is read: the sources are found in a skeleton of REV's
tree (:func:`files_at`) and every file is read with ``git show REV:path``. The work tree is the
commit's data unless tracked *inputs* differ from it (:mod:`cml.report.outputs` says which files
are outputs); then it is a workspace, labelled so, and its values are never stored as the commit's.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cml import git
from cml.errors import InputError, UsageError
from cml.report.snapshot import Read, work_tree
from cml.report.sources import Sources

#: How many uncommitted inputs the report names (the rest are counted).
SHOWN = 5
#: The files a ``--head`` skeleton holds besides ``dvc.yaml`` and ``pyproject.toml``: data files the
#: readers parse and the image plots a ``dvc.yaml`` may name (what finding the sources looks at).
#: Only these: creating every file of a large repository would take seconds.
_LISTED = (".json", ".yaml", ".yml", ".toml", ".csv", ".tsv", ".png", ".jpg", ".jpeg", ".gif", ".svg")


@dataclass(frozen=True, kw_only=True)
class Head:
    """Where the head's files come from and what they are."""

    sha: str  #: the commit read (``--head``) or the work tree stands on; "" outside git
    read: Read
    origin: str  #: "work tree" or "git abc1234" (names files in errors as ``abc1234:path``)
    uncommitted: tuple[str, ...] = ()  #: tracked inputs differing from ``sha``: a workspace

    def label(self) -> str:
        """How the report names the head: ``abc1234`` or the workspace on it (a work tree compared with
        its own commit is worded by :func:`cml.report.build.header`, never "Comparing X with X")."""
        if not self.sha:
            return "the work tree"
        if self.uncommitted:
            return f"workspace (uncommitted, on `{self.sha[:7]}`)"
        return f"`{self.sha[:7]}`"

    def note(self) -> str | None:
        """The report line naming the uncommitted inputs, or None for a commit's data."""
        if not self.uncommitted:
            return None
        names = ", ".join(f"`{p}`" for p in self.uncommitted[:SHOWN])
        more = f" and {len(self.uncommitted) - SHOWN} more" if len(self.uncommitted) > SHOWN else ""
        return (
            f"Uncommitted changes to {names}{more}: the head is the workspace, "
            f"so its values are not stored as `{self.sha[:7]}`'s data."
        )


def commit(root: Path, rev: str) -> str:
    """The full sha of ``--head REV``; UsageError naming REV when it names no commit here."""
    found = git.commit(root, rev)
    if found is None:
        raise UsageError(f"--head {rev!r}: no such commit here")
    return found


def resolve(root: Path, rev: str | None, sources: Sources, *, on: str) -> Head:
    """``--head REV`` read from git, else the work tree standing on commit ``on`` ("" outside git),
    with the tracked inputs that differ from it (``git status``; :func:`cml.report.outputs.inputs`)."""
    from cml.report import outputs

    if rev is not None:
        sha = commit(root, rev)
        return Head(sha=sha, read=committed(root, sha), origin=f"git {sha[:7]}")
    changed = outputs.inputs(git.changed(root), root, sources) if on else ()
    return Head(sha=on, read=work_tree(root), origin="work tree", uncommitted=changed)


def committed(root: Path, sha: str) -> Read:
    """Read ``path`` as committed in ``sha`` (:func:`cml.report.baseline.at_commit`); a missing file
    is an InputError naming ``abc1234:path`` (head files must exist)."""
    from cml.report.baseline import at_commit

    show = at_commit(root, sha)

    def read(path: str) -> str:
        text = show(path)
        if text is None:
            raise InputError(f"{sha[:7]}:{path}: no such file in commit {sha[:7]}")
        return text

    return read


@contextmanager
def files_at(root: Path, rev: str | None) -> Iterator[Path]:
    """``root`` itself without ``rev``; else a temporary skeleton of REV's tree to find the sources
    in: its data and image files (:data:`_LISTED`) as empty files, its ``dvc.yaml`` files and
    ``pyproject.toml`` with their committed text. UsageError when REV names no commit."""
    if rev is None:
        yield root
        return
    sha = commit(root, rev)
    with tempfile.TemporaryDirectory(prefix="cml-head-") as tmp:
        skeleton = Path(tmp)
        for path in git.files_at(root, sha):
            read = path.rsplit("/", 1)[-1] == "dvc.yaml" or path == "pyproject.toml"
            if read or path.lower().endswith(_LISTED):
                _place(skeleton / path, git.show(root, sha, path) if read else "")
        yield skeleton


def _place(target: Path, text: str | None) -> None:
    """One file of the skeleton, with ``text`` (empty when None)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text or "", encoding="utf-8")
