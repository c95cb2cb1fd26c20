"""A fake-forge HTTP server: real HTTP on 127.0.0.1, a route table, a request log, fault injection.

The forge fakes (``tests/fakes/github.py``, ``tests/fakes/gitlab.py``) subclass :class:`FakeServer`
and register routes; tests assert on :attr:`FakeServer.requests` and schedule faults with
:attr:`FakeServer.faults`::

    fake.faults.add("status", method="POST", path=r"/comments$", status=502)
    fake.faults.add("reset_after", method="POST", times=2)     # stored, then the connection drops
    fake.faults.add("status", status=429, headers={"Retry-After": "3"})
    fake.faults.random(0.3, kinds=("status", "reset_after"), seed=7)

Hostile answers: ``redirect`` (``status`` 301/302/307/308 to ``location``, before the route runs),
``html`` (a proxy's or captive portal's HTML page with ``status``, before the route runs), ``drip``
(the route runs, then its answer goes out one byte every ``delay`` seconds, its ``phase`` being the
``"headers"`` or the ``"body"``) and ``headers`` (the route runs, ``headers`` replace its own, e.g. a
hostile ``Link``). :class:`Bystander` is a second host (127.0.0.2) that logs whatever reaches it.
A server serves plain HTTP unless ``tls`` holds a server context when it starts (see ``tests/fakes/tls.py``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

FaultKind = Literal["status", "reset_before", "reset_after", "slow", "redirect", "html", "drip", "headers"]
_HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Proxy login</body></html>"


@dataclass
class Request:
    """One request as the fake received it (``path`` without the server's prefix)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        return self.query.get(name, [default])[0]

    def text(self) -> str:
        """Everything the server received in this request, as text (to look for leaked tokens)."""
        headers = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.path}?{self.query}\n{headers}\n{self.body.decode('latin-1')}"


@dataclass
class Reply:
    """What a route returns: a status, a JSON-able body (or raw bytes) and headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """One scheduled fault; ``times`` counts down, ``None`` method/path match anything."""

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    location: str = ""  # redirect target: a full URL or a path on the same server
    phase: Literal["headers", "body"] = "body"  # what a drip sends slowly

    def matches(self, req: Request) -> bool:
        """True when this fault applies to ``req``."""
        return (self.method is None or self.method == req.method) and (
            self.path is None or re.search(self.path, req.path) is not None
        )


class Faults:
    """The fault schedule: explicit faults first, then the random rate if one is set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._rate = 0.0
        self._rng = random.Random(0)
        self._make: list[Callable[[Request], Fault]] = []
        self.fired: list[tuple[str, str, FaultKind]] = []

    def add(self, kind: FaultKind, **kw: Any) -> Fault:
        """Schedule a fault (see :class:`Fault` for the fields)."""
        fault = Fault(kind=kind, **kw)
        with self._lock:
            self._queue.append(fault)
        return fault

    def random(self, rate: float, makers: list[Callable[[Request], Fault]], seed: int = 0) -> None:
        """Fire a fault on a ``rate`` share of requests, each built by a randomly chosen maker."""
        with self._lock:
            self._rate, self._make, self._rng = rate, makers, random.Random(seed)

    def clear(self) -> None:
        """Drop every scheduled fault and the random rate."""
        with self._lock:
            self._queue.clear()
            self._rate = 0.0

    def pick(self, req: Request) -> Fault | None:
        """The fault to apply to ``req``, consuming one use of it."""
        with self._lock:
            for fault in self._queue:
                if fault.matches(req):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._queue.remove(fault)
                    self.fired.append((req.method, req.path, fault.kind))
                    return fault
            if self._rate and self._rng.random() < self._rate:
                fault = self._rng.choice(self._make)(req)
                self.fired.append((req.method, req.path, fault.kind))
                return fault
        return None


Route = tuple[str, re.Pattern[str], Callable[..., Reply]]


class FakeServer:
    """An HTTP server on 127.0.0.1 serving ``self.routes`` under ``prefix``; start/stop or ``with``."""

    prefix = ""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self.faults = Faults()
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        #: A server-side TLS context: set before :meth:`start` to serve HTTPS instead of HTTP.
        self.tls: ssl.SSLContext | None = None

    def route(self, method: str, pattern: str, fn: Callable[..., Reply]) -> None:
        """Serve ``method pattern`` (a regex on the path with named groups passed as kwargs) with ``fn``."""
        self.routes.append((method, re.compile(f"^{pattern}$"), fn))

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` with :attr:`tls`; no prefix)."""
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The base URL clients are given: root plus prefix."""
        return self.root + self.prefix

    def dispatch(self, req: Request) -> Reply:
        """Find the route for ``req`` and run it under the state lock."""
        for method, pattern, fn in self.routes:
            match = pattern.match(req.path)
            if match and method == req.method:
                with self.lock:
                    return fn(req, **match.groupdict())
        if any(p.match(req.path) for _, p, _ in self.routes):
            return self.error(405, "Method Not Allowed")
        return self.error(404, "Not Found")

    def error(self, status: int, message: str, **extra: Any) -> Reply:
        """An error reply in the forge's own body format (subclasses override)."""
        return Reply(status, {"message": message, **extra})

    def start(self) -> FakeServer:
        """Listen on an ephemeral port of ``host`` (127.0.0.1) in a daemon thread (over TLS with :attr:`tls`)."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self.host, 0), handler)
        self._server.daemon_threads = True
        if self.tls is not None:  # the handshake happens in the connection's own thread, on first read
            sock = self.tls.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
            self._server.socket = sock
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """Logged requests filtered by method and a path regex."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or re.search(path, r.path))
        ]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if self.fake.prefix and path.startswith(self.fake.prefix):
            path = path[len(self.fake.prefix) :] or "/"
        length = int(self.headers.get("Content-Length") or 0)
        req = Request(
            method=self.command,
            path=path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        fault = self.fake.faults.pick(req)
        if fault and fault.kind == "reset_before":
            self._drop()
            return
        if fault and fault.kind == "status":
            self._send(Reply(fault.status, fault.body or {"message": "fault"}, fault.headers))
            return
        if fault and fault.kind == "redirect":
            self._send(Reply(fault.status, b"", {"Location": fault.location, **fault.headers}))
            return
        if fault and fault.kind == "html":
            self._send(Reply(fault.status, fault.body or _HTML, {"Content-Type": "text/html; charset=utf-8"}))
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        with self.fake.lock:
            self.fake.requests.append(req)
        reply = self.fake.dispatch(req)
        if fault and fault.kind == "headers":
            reply.headers.update(fault.headers)
        if fault and fault.kind == "reset_after":
            self._drop()
        elif fault and fault.kind == "drip":
            self._drip(reply, fault)
        else:
            self._send(reply)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _encode(reply: Reply) -> tuple[bytes, dict[str, str]]:
        raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        if reply.status == 204:
            raw = b""
        headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        return raw, {**headers, "Content-Length": str(len(raw))}

    def _send(self, reply: Reply) -> None:
        raw, headers = self._encode(reply)
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(raw)

    def _drip(self, reply: Reply, fault: Fault) -> None:
        """Send ``reply`` one byte every ``fault.delay`` seconds (its headers, or only its body)."""
        raw, headers = self._encode(reply)
        lines = [f"HTTP/1.1 {reply.status} {self.responses[reply.status][0]}"]
        head = "\r\n".join([*lines, *(f"{k}: {v}" for k, v in headers.items()), "", ""]).encode()
        slow = head + raw if fault.phase == "headers" else raw
        self.close_connection = True
        try:
            if fault.phase == "body":
                self.wfile.write(head)
            for i in range(len(slow)):
                self.wfile.write(slow[i : i + 1])
                time.sleep(fault.delay)
        except OSError:
            pass  # the client gave up: what it should do

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


class Bystander(FakeServer):
    """Another host (127.0.0.2 by default) that logs every request and answers 200 ``{}``.

    Redirects and pagination links point here; a test asserts that its log holds no token.
    """

    def __init__(self, host: str = "127.0.0.2") -> None:
        super().__init__(host)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            self.route(method, r"/.*", lambda req: Reply(200, {}))


def token_forms(token: str) -> list[str]:
    """The token and the parts of its base64 forms that do not depend on the bytes around it."""
    forms = [token]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + token.encode()).decode()
        forms.append(encoded[4 if offset else 0 : -4])
    return forms
