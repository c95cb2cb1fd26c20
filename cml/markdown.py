"""Pure markdown helpers: find and relink local images, fit a report into a size budget."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from cml.images import Image, find_images

_LINK_NEEDS_BRACKETS = re.compile(r"[\s<>()]")
_HTML_NEEDS_QUOTES = re.compile(r"[\s\"'=<>`]")


def classify_images(markdown: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The local image files ``markdown`` shows (relative paths, in order, without repeats), and
    each other image that will not be uploaded with the reason (``absolute path``, ``remote URL``).

    ``data:`` URIs are neither. Images in code, HTML comments or escaped are not images.
    """
    local: list[str] = []
    skipped: list[tuple[str, str]] = []
    for image in find_images(markdown):
        if image.path is not None and image.path not in local:
            local.append(image.path)
        elif image.skip is not None and (image.src, image.skip) not in skipped:
            skipped.append((image.src, image.skip))
    return local, skipped


def local_images(markdown: str) -> list[str]:
    """Every local image file ``markdown`` shows (``![](x.png)``, ``![][ref]``, ``<img src=x.png>``)."""
    return classify_images(markdown)[0]


def image_warnings(markdown: str) -> list[str]:
    """One warning line per image that will not be uploaded, saying why."""
    return [f"cml: warning: image {src} is not uploaded ({why})" for src, why in classify_images(markdown)[1]]


def relink_images(markdown: str, links: Mapping[str, str]) -> str:
    """Point each local image whose file ``links`` maps at its new link; nothing else changes.

    A reference-style image is relinked in its definition.
    """
    edits: dict[tuple[int, int], str] = {}
    for image in find_images(markdown):
        new = links.get(image.path) if image.path is not None else None
        if new is not None and image.dest is not None:
            edits[image.dest] = _html_link(markdown, image.dest, new) if image.html else _md_link(new)
    return _rewrite(markdown, edits)


def replace_images(markdown: str, replace: Callable[[Image], str | None]) -> str:
    """Replace each whole image for which ``replace`` gives a text; nothing else changes."""
    edits: dict[tuple[int, int], str] = {}
    for image in find_images(markdown):
        new = replace(image) if image.span is not None else None
        if new is not None and image.span is not None:
            edits[image.span] = new
    return _rewrite(markdown, edits)


def _md_link(link: str) -> str:
    return f"<{link}>" if _LINK_NEEDS_BRACKETS.search(link) else link


def _html_link(markdown: str, dest: tuple[int, int], link: str) -> str:
    start, end = dest
    quoted = start > 0 and markdown[start - 1] in "\"'" and markdown[end : end + 1] == markdown[start - 1]
    if quoted:
        return html.escape(link, quote=True)
    return f'"{html.escape(link, quote=True)}"' if _HTML_NEEDS_QUOTES.search(link) else html.escape(link)


def _rewrite(markdown: str, edits: Mapping[tuple[int, int], str]) -> str:
    """``markdown`` with each (start, end) span replaced; overlapping spans after the first are left."""
    out, pos = [], 0
    for (start, end), text in sorted(edits.items()):
        if start >= pos:
            out += [markdown[pos:start], text]
            pos = end
    return "".join([*out, markdown[pos:]])


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)*")  # a line and the blank lines after it
_NEWLINES = re.compile(r"[\r\n]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t\r\n]|$)")
_DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
_TAG_START = re.compile(r"</?[A-Za-z!]")
_LONGEST_TAG = 4096  # look no further back for an unclosed tag: a lone "<" in text must not cost much
_ZERO_WIDTH_JOINERS = frozenset("\u200c\u200d\ufe0e\ufe0f")


@dataclass(frozen=True, kw_only=True)
class _Open:
    """What is open at a point of a report: a code fence (its marker) and ``<details>`` depth."""

    fence: str | None = None
    details: int = 0

    def after(self, line: str) -> _Open:
        """The state after ``line`` (one line, with or without its line ending)."""
        m = _FENCE.match(line)
        if self.fence is not None:
            rest = line[m.end() :] if m else ""
            closes = m is not None and m[1][0] == self.fence[0] and len(m[1]) >= len(self.fence)
            return _Open(details=self.details) if closes and not rest.strip() else self
        if m and not (m[1][0] == "`" and "`" in line[m.end() :]):
            return _Open(fence=m[1], details=self.details)
        if "<" not in line:
            return self
        delta = len(_DETAILS_OPEN.findall(line)) - len(_DETAILS_CLOSE.findall(line))
        return self if delta == 0 else _Open(details=max(self.details + delta, 0))

    def closers(self) -> str:
        """What must follow so no code fence or ``<details>`` is left open."""
        return "\n".join([*([self.fence] if self.fence else []), *["</details>"] * self.details])

    def closers_len(self) -> int:
        """``len(self.closers())`` without building it."""
        parts = (1 if self.fence else 0) + self.details
        return len(self.fence or "") + 10 * self.details + max(parts - 1, 0)


class _Cut(NamedTuple):
    """A line boundary where the report may be cut."""

    at: int  # offset of the first dropped character
    head: int  # length of the kept text once trailing newlines are stripped
    open: _Open  # what the kept text leaves open
    section: bool  # whether a section starts here


def _starts_section(line: str, open_: _Open, after_heading: bool) -> bool:
    """A heading, or a ``<details>`` that is not right under a heading (keep the two together)."""
    first = line.lstrip(" ")[:1]
    if open_.fence is not None or first not in ("#", "<"):
        return False
    if first == "#":
        return bool(_HEADING.match(line))
    return not after_heading and line.lstrip().lower().startswith("<details")


def _cuts(markdown: str, limit: int) -> tuple[list[_Cut], int, _Open]:
    """Line boundaries a cut at ``limit`` could keep, and the start and state of the line holding ``limit``.

    One pass over the lines before ``limit``: the work is linear in ``limit``, whatever the text's
    length. A run of blank lines counts as one cut, at its end; blank lines right after ``limit``
    cost nothing to keep: the last of them is one more cut.
    """
    cuts: list[_Cut] = []
    state, head, after_heading, last = _Open(), 0, False, (0, _Open())
    for m in _LINE.finditer(markdown):
        start, line = m.start(), m[0]
        if start > limit or not line:
            break
        if start:
            cuts.append(_Cut(start, head, state, _starts_section(line, state, after_heading)))
        if start < limit:
            last = (start, state)
        if line.strip("\r\n"):
            after_heading = state.fence is None and bool(_HEADING.match(line))
            head = start + len(line.rstrip("\r\n"))
        state = state.after(line)
    at = min(_NEWLINES.match(markdown, limit).end(), len(markdown) - 1)  # type: ignore[union-attr]
    if at > limit and (not cuts or at > cuts[-1].at):
        cuts.append(_Cut(at, head, state, False))
    return cuts, *last


def _joined(head: str, open_: _Open, tail: str) -> str:
    return "\n".join(p for p in (head, open_.closers()) if p) + "\n\n" + tail


def _joined_len(head: int, open_: _Open, tail: int) -> int:
    closers = open_.closers_len()
    return head + closers + (1 if head and closers else 0) + 2 + tail


def _safe_char_cut(markdown: str, start: int, cut: int) -> int:
    """``cut`` moved back so it splits no HTML tag or entity, combining sequence or surrogate pair."""
    lt = markdown.rfind("<", max(start, cut - _LONGEST_TAG), cut)
    if lt > start and _TAG_START.match(markdown, lt) and markdown.find(">", lt, cut) < 0:
        cut = lt
    amp = markdown.rfind("&", max(start, cut - 32), cut)
    entity = markdown[amp + 1 : cut].lstrip("#")
    if amp > start and (not entity or (entity.isalnum() and entity.isascii())):
        cut = amp
    while cut > start + 1 and (
        unicodedata.combining(markdown[cut])
        or markdown[cut] in _ZERO_WIDTH_JOINERS
        or markdown[cut - 1] in _ZERO_WIDTH_JOINERS
        or "\ud800" <= markdown[cut - 1] <= "\udbff"
    ):
        cut -= 1
    return cut


def _char_cut(markdown: str, limit: int, note: Callable[[int], str], start: int, open_: _Open) -> str | None:
    """Cut inside the line that starts at ``start`` (with ``open_`` before it), or None if nothing fits."""
    line = _LINE.match(markdown, start)[0]  # type: ignore[index]
    m = _FENCE.match(line)
    fence = max(len(open_.fence or ""), len(m[1]) if m else 0)
    upper = fence + 11 * (open_.details + len(_DETAILS_OPEN.findall(markdown, start, limit))) + 1
    room = limit - upper - 2
    cut = room
    for _ in range(3):  # the note's length depends (a little) on how much is dropped
        cut = min(room - len(note(len(markdown) - max(cut, start))), start + len(line.rstrip("\r\n")))
    cut = _safe_char_cut(markdown, start, cut) if cut > start else cut
    if cut <= start:
        return None
    text = _joined(markdown[:cut], open_.after(markdown[start:cut]), note(len(markdown) - cut))
    return text if len(text) <= limit else None


def fit(markdown: str, limit: int, note: Callable[[int], str]) -> tuple[str, bool]:
    """Cut ``markdown`` to at most ``limit`` characters at a section boundary.

    Open code fences and ``<details>`` are closed and ``note(dropped_chars)`` is appended. Returns
    the text and whether it was cut. Falls back to a line boundary if the first section alone is
    too long, and to a character boundary (not inside an HTML tag, entity or combining sequence)
    inside the line at ``limit`` if no line fits or the best line cut would keep less than half of
    ``limit``. Linear in ``limit``: only the lines a cut can keep are scanned.
    """
    if len(markdown) <= limit:
        return markdown, False
    cuts, start, open_ = _cuts(markdown, limit)
    best = _best(markdown, limit, note, [c for c in cuts if c.section]) or _best(markdown, limit, note, cuts)
    if best is not None and (best.section or best.head >= limit // 2):
        return _joined(markdown[: best.at].rstrip("\r\n"), best.open, note(len(markdown) - best.at)), True
    text = _char_cut(markdown, limit, note, start, open_)
    if text is not None and (best is None or len(text) > best.head + len(note(len(markdown) - best.at))):
        return text, True
    if best is not None:
        return _joined(markdown[: best.at].rstrip("\r\n"), best.open, note(len(markdown) - best.at)), True
    return note(len(markdown))[:limit], True


def _best(markdown: str, limit: int, note: Callable[[int], str], cuts: list[_Cut]) -> _Cut | None:
    """The last of ``cuts`` whose text (kept part, closers, note) fits ``limit``."""
    for c in reversed(cuts):
        if _joined_len(c.head, c.open, len(note(len(markdown) - c.at))) <= limit:
            return c
    return None
