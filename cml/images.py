"""Images a markdown report shows, found with markdown-it's tokens (not regexes), and where they sit.

An image is ``![alt](dest "title")``, ``![alt][ref]`` with ``[ref]: dest``, or ``<img src=...>`` in
an HTML block or inline HTML. Code spans, code blocks, HTML comments and escaped ``\\![]()`` are not
images. Each one found carries its exact place in the source, so a rewrite changes only those
characters and leaves the rest of the report byte-identical.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

#: What cml treats as an image file, by suffix (lower case): what forges render inline in markdown.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})


def is_image(name: str) -> bool:
    """True when the file ``name`` (a path or URL path) ends in one of :data:`IMAGE_SUFFIXES`, any case."""
    tail = name.rsplit("/", 1)[-1]
    dot = tail.rfind(".")
    return dot > 0 and tail[dot:].lower() in IMAGE_SUFFIXES


_EOL = re.compile(r"\r\n|\r|\n")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_WS = " \t\n\r\f\v"
_IMG_TAG = re.compile(r"<img", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Image:
    """One image in a report.

    ``src`` is the destination as CommonMark reads it (percent-encoded), ``path`` the local file it
    names (percent-decoded, without ``?query`` or ``#fragment``) or None, ``skip`` why it will not
    be uploaded (None when local or not worth a word, like a ``data:`` URI). ``span`` is the whole
    image and ``dest`` its destination (in the reference definition for ``![a][ref]``) in the
    source; either is None when it could not be placed.
    """

    src: str
    alt: str
    html: bool
    path: str | None
    skip: str | None
    span: tuple[int, int] | None
    dest: tuple[int, int] | None


def _classify(src: str) -> tuple[str | None, str | None]:
    """(local path, None), (None, reason it is not uploaded) or (None, None) for nothing to say."""
    scheme = _SCHEME.match(src)
    name = scheme[1].lower() if scheme else ""
    if not src or src.startswith("#") or name == "data":
        return None, None
    if name == "file" or len(name) == 1 or (src.startswith("/") and not src.startswith("//")):
        return None, "absolute path"
    if scheme or src.startswith("//"):
        return None, "remote URL"
    return unquote(src.split("#", 1)[0].split("?", 1)[0]), None


@functools.lru_cache(maxsize=8)
def find_images(markdown: str) -> tuple[Image, ...]:
    """Every image in ``markdown``, in order of appearance.

    Parsing is linear but slow (markdown-it is pure Python: seconds for megabytes), so a text
    without ``![`` or ``<img`` is not parsed, and the last few answers are remembered: finding,
    warning about and relinking the images of one report parse it once.
    """
    if "![" not in markdown and not _IMG_TAG.search(markdown):
        return ()
    doc = _Doc(markdown)
    env: dict[str, Any] = {}
    tokens = _parser().parse(markdown, env)
    found: list[Image] = []
    for i, token in enumerate(tokens):
        if token.type == "html_block" and token.map and _IMG_TAG.search(token.content):
            found += _html_images(token.content, doc.mapper(token.map[0], token.content, cell=False), 0)
        elif token.type == "inline" and token.map:
            # A table cell is found by searching its row: every cell moves the search on.
            cell = i > 0 and tokens[i - 1].type in ("td_open", "th_open")
            if cell or any(c.type in ("image", "html_inline") for c in token.children or ()):
                found += _inline_images(token, doc.mapper(token.map[0], token.content, cell=cell), doc, env)
    return tuple(found)


def _inline_images(
    token: Token, where: Callable[[int], int | None], doc: _Doc, env: dict[str, Any]
) -> list[Image]:
    """The images among an inline token's children (not those inside another image's alt text)."""
    found: list[Image] = []
    for child in token.children or []:
        span = child.meta.get("cml.span")
        if child.type == "html_inline" and span:
            found += _html_images(child.content, where, span[0])
        elif child.type == "image" and span:
            src = str(child.attrs.get("src", ""))
            if "label" in child.meta:
                ref = env.get("cml.refs", {}).get(child.meta["label"])
                dest = _place(doc.mapper(ref[0], ref[1], cell=False), ref[2]) if ref else None
            else:
                dest = _place(where, child.meta["cml.dest"]) if child.meta.get("cml.dest") else None
            found.append(_image(src, child.content, html=False, span=_place(where, span), dest=dest))
    return found


def _image(
    src: str, alt: str, *, html: bool, span: tuple[int, int] | None, dest: tuple[int, int] | None
) -> Image:
    path, skip = _classify(src.strip())
    return Image(src=src, alt=alt, html=html, path=path, skip=skip, span=span, dest=dest)


def _place(where: Callable[[int], int | None], span: tuple[int, int]) -> tuple[int, int] | None:
    start, end = where(span[0]), where(span[1])
    return (start, end) if start is not None and end is not None and start <= end else None


class _ImgTags(HTMLParser):
    """Collects ``<img>`` start tags: their ``src`` and ``alt``, raw text and line/column."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str, int, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in reversed(attrs)}  # the first of repeated attributes wins
        if tag == "img" and "src" in values:
            line, col = self.getpos()
            self.found.append(
                (values["src"], values.get("alt", ""), self.get_starttag_text() or "", line, col)
            )


def _html_images(text: str, where: Callable[[int], int | None], offset: int) -> list[Image]:
    """The ``<img src>`` in a piece of HTML that starts at ``offset`` of the text ``where`` maps."""
    parser = _ImgTags()
    parser.feed(text)
    parser.close()
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found = []
    for src, alt, raw, line, col in parser.found:
        tag = offset + starts[line - 1] + col
        value = next(((s, e) for name, s, e in _attributes(raw) if name == "src"), None)
        ok = value is not None and unescape(raw[value[0] : value[1]]) == src
        dest = _place(where, (tag + value[0], tag + value[1])) if ok and value else None
        found.append(_image(src, alt, html=True, span=_place(where, (tag, tag + len(raw))), dest=dest))
    return found


def _attributes(tag: str) -> Iterator[tuple[str, int, int]]:
    """(name, start, end) of each attribute value in a start tag's text, as HTML's tokenizer splits it."""
    i, n = 1, len(tag)
    while i < n and not tag[i].isspace() and tag[i] not in "/>":
        i += 1
    while i < n:
        while i < n and (tag[i].isspace() or tag[i] == "/"):
            i += 1
        if i >= n or tag[i] == ">":
            return
        j = i + 1
        while j < n and not tag[j].isspace() and tag[j] not in "/>=":
            j += 1
        name, i = tag[i:j].lower(), j
        while i < n and tag[i].isspace():
            i += 1
        if i < n and tag[i] == "=":
            i += 1
            while i < n and tag[i].isspace():
                i += 1
            if i < n and tag[i] in "\"'":
                end = tag.find(tag[i], i + 1)
                end = n if end < 0 else end
                yield name, i + 1, end
                i = end + 1
            else:
                j = i
                while j < n and not tag[j].isspace() and tag[j] != ">":
                    j += 1
                yield name, i, j
                i = j


class _Doc:
    """The report's lines, to map offsets in markdown-it's derived texts back to the source."""

    def __init__(self, markdown: str) -> None:
        self.text = markdown
        self.starts = [0] + [m.end() for m in _EOL.finditer(markdown)]
        self.cursor: dict[int, int] = {}

    def line(self, i: int) -> str:
        end = self.starts[i + 1] if i + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[i] : end].rstrip("\r\n")

    def locate(self, i: int, derived: str, *, cell: bool) -> tuple[int, int, bool] | None:
        """Where line ``i`` holds ``derived`` (one line of a derived text): (offset, lead, pipes escaped).

        markdown-it drops a line's indentation and block markers (``>``, list markers) and trims the
        first and last line; a table cell is the text between pipes, with ``\\|`` read as ``|``.
        """
        stripped = derived.strip(_WS)
        if not stripped or i >= len(self.starts):
            return None
        lead, line = len(derived) - len(derived.lstrip(_WS)), self.line(i)
        tail = line.rstrip(_WS)
        if not cell and tail.endswith(stripped):
            return self.starts[i] + len(tail) - len(stripped), lead, False
        for escaped, text in ((False, stripped), (True, stripped.replace("|", "\\|"))):
            at = line.find(text, self.cursor.get(i, 0))
            if at >= 0:
                self.cursor[i] = at + len(text)
                return self.starts[i] + at, lead, escaped
        return None

    def mapper(self, first: int, derived: str, *, cell: bool) -> Callable[[int], int | None]:
        """A function from an offset in ``derived`` (markdown-it's text of lines from ``first``) to the source."""
        lines = derived.split("\n")
        places = [self.locate(first + k, d, cell=cell) for k, d in enumerate(lines)]
        starts = [0]
        for d in lines:
            starts.append(starts[-1] + len(d) + 1)

        def where(offset: int) -> int | None:
            k = bisect.bisect_right(starts, offset) - 1
            place, col = places[k], offset - starts[k]
            if place is None:
                return None
            at, lead, escaped = place
            col -= lead
            if col < 0:
                return None
            return at + col + (lines[k][lead : lead + col].count("|") if escaped else 0)

        return where


@functools.cache
def _parser() -> MarkdownIt:
    """markdown-it as GitHub reads reports (CommonMark, tables), noting where images and tags sit."""
    from markdown_it import MarkdownIt
    from markdown_it.rules_block.reference import reference
    from markdown_it.rules_inline.html_inline import html_inline
    from markdown_it.rules_inline.image import image

    class Parser(MarkdownIt):
        def validateLink(self, url: str) -> bool:
            return True  # see file: and javascript: images too, to say they are not uploaded

    md = Parser("commonmark", {"store_labels": True}).enable(["table", "strikethrough"])
    md.inline.ruler.at("image", _spanned(image, dest=True))
    md.inline.ruler.at("html_inline", _spanned(html_inline, dest=False))
    md.block.ruler.at("reference", _noting_references(reference))
    return md


def _spanned(rule: Callable[[Any, bool], bool], *, dest: bool) -> Callable[[Any, bool], bool]:
    """``rule`` that also notes the token's span (and link destination) in ``state.src``."""

    def wrapped(state: Any, silent: bool) -> bool:
        start = state.pos
        if not rule(state, silent):
            return False
        if not silent:
            token = state.tokens[-1]
            token.meta["cml.span"] = (start, state.pos)
            if dest and "label" not in token.meta:
                token.meta["cml.dest"] = _inline_dest(state, start)
        return True

    return wrapped


def _inline_dest(state: Any, start: int) -> tuple[int, int] | None:
    """Where the destination of the image ``![...](dest ...)`` at ``start`` lies in ``state.src``."""
    src, end = state.src, state.pos
    pos = state.md.helpers.parseLinkLabel(state, start + 1, False) + 2
    while pos < end and src[pos] in " \t\n":
        pos += 1
    found = state.md.helpers.parseLinkDestination(src, pos, end)
    return (pos, found.pos) if found.ok else None


def _noting_references(rule: Callable[[Any, int, int, bool], bool]) -> Callable[[Any, int, int, bool], bool]:
    """The reference rule, also noting where each first definition's destination lies."""

    def wrapped(state: Any, start: int, end: int, silent: bool) -> bool:
        first = state.bMarks[start] + state.tShift[start]
        if silent or first >= len(state.src) or state.src[first] != "[":
            return rule(state, start, end, silent)
        known = set(state.env.get("references", ()))
        if not rule(state, start, end, silent):
            return False
        text = "".join(
            state.src[state.bMarks[n] + state.tShift[n] : state.eMarks[n] + 1]
            for n in range(start, state.line)
        )
        for label in set(state.env.get("references", ())) - known:
            dest = _reference_dest(state, text)
            if dest:
                state.env.setdefault("cml.refs", {})[label] = (start, text, dest)
        return True

    return wrapped


def _reference_dest(state: Any, text: str) -> tuple[int, int] | None:
    """Where the destination of the definition ``[label]: dest`` lies in ``text``."""
    pos = 1
    while pos < len(text) and text[pos] != "]":
        pos += 2 if text[pos] == "\\" else 1
    pos += 2
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    found = state.md.helpers.parseLinkDestination(text, pos, len(text))
    return (pos, found.pos) if found.ok else None
