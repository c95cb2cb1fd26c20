"""Following GitHub's ``Link: rel="next"`` pages without being led astray.

A next link is followed only when it stays on the API's own scheme, host, port and path (the token
goes wherever the requester goes; PyGithub would fail an assertion for another host, or send the
token to any host under github.com). A page of nothing but items already seen, or pages without end
stop with one ForgeError; a link back to a page already read is refused by the transport under both
forges (:mod:`cml.forges.transport`). ``Link`` is parsed with ``requests``' parser.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from cml.errors import ForgeError
from cml.forges.github_http import Api

MAX_PAGES = 1000  # 100,000 comments at 100 a page: more is a server leading us on


def items(api: Api, path: str, *, what: str, need: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """Every item of the listing at ``path`` (``GET``, then each ``rel="next"`` URL).

    Raises ForgeError for an answer that is not a list, a next link that leaves the API, a page of
    items already seen, or more than :data:`MAX_PAGES` pages.
    """
    url, query = path, dict(params)
    seen_ids: set[str] = set()
    for _ in range(MAX_PAGES):
        answer = api.call("GET", url, what=what, need=need, params=query or None)
        if not isinstance(answer.data, list):
            raise ForgeError(f"{what}: GitHub answered {type(answer.data).__name__}, not a list")
        ids = {str(raw.get("id")) for raw in answer.data if isinstance(raw, dict)}
        if answer.data and ids <= seen_ids:
            raise _loop(what, url)
        seen_ids |= ids
        yield from answer.data
        after = next_link(answer.headers, api.ctx.api_url, what=what)
        if after is None:
            return
        url, query = after, {}
    raise ForgeError(f"{what}: GitHub kept sending next pages ({MAX_PAGES} read); stopped")


def next_link(headers: Mapping[str, Any], api_url: str, *, what: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, if any, made absolute.

    Raises ForgeError when it leaves the API: another scheme, host or port, or a path outside
    ``api_url``'s (the token must never go there; PyGithub would send it or fail an assertion).
    """
    from requests.utils import parse_header_links

    value = next((str(v) for k, v in headers.items() if str(k).lower() == "link"), "")
    link = next((x["url"] for x in parse_header_links(value) if "next" in x.get("rel", "").split()), None)
    if link is None:
        return None
    url = urljoin(api_url.rstrip("/") + "/", link)
    if not _within(url, api_url):
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"[:120]  # no user info
        raise ForgeError(
            f"{what}: GitHub's next-page link leads outside {api_url} (to {where}); not followed"
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
