"""Pure markdown helpers: find and relink local images, fit a report into a size budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

_MD_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src><[^>]+>|[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_HTML_IMAGE = re.compile(r"(<img\b[^>]*?\bsrc\s*=\s*)([\"'])(?P<src>[^\"']+)\2", re.IGNORECASE)
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/|#)", re.IGNORECASE)


def _is_local(src: str) -> bool:
    return not _REMOTE.match(src)


def local_images(markdown: str) -> list[str]:
    """Every local image reference (``![](x.png)``, ``<img src="x.png">``), in order, without repeats."""
    found: list[str] = []
    for match in [*_MD_IMAGE.finditer(markdown), *_HTML_IMAGE.finditer(markdown)]:
        src = match["src"].strip("<>")
        if _is_local(src) and src not in found:
            found.append(src)
    return found


def relink_images(markdown: str, links: Mapping[str, str]) -> str:
    """Replace each local image source that ``links`` maps with its new link."""

    def md(match: re.Match[str]) -> str:
        src = match["src"].strip("<>")
        new = links.get(src)
        return f"![{match['alt']}]({new}{match['title'] or ''})" if new else match[0]

    def html(match: re.Match[str]) -> str:
        new = links.get(match["src"])
        return f"{match[1]}{match[2]}{new}{match[2]}" if new else match[0]

    return _HTML_IMAGE.sub(html, _MD_IMAGE.sub(md, markdown))


def resolve_images(markdown: str, base: Path) -> dict[str, Path]:
    """Map each local image source in ``markdown`` to its file, relative to ``base``."""
    return {src: (base / src).resolve() for src in local_images(markdown)}


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)


def _section_starts(lines: list[str]) -> list[int]:
    """Indexes of lines that start a section (headings outside code fences, ``<details>``)."""
    starts, fence = [], None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            fence = None if fence and m[1].startswith(fence) else (fence or m[1][:3])
            continue
        if fence is None and (_HEADING.match(line) or line.lstrip().lower().startswith("<details")):
            starts.append(i)
    return starts


def _closers(text: str) -> str:
    """What must follow ``text`` so no code fence or ``<details>`` is left open."""
    fence, close = None, []
    for line in text.splitlines():
        m = _FENCE.match(line)
        if m:
            fence = None if fence and m[1].startswith(fence) else (fence or m[1])
        elif fence is None:
            depth = len(_DETAILS_OPEN.findall(line)) - len(_DETAILS_CLOSE.findall(line))
            close.extend(["</details>"] * max(depth, 0))
            for _ in range(max(-depth, 0)):
                if close:
                    close.pop()
    tail = [fence] if fence else []
    return "\n".join([*tail, *close])


def fit(markdown: str, limit: int, note: Callable[[int], str]) -> tuple[str, bool]:
    """Cut ``markdown`` to at most ``limit`` characters at a section boundary.

    Open code fences and ``<details>`` are closed and ``note(dropped_chars)`` is appended. Returns
    the text and whether it was cut. Falls back to a line boundary if the first section alone is
    too long.
    """
    if len(markdown) <= limit:
        return markdown, False
    lines = markdown.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    sections = [offsets[i] for i in _section_starts(lines) if i > 0]
    lines_only = [offsets[i] for i in range(1, len(lines))]  # only if no whole section fits
    for cuts in (sections, lines_only):
        for cut in sorted(cuts, reverse=True):
            head = markdown[:cut].rstrip("\n")
            text = "\n".join(p for p in (head, _closers(head)) if p) + "\n\n" + note(len(markdown) - cut)
            if len(text) <= limit:
                return text, True
    text = note(len(markdown))
    return text[:limit], True
