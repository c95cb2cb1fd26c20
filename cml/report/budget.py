"""Fit a report into a forge's size limit by dropping whole sections, lowest priority first.

Each section carries a priority; over the limit the lowest-priority droppable sections go first
(the later one among equals) and a note says which went and where to find them. What is left is
cut further by :func:`cml.markdown.fit` (via :func:`cml.comment.compose`) only if required
sections alone are still too long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Sections at or above this priority are never dropped (header, gate, hidden data block).
REQUIRED = 100


@dataclass(frozen=True, kw_only=True)
class Section:
    """A titled block of markdown with a priority (higher is kept longer).

    ``short``: a shorter body to use before dropping the section (its most important rows), which
    leaves ``left_out`` rows out; a note saying so and where the full section is follows it.
    """

    title: str
    body: str
    priority: int
    short: str = ""
    left_out: int = 0


def join(sections: Sequence[Section]) -> str:
    """The sections' bodies separated by blank lines."""
    return _join([s.body for s in sections])


def _join(bodies: Sequence[str]) -> str:
    return "\n\n".join(b.strip("\n") for b in bodies if b.strip()) + "\n"


def dropped_note(titles: Sequence[str], where: str) -> str:
    """The note that replaces dropped sections."""
    return f"> [!NOTE]\n> Dropped to fit the size limit: {', '.join(titles)} (see {where})."


def shortened(section: Section, where: str) -> str:
    """``section``'s short body and a note on the rows it leaves out."""
    rows = "row" if section.left_out == 1 else "rows"
    note = f"> [!NOTE]\n> {section.left_out} more {rows} left out to fit the size limit (see {where})."
    return f"{section.short.strip(chr(10))}\n\n{note}"


def assemble(sections: Sequence[Section], limit: int, where: str) -> tuple[str, list[str]]:
    """Join ``sections``, shortening then dropping the lowest-priority ones until the text fits ``limit``.

    Going up from the lowest priority (the later one among equals), a section with a short form is
    shortened to it, one without is dropped; if that is not enough, the shortened ones are dropped
    in the same order. Returns the markdown and the titles of the dropped sections, in report order.
    Lengths are counted, not re-joined, per step: linear in the report's size (plus sorting).
    """
    kept = [i for i, s in enumerate(sections) if s.body.strip()]
    bodies = {i: sections[i].body for i in kept}
    order = sorted(
        (i for i in kept if sections[i].priority < REQUIRED), key=lambda i: (sections[i].priority, -i)
    )
    size = _Size(total=sum(len(sections[i].body.strip("\n")) for i in kept), count=len(kept), where=where)
    gone: set[int] = set()
    for i in order:
        if size.length() <= limit:
            break
        if sections[i].short.strip():
            bodies[i] = shortened(sections[i], where)
            size.total += len(bodies[i]) - len(sections[i].body.strip("\n"))
        else:
            gone.add(i)
            size.drop(len(bodies[i].strip("\n")), sections[i].title)
    for i in order:
        if size.length() <= limit:
            break
        if i not in gone:
            gone.add(i)
            size.drop(len(bodies[i].strip("\n")), sections[i].title)
    text = _join([bodies[i] for i in kept if i not in gone])
    dropped = [sections[i].title for i in sorted(gone)]
    return (text + "\n" + dropped_note(dropped, where) + "\n" if gone else text), dropped


@dataclass(kw_only=True)
class _Size:
    """The running length of what :func:`assemble` would return: kept bodies, separators, the note."""

    total: int  # the kept bodies' lengths
    count: int  # how many are kept
    where: str
    gone: int = 0
    titles: int = 0  # the dropped titles' lengths

    def drop(self, body: int, title: str) -> None:
        self.total, self.count, self.gone, self.titles = (
            self.total - body,
            self.count - 1,
            self.gone + 1,
            self.titles + len(title),
        )

    def length(self) -> int:
        size = self.total + 2 * max(self.count - 1, 0) + 1
        if self.gone:
            size += len(dropped_note([], self.where)) + self.titles + 2 * (self.gone - 1) + 2
        return size
