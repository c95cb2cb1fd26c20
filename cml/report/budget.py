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

    Returns the markdown and the titles of the dropped sections, in report order.
    """
    kept = [s for s in sections if s.body.strip()]
    dropped: list[Section] = []

    def text() -> str:
        if not dropped:
            return join(kept)
        titles = [s.title for s in sections if s in dropped]
        return join(kept) + "\n" + dropped_note(titles, where) + "\n"

    while len(text()) > limit:
        candidates = [s for s in kept if s.priority < REQUIRED]
        if not candidates:
            break
        victim = min(reversed(candidates), key=lambda s: s.priority)
        kept.remove(victim)
        dropped.append(victim)
    return text(), [s.title for s in sections if s in dropped]
