"""Following GitHub's ``Link`` pages (``rel="next"`` forwards, ``rel="last"``/``"prev"`` backwards)
without being led astray.

A next link is followed only when it stays on the API's own scheme, host, port and path (the token
goes wherever the requester goes; PyGithub would fail an assertion for another host, or send the
token to any host under github.com). A page of nothing but items already seen, or pages without end
stop with one ForgeError; a link back to a page already read is refused by the transport under both
forges (:mod:`cml.forges.transport`). ``Link`` is parsed with ``requests``' parser (PyGithub hands
over the headers, not the response whose ``links`` the transport and python-gitlab read).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from cml.errors import ForgeError
from cml.forges.errors import header
from cml.forges.github_http import Answer, Api

MAX_PAGES = 1000  # 100,000 comments at 100 a page: more is a server leading us on


def items(api: Api, path: str, *, what: str, need: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """Every item of the listing at ``path`` (``GET``, then each ``rel="next"`` URL).

    Raises ForgeError for an answer that is not a list, a next link that leaves the API, a page of
    items already seen, or more than :data:`MAX_PAGES` pages.
    """
    first = api.call("GET", path, what=what, need=need, params=dict(params) or None)
    yield from _forward(api, first, path, what=what, need=need)


def _forward(api: Api, answer: Answer, url: str, *, what: str, need: str) -> Iterator[Any]:
    """The items of ``answer`` (the page at ``url``) and of every ``rel="next"`` page after it."""
    seen_ids: set[str] = set()
    for _ in range(MAX_PAGES):
        page = _page(answer.data, what)
        ids = {_key(raw) for raw in page}
        if page and ids <= seen_ids:
            raise _loop(what, url)
        seen_ids |= ids
        yield from page
        after = link(answer.headers, "next", api.ctx.api_url, what=what)
        if after is None:
            return
        url = after
        answer = api.call("GET", url, what=what, need=need)
    raise ForgeError(f"{what}: GitHub kept sending next pages ({MAX_PAGES} read); stopped")


def newest_first(api: Api, path: str, *, what: str, need: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """The items of the listing at ``path``, newest first, reading pages only as far as consumed.

    GitHub lists comments oldest first. The first page's ``rel="last"`` link names the last page
    (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api); from
    there each ``rel="prev"`` link is followed backwards, each page yielded in reverse. The first
    page is not read twice: when a page's ``prev`` is its ``first``, the copy in hand is used. So a
    consumer that stops at the newest items costs two requests however many pages there are.
    A listing without ``last`` is read forwards in full; a "last" page that announces a next one
    (comments landed meanwhile) is read forwards from there before going back.
    Raises ForgeError like :func:`items`, and for a ``prev`` link back to a page already read.
    """
    first = api.call("GET", path, what=what, need=need, params=dict(params) or None)
    head = _page(first.data, what)
    forward = link(first.headers, "next", api.ctx.api_url, what=what)  # checked even when unused
    last = link(first.headers, "last", api.ctx.api_url, what=what)
    if last is None:
        yield from reversed(list(_forward(api, first, path, what=what, need=need)) if forward else head)
        return
    yielded: set[str] = set()
    url: str | None = last
    read: set[str] = set()
    for _ in range(MAX_PAGES):
        if url is None:
            break
        read.add(url)
        answer = api.call("GET", url, what=what, need=need)
        if url == last and link(answer.headers, "next", api.ctx.api_url, what=what) is not None:
            page = list(_forward(api, answer, url, what=what, need=need))
        else:
            page = _page(answer.data, what)
        if page and {_key(raw) for raw in page} <= yielded:
            raise _loop(what, url)
        yield from _unseen(reversed(page), yielded)
        url = link(answer.headers, "prev", api.ctx.api_url, what=what)
        if url is not None and url == link(answer.headers, "first", api.ctx.api_url, what=what):
            break  # the previous page is the first, already in hand
        if url in read:
            raise ForgeError(
                f"{what}: GitHub's previous-page link points back to a page already read; stopped"
            )
    else:
        raise ForgeError(f"{what}: GitHub kept sending previous pages ({MAX_PAGES} read); stopped")
    yield from _unseen(reversed(head), yielded)


def _page(data: Any, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise ForgeError(f"{what}: GitHub answered {type(data).__name__}, not a list")
    return data


def _key(raw: Any) -> str:
    return str(raw.get("id")) if isinstance(raw, dict) else repr(raw)


def _unseen(page: Iterator[Any], yielded: set[str]) -> Iterator[Any]:
    """Items not yielded before (pages shift when comments land between reads), noting each."""
    for raw in page:
        key = _key(raw)
        if key not in yielded:
            yielded.add(key)
            yield raw


def next_link(headers: Mapping[str, Any], api_url: str, *, what: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, if any, made absolute (see :func:`link`)."""
    return link(headers, "next", api_url, what=what)


def link(headers: Mapping[str, Any], rel: str, api_url: str, *, what: str) -> str | None:
    """The ``rel`` URL (``next``, ``prev``, ``first``, ``last``) of a ``Link`` header, if any, made absolute.

    Raises ForgeError when it leaves the API: another scheme, host or port, or a path outside
    ``api_url``'s (the token must never go there; PyGithub would send it or fail an assertion).
    """
    from requests.utils import parse_header_links

    value = header(headers, "Link") or ""
    found = next((x["url"] for x in parse_header_links(value) if rel in x.get("rel", "").split()), None)
    if found is None:
        return None
    url = urljoin(api_url.rstrip("/") + "/", found)
    if not _within(url, api_url):
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"[:120]  # no user info
        noun = {"prev": "previous", "next": "next", "first": "first", "last": "last"}.get(rel, rel)
        raise ForgeError(
            f"{what}: GitHub's {noun}-page link leads outside {api_url} (to {where}); not followed"
        )
    return url


def _within(url: str, api_url: str) -> bool:
    """True when ``url`` has ``api_url``'s scheme, host and port, no user info, and a path under it."""
    try:
        got, api = urlsplit(url), urlsplit(api_url)
        ports = {"http": 80, "https": 443}
        same = (
            got.scheme == api.scheme
            and got.hostname == api.hostname
            and (got.port or ports.get(got.scheme)) == (api.port or ports.get(api.scheme))
        )
    except ValueError:  # an unparsable port
        return False
    prefix = api.path.rstrip("/") + "/"
    return same and got.username is None and got.password is None and got.path.startswith(prefix)


def _loop(what: str, url: str) -> ForgeError:
    path = urlsplit(url).path[:80]
    return ForgeError(f"{what}: GitHub's next page holds only comments already read ({path}); stopped")
