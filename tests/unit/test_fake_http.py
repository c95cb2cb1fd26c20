"""The fake-forge server itself: routing, logging, each fault kind."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.fakes import tls
from tests.fakes.http import FakeServer, Reply


class Echo(FakeServer):
    prefix = "/api"

    def __init__(self) -> None:
        super().__init__()
        self.stored: list[object] = []
        self.route("GET", r"/items/(?P<n>\d+)", lambda req, n: Reply(200, {"n": int(n)}))
        self.route("POST", r"/items", self._post)

    def _post(self, req: object) -> Reply:
        self.stored.append(req)
        return Reply(201, {"ok": True})


@pytest.fixture
def echo() -> Echo:
    with Echo() as server:
        yield server


def test_routes_and_logs(echo: Echo) -> None:
    assert requests.get(f"{echo.url}/items/4", timeout=5).json() == {"n": 4}
    assert requests.get(f"{echo.url}/nope", timeout=5).status_code == 404
    assert [(r.method, r.path) for r in echo.requests] == [("GET", "/items/4"), ("GET", "/nope")]


def test_status_fault_is_not_stored(echo: Echo) -> None:
    echo.faults.add("status", method="POST", status=429, headers={"Retry-After": "2"})
    first = requests.post(f"{echo.url}/items", json={}, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert requests.post(f"{echo.url}/items", json={}, timeout=5).status_code == 201
    assert len(echo.stored) == 1


def test_reset_after_stores_then_drops(echo: Echo) -> None:
    echo.faults.add("reset_after", method="POST")
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{echo.url}/items", json={}, timeout=5)
    assert len(echo.stored) == 1


def test_slow_reply_times_out(echo: Echo) -> None:
    echo.faults.add("slow", delay=0.5)
    with pytest.raises(requests.Timeout):
        requests.get(f"{echo.url}/items/1", timeout=0.1)


def test_plain_http_unless_tls_is_set(echo: Echo) -> None:
    assert echo.tls is None
    assert echo.url.startswith("http://127.0.0.1:")
    assert requests.get(f"{echo.url}/items/2", timeout=5).json() == {"n": 2}


def test_tls_serves_https_with_its_certificate(tmp_path: Path) -> None:
    cert, key = tls.self_signed(tmp_path)
    server = Echo()
    tls.serve_tls(server, cert, key)
    with server:
        assert server.url.startswith("https://127.0.0.1:")
        assert requests.get(f"{server.url}/items/3", timeout=5, verify=str(cert)).json() == {"n": 3}
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{server.url}/items/3", timeout=5)  # not in the system's trust store
    assert [r.path for r in server.requests] == ["/items/3"]
