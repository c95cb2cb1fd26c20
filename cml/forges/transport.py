"""The HTTP transport under both forge clients: one ``requests`` adapter with four guarantees.

PyGithub's and python-gitlab's ``requests`` sessions send every request through :class:`Guard`
(:func:`guard` mounts it on a session, :func:`guard_pygithub` on each connection PyGithub opens):

1. **The token stays on the API's origin** (scheme, host and port). A request to any other origin
   is refused before a byte is sent, whatever produced its URL (a redirect, a pagination link, a
   URL inside an answer). A redirect is judged before the client sees it: one to another origin (an
   https→http downgrade counts) is :class:`Refused`, naming both hosts, never their paths' queries.
   Same-origin redirects are followed only for reads (GET/HEAD), only with the statuses the client
   above follows itself (PyGithub: 301, which GitHub sends for renamed repositories; python-gitlab
   through requests: 301/302/303/307/308), at most :data:`MAX_HOPS` in a row and never back to a
   URL already visited (PyGithub follows the Location's path alone, so that is what it visits).
   A redirect answering a write is refused: a 301/302 would turn it into a GET and a 307/308 would
   send the body again; a write lands where it was aimed or nowhere.
2. **Every request has an overall deadline** (:data:`DEADLINE` seconds from sending it to the last
   byte of the answer), not only a per-read timeout: a watchdog shuts the socket of a server that
   drips its headers or body. The request then fails with :class:`Expired` (a ``requests`` read
   timeout: the forges retry it, as "maybe written" when it was a write) or :class:`ExpiredUnsent`
   (a connect timeout: it never went out). Answers over :data:`MAX_BODY` bytes are refused.
3. **A 2xx answer that is not JSON** (an HTML page from a corporate proxy or a captive portal) is
   :class:`Refused`, naming the API URL. Binary types (images, ``application/octet-stream``) pass:
   GitLab serves uploads that way. Errors (4xx/5xx) pass to the client: an HTML 502 stays a 502.
4. **Pagination cannot loop**: a ``Link: rel="next"`` that points back to a page already read in the
   same listing is :class:`Refused`.

The adapter keeps its redirect and listing state per thread.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from cml.errors import ForgeError
from cml.forges.errors import is_write

#: Seconds one request may take from sending to the last byte of its answer (tests lower it).
DEADLINE = 60.0
#: Same-origin redirects followed in a row before the chain counts as a loop.
MAX_HOPS = 5
#: The largest answer read, in bytes.
MAX_BODY = 64 * 2**20
_DEFAULT_PORTS = {"http": 80, "https": 443}
_local = threading.local()


@dataclass(frozen=True, kw_only=True)
class Rules:
    """What one forge's transport allows: its API URL, the redirects its client follows."""

    forge: str  # "GitHub" / "GitLab", for messages
    api_url: str
    setting: str  # the variables that set api_url, for hints
    follows: frozenset[int] = field(default_factory=lambda: frozenset({301, 302, 303, 307, 308}))
    drops_query: bool = False  # the client follows a redirect to its path alone (PyGithub)
    deadline: float | None = None  # None: DEADLINE as it is when a request starts


class Refused(ForgeError):
    """An answer cml will not act on: a redirect or URL off the API host, a page that is not the API, a loop."""


class Expired(requests.exceptions.ReadTimeout):
    """The deadline passed after the request went out (a write may have landed)."""


class ExpiredUnsent(requests.exceptions.ConnectTimeout):
    """The deadline passed before the request went out."""


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, the default port filled in (-1 when the port is not a port)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1": not a URL, no origin of ours
        return "", "", -1
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # "host:99999", "host:x": no origin of ours
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def where(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: no credentials, path or query (they may hold secrets)."""
    scheme, host, port = origin(url)
    shown = f"[{host}]" if ":" in host else host
    tail = "" if port == _DEFAULT_PORTS.get(scheme) else ":?" if port < 0 else f":{port}"
    return f"{scheme}://{shown}{tail}"


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _visit(url: str) -> str:
    """Path and query of ``url``: what a redirect chain has visited."""
    parts = urlsplit(url)
    return f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"


def _page_key(url: str) -> tuple[str, frozenset[tuple[str, str]]]:
    parts = urlsplit(url)
    return parts.path, frozenset(parse_qsl(parts.query, keep_blank_values=True))


class _Cut(Exception):
    """Raised inside urllib3 when the deadline passed before a step of the request."""


class _Watch:
    """Shuts the socket of the request in flight once ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.conn: Any = None
        self.sent = False
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        _local.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.watch = None

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self.conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                # socket.socket's own shutdown, also on an SSLSocket: it cuts the connection
                # without tearing down the TLS object the request's thread is reading from.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def expired(self, request: requests.PreparedRequest) -> requests.exceptions.Timeout:
        """The exception for a request this watch cut."""
        kind = Expired if self.sent else ExpiredUnsent
        return kind(f"no complete answer within {self.seconds:g} s", request=request)


def _step(conn: Any, *, sending: bool = False) -> None:
    """Called by the connections at each step: register with the watch, stop when it fired."""
    watch: _Watch | None = getattr(_local, "watch", None)
    if watch is None:
        return
    watch.conn = conn
    if watch.fired:
        raise _Cut
    if sending:
        watch.sent = True


class _Watched:
    """The deadline's checkpoints, mixed into urllib3's connection classes (both schemes)."""

    def connect(self) -> None:
        _step(self)
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _step(self, sending=True)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        _step(self)
        return super().getresponse()  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class Timed(HTTPAdapter):
    """A plain ``requests`` adapter whose connections a :func:`watch` can cut: no origin rule, no token.

    For hosts cml sends no token to (runner package downloads, :mod:`cml.runner.package`): hold
    ``with watch(seconds) as w:`` around the request and the reading of its body; ``w.fired`` tells a
    connection the deadline cut from other faults.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """requests' pool manager, with connections the deadline watch can cut."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """requests' proxy manager (HTTPS_PROXY), likewise; SOCKS keeps its own pools."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme.get("http") is HTTPConnectionPool:
            manager.pool_classes_by_scheme = _POOLS
        return manager


def watch(seconds: float) -> _Watch:
    """A context manager that shuts the connection of this thread's request through a :class:`Timed`
    adapter once ``seconds`` have passed (its ``fired`` says whether it did)."""
    return _Watch(seconds)


class Guard(Timed):
    """A ``requests`` adapter holding a forge's traffic to the rules in the module docstring."""

    def __init__(self, rules: Rules) -> None:
        super().__init__()
        self.rules = rules
        self.api = origin(rules.api_url)
        self._state = threading.local()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Send ``request`` if it is for the API's origin, read the answer under the deadline, judge it.

        Raises Refused (see the module docstring), Expired / ExpiredUnsent, or what requests raises.
        """
        url = request.url or ""
        if origin(url) != self.api:
            self._reset()
            raise Refused(
                f"refused to send a request to {where(url)}: it is not {self.rules.forge}'s API host "
                f"{where(self.rules.api_url)}, the only one cml sends the token to",
                hint=f"check {self.rules.setting}",
            )
        seconds = self.rules.deadline if self.rules.deadline is not None else DEADLINE
        with _Watch(seconds) as watch:
            try:
                response = super().send(
                    request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
                )
                self._read(response)
            except Exception:
                self._reset()
                if watch.fired:
                    raise watch.expired(request) from None
                raise
        try:
            self._judge(request, response)
        except Refused:
            self._reset()
            response.close()
            raise
        return response

    def _reset(self) -> None:
        self._state.hops = []
        self._state.listing = None

    def _read(self, response: requests.Response) -> None:
        """Read the whole body now (under the watch), at most MAX_BODY bytes."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(2**16):
            size += len(chunk)
            if size > MAX_BODY:
                response.close()
                raise Refused(
                    f"{where(self.rules.api_url)} sent an answer over {MAX_BODY // 2**20} MiB; not read"
                )
            chunks.append(chunk)
        response._content = b"".join(chunks)

    def _judge(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        status = response.status_code
        if 300 <= status < 400 and status != 304:
            self._redirect(request, response)
            return
        self._state.hops = []
        if 200 <= status < 300:
            self._json(request, response)
            self._next(request, response)

    def _refuse(self, message: str) -> Refused:
        return Refused(message, hint=f"check {self.rules.setting}")

    def _redirect(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        """Let a same-origin redirect of a read through (the client follows it); refuse the rest."""
        url, method, status = request.url or "", request.method or "GET", response.status_code
        api, forge = where(self.rules.api_url), self.rules.forge
        said = f"{forge}'s API at {api} answered {method} {_path(url)} with {status}"
        location = response.headers.get("location")
        if not location:
            raise self._refuse(f"{said} and no Location: it did not answer like {forge}'s API")
        try:
            target = urljoin(url, location)
            _visit(target)
        except ValueError:
            raise self._refuse(f"{said} and a Location that is not a URL") from None
        if origin(target) != self.api:
            raise Refused(
                f"{said}, a redirect to another host ({where(target)}): not followed, "
                f"cml sends the token only to {api}",
                hint=f"if the API moved, set {self.rules.setting} to its new address",
            )
        if is_write(method):
            raise self._refuse(
                f"{said}, a redirect of a write: not followed, a write goes only where it was aimed"
            )
        if status not in self.rules.follows:
            raise self._refuse(f"{said}, a redirect cml does not follow")
        hops: list[str] = getattr(self._state, "hops", None) or [_visit(url)]
        step = _path(target) if self.rules.drops_query else _visit(target)
        if step in hops or len(hops) > MAX_HOPS:
            shown = " -> ".join(h.split("?")[0] for h in [*hops, step])  # queries may hold secrets
            raise self._refuse(f"{said}: the redirects loop ({shown})")
        self._state.hops = [*hops, step]

    def _json(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        """Refuse a 2xx whose body is text but not JSON (binary types pass: uploads, images)."""
        body = response.content
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        textual = not kind or kind.startswith("text/") or any(t in kind for t in ("json", "xml", "html"))
        if not body.strip() or not textual:
            return
        try:
            json.loads(body)
        except ValueError:
            url = request.url or ""
            raise Refused(
                f"{request.method} {where(url)}{_path(url)} did not answer like {self.rules.forge}'s API "
                f"({response.status_code} {kind or 'without a Content-Type'}, not JSON)",
                hint=f"check {self.rules.setting} and any proxy in between",
            ) from None

    def _next(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        """Refuse a ``rel="next"`` link back to a page this listing already read.

        A listing continues while each request asks for the page the previous answer announced;
        any other paginated answer starts a new one (unrelated requests in between do not).
        """
        url = request.url or ""
        if request.method != "GET":
            return
        link = (response.links.get("next") or {}).get("url")
        here = _page_key(url)
        listing: _Listing | None = getattr(self._state, "listing", None)
        continuing = listing is not None and listing.continued_by(here)
        if not link:
            if continuing:
                self._state.listing = None
            return
        if listing is None or not continuing:
            listing = _Listing(seen={here})
        try:
            nxt = _page_key(urljoin(url, link))
        except ValueError:
            raise self._refuse(
                f"{self.rules.forge}'s next-page link after {_path(url)} is not a URL"
            ) from None
        if nxt in listing.seen:
            raise self._refuse(
                f"{self.rules.forge}'s pagination loops: the next link after {_path(url)} "
                "points back to a page already read"
            )
        listing.seen.add(nxt)
        listing.expected = nxt
        self._state.listing = listing


@dataclass
class _Listing:
    """The pages one paginated listing has announced so far."""

    seen: set[tuple[str, frozenset[tuple[str, str]]]]
    expected: tuple[str, frozenset[tuple[str, str]]] | None = None

    def continued_by(self, page: tuple[str, frozenset[tuple[str, str]]]) -> bool:
        """True when ``page`` is the announced next page (clients may add query parameters)."""
        return self.expected is not None and page[0] == self.expected[0] and self.expected[1] <= page[1]


def guard(session: requests.Session, rules: Rules) -> requests.Session:
    """Mount a :class:`Guard` for ``rules`` on ``session`` for both schemes; return the session."""
    adapter = Guard(rules)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def guard_pygithub(requester: Any, rules: Rules) -> None:
    """Make every connection PyGithub's ``requester`` opens send through a :class:`Guard`.

    PyGithub builds a ``requests`` session per connection from its connection classes; the
    instance's own classes are replaced (nothing global), before its first request.
    """
    from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass

    def guarded(base: type[Any]) -> type[Any]:
        class Guarded(base):  # type: ignore[misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                guard(self.session, rules)

        return Guarded

    if getattr(requester, "_Requester__connection", None) is not None:
        raise RuntimeError("guard_pygithub must run before the requester's first request")
    http, https = guarded(HTTPRequestsConnectionClass), guarded(HTTPSRequestsConnectionClass)
    requester._Requester__httpConnectionClass = http
    requester._Requester__httpsConnectionClass = https
    requester._Requester__connectionClass = https if origin(rules.api_url)[0] == "https" else http
