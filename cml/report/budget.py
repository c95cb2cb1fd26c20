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
    """A titled block of markdown with a priority (higher is kept longer)."""

    title: str
    body: str
    priority: int


def join(sections: Sequence[Section]) -> str:
    """The sections' bodies separated by blank lines."""
    return "\n\n".join(s.body.strip("\n") for s in sections if s.body.strip()) + "\n"


def dropped_note(titles: Sequence[str], where: str) -> str:
    """The note that replaces dropped sections."""
    return f"> [!NOTE]\n> Dropped to fit the size limit: {', '.join(titles)} (see {where})."


def assemble(sections: Sequence[Section], limit: int, where: str) -> tuple[str, list[str]]:
    """Join ``sections``, dropping the lowest-priority ones until the text fits ``limit``.

    Returns the markdown and the titles of the dropped sections, in report order. Lengths are
    counted, not re-joined, per drop: linear in the report's size (plus sorting the sections).
    """
    kept = [i for i, s in enumerate(sections) if s.body.strip()]
    bodies = {i: len(sections[i].body.strip("\n")) for i in kept}
    order = sorted(
        (i for i in kept if sections[i].priority < REQUIRED), key=lambda i: (sections[i].priority, -i)
    )
    size = sum(bodies.values()) + 2 * max(len(kept) - 1, 0) + 1
    note = len(dropped_note([], where)) + 2  # the note and the newlines around it, without titles
    gone: set[int] = set()
    titles = 0
    for i in order:
        if size + (note + titles if gone else 0) <= limit:
            break
        gone.add(i)
        size -= bodies[i] + 2 if len(gone) < len(kept) else bodies[i]
        titles += len(sections[i].title) + (2 if len(gone) > 1 else 0)
    text = join([sections[i] for i in kept if i not in gone])
    dropped = [sections[i].title for i in sorted(gone)]
    return (text + "\n" + dropped_note(dropped, where) + "\n" if gone else text), dropped
