"""``cml report`` fetching its baseline: the token reaches git only through ``GIT_CONFIG_*`` environment
variables, as an ``Authorization`` header scoped to an https origin on the forge's own server.

A real git talks to a real HTTPS server on 127.0.0.1 (a self-signed certificate git is told to
trust) that records every request's headers and answers 404, so every fetch fails and the report
stops with ``--base``'s one-line error after git has shown what it sends.
"""

from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cml import git as cml_git
from cml import proc
from tests.conftest import git
from tests.integration.report.conftest import Cml
from tests.leaks import leaks, without_masks

TOKEN = "tok-ada-5f1e9c0b7d2a4e6f"
FLAGS = ("--metrics", "metrics.json", "--base=v9")

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a certificate")


@dataclass
class GitServer:
    """An HTTPS server on 127.0.0.1 that logs each request's path and Authorization headers."""

    port: int
    seen: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def root(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def auth(self) -> list[list[str]]:
        """The Authorization headers of each request, in order."""
        return [headers for _path, headers in self.seen]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[GitServer]:
    """The server, trusted by every git cml starts (``GIT_SSL_CAINFO``); git never prompts."""
    cert, key = certificate
    record = GitServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            record.seen.append((self.path, self.headers.get_all("Authorization") or []))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    record.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GIT_SSL_CAINFO", str(cert))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    yield record
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Spy:
    """Every command cml ran, and the environment each one got (None: cml's own)."""

    calls: list[tuple[list[str], dict[str, str] | None]] = field(default_factory=list)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Record what :func:`cml.proc.run` is handed, then run it."""
    seen = Spy()
    real = proc.run

    def run(argv: Any, **kw: Any) -> Any:
        env = kw.get("env")
        seen.calls.append((list(argv), dict(env) if env is not None else None))
        return real(argv, **kw)

    monkeypatch.setattr(proc, "run", run)
    return seen


def _github(server: GitServer, project: Path) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_SERVER_URL": server.root,
        "GITHUB_API_URL": f"{server.root}/api/v3",
        "GITHUB_SHA": git(project, "rev-parse", "HEAD"),
        "REPO_TOKEN": f"{TOKEN}\n",  # pasted with a newline: stripped before it goes anywhere
    }


def _gitlab(server: GitServer, project: Path) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": f"{server.root}/gitlab",
        "CI_PROJECT_PATH": "group/project",
        "CI_COMMIT_SHA": git(project, "rev-parse", "HEAD"),
        "REPO_TOKEN": TOKEN,
    }


def _basic(user: str) -> str:
    return "AUTHORIZATION: basic " + base64.b64encode(f"{user}:{TOKEN}".encode()).decode()


def _fails_on_base(code: int, err: str) -> None:
    assert code == 2
    assert without_masks(err).splitlines() == [
        "fetching v9 from origin for the baseline",
        "cml: error: --base 'v9': no such commit here or on origin",
    ]


def _no_token_outside_env(spy: Spy, project: Path, out: str, err: str) -> None:
    assert spy.calls
    assert not any(leaks(arg, TOKEN) for argv, _env in spy.calls for arg in argv)
    files = [p for p in (project / ".git").rglob("*") if p.is_file()]
    assert not any(leaks(p.read_bytes().decode("latin-1"), TOKEN) for p in files)
    assert not leaks(without_masks(out + err), TOKEN)


@pytest.mark.parametrize(
    ("forge", "origin", "user"),
    [("github", "/acme/app.git", "x-access-token"), ("gitlab", "/gitlab/group/project.git", "oauth2")],
)
def test_the_token_goes_to_origin_as_a_header_from_the_environment_only(
    project: Path, server: GitServer, spy: Spy, cml: Cml, forge: str, origin: str, user: str
) -> None:
    git(project, "remote", "add", "origin", server.root + origin)
    # What actions/checkout persists by default: it must not go along as a second Authorization.
    git(project, "config", f"http.{server.root}/.extraheader", "AUTHORIZATION: basic cGVyc2lzdGVk")
    env = _github(server, project) if forge == "github" else _gitlab(server, project)
    code, out, err = cml(*FLAGS, env=env)
    _fails_on_base(code, err)
    assert server.seen
    assert all(headers == [_basic(user).split(": ", 1)[1]] for headers in server.auth())
    [(_argv, fetch_env)] = [(a, e) for a, e in spy.calls if "fetch" in a]
    assert fetch_env is not None
    assert fetch_env["GIT_CONFIG_COUNT"] == "2"
    assert fetch_env["GIT_CONFIG_KEY_1"] == f"http.{server.root}{origin}.extraheader"
    _no_token_outside_env(spy, project, out, err)


@pytest.mark.parametrize(
    "origin",
    [
        "https://localhost:{port}/acme/app.git",  # another host name, same machine
        "https://127.0.0.1:{port}/elsewhere/app.git",  # GitLab: outside the instance's subpath
        "https://oauth2:other@127.0.0.1:{port}/gitlab/group/project.git",  # origin brings its own
    ],
    ids=["other-host", "outside-subpath", "own-credentials"],
)
def test_no_token_for_an_origin_off_the_forge(
    project: Path, server: GitServer, spy: Spy, cml: Cml, origin: str
) -> None:
    git(project, "remote", "add", "origin", origin.format(port=server.port))
    code, out, err = cml(*FLAGS, env=_gitlab(server, project))
    _fails_on_base(code, err)
    assert server.seen
    assert all(not any(leaks(h, TOKEN) for h in headers) for headers in server.auth())
    assert all(env is None for argv, env in spy.calls if "fetch" in argv)
    _no_token_outside_env(spy, project, out, err)


@pytest.mark.parametrize(
    ("url", "server_url", "ok"),
    [
        ("https://github.com/acme/app.git", "https://github.com", True),
        ("https://github.com/acme/app", "https://github.com/", True),
        ("https://GitHub.com/acme/app", "https://github.com", True),
        ("http://github.com/acme/app.git", "https://github.com", False),
        ("git@github.com:acme/app.git", "https://github.com", False),
        ("https://github.com.evil.example/acme/app.git", "https://github.com", False),
        ("https://github.com:8443/acme/app.git", "https://github.com", False),
        ("https://x:y@github.com/acme/app.git", "https://github.com", False),
        ("https://host/gitlab/g/p.git", "https://host/gitlab", True),
        ("https://host/gitlabx/g/p.git", "https://host/gitlab", False),
        ("https://host:99999/g/p.git", "https://host", False),
    ],
)
def test_which_origins_get_the_header(repo: Path, url: str, server_url: str, ok: bool) -> None:
    git(repo, "remote", "add", "origin", url)
    own = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.abbrev", "GIT_CONFIG_VALUE_0": "12"}
    env = cml_git.credentials_env(repo, server_url=server_url, user="x-access-token", token=TOKEN, base=own)
    assert (env is not None) == ok
    if env is not None:  # the caller's own entry stays, ours go after it
        assert env == {
            **own,
            "GIT_CONFIG_COUNT": "3",
            "GIT_CONFIG_KEY_1": f"http.{url}.extraheader",
            "GIT_CONFIG_VALUE_1": "",
            "GIT_CONFIG_KEY_2": f"http.{url}.extraheader",
            "GIT_CONFIG_VALUE_2": _basic("x-access-token"),
        }
