"""Sticky comment update over TLS: `cml comment update` against a plain PyGithub script, same server.

Run from the repository root: ``python benchmarks/comment.py [--runs N]`` (needs the source checkout's
test fakes). The fake GitHub (``tests/fakes/github.py``) serves HTTPS on 127.0.0.1 with a self-signed
certificate made here (``cryptography``), handed to both sides through ``REQUESTS_CA_BUNDLE``. A pull
request holds 0, 150 or 3,000 other comments, and the comment to update is the oldest or the newest.

Each run of each side is a fresh ``python`` process:

- cml: ``python -m cml comment update report.md`` in a GitHub Actions ``pull_request`` environment;
- PyGithub: what a user writes instead (Iterative CML is not installable here): list every comment
  of the PR (``issue.get_comments()``, all pages), edit the last one carrying the script's marker,
  else create one; throttling off (``seconds_between_requests=0``) so it is not slowed on purpose, and
  ``lazy=True`` so the repository and issue are not fetched first (two GETs fewer than by default).

The sides alternate (order flipped every round), ``--runs`` rounds (default 5); it prints median wall
time with min-max and the requests each run made, per scenario.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import ssl
import statistics
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

from _common import alternate, child_env, machine, run, spread, use_test_fakes

use_test_fakes()

from tests.fakes.github import FakeGitHub  # noqa: E402
from tests.fakes.http import _Handler  # noqa: E402

TOKEN = "tok-bench-0123456789abcdef"  # noqa: S105 (the fake's own token)
REPO, PR, SHA, LOGIN = "acme/app", 7, "a" * 40, "ada"
USER_MARKER = "<!-- my-report -->"

PYGITHUB = """
import os, sys
from github import Auth, Github
body = "<!-- my-report -->\\n" + open(sys.argv[1]).read()
g = Github(auth=Auth.Token(os.environ["REPO_TOKEN"]), base_url=os.environ["GITHUB_API_URL"],
           seconds_between_requests=0, seconds_between_writes=0, lazy=True)
issue = g.get_repo(os.environ["GITHUB_REPOSITORY"]).get_issue(int(sys.argv[2]))
mine = [c for c in issue.get_comments() if c.body.startswith("<!-- my-report -->")]
if mine:
    mine[-1].edit(body)
else:
    issue.create_comment(body)
"""


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class TLSFakeGitHub(FakeGitHub):
    """The fake GitHub over HTTPS: the same routes behind a TLS listening socket."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__()
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)

    def start(self) -> TLSFakeGitHub:
        """Listen with TLS on an ephemeral port of 127.0.0.1 in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer((self.host, 0), handler)
        server.socket = self._context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def root(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return super().root.replace("http://", "https://", 1)


def _env(fake: FakeGitHub, tmp: Path, ca: Path) -> dict[str, str]:
    """A GitHub Actions ``pull_request`` environment pointed at ``fake``, trusting ``ca``."""
    event = tmp / "event.json"
    pull = {"number": PR, "head": {"sha": SHA, "repo": {"full_name": REPO}}, "base": {"ref": "main"}}
    event.write_text(json.dumps({"pull_request": pull}))
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return child_env(
        {
            **keep,
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": fake.url,
            "GITHUB_SERVER_URL": fake.root,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_SHA": "b" * 40,
            "REPO_TOKEN": TOKEN,
            "REQUESTS_CA_BUNDLE": str(ca),
        }
    )


def _scenario(
    fake: FakeGitHub, others: int, ours_first: bool, update: list[str], env: dict[str, str], tmp: Path
) -> None:
    """Reset the PR to ``others`` comments by someone else, with both sides' own comment (cml's and
    the script's) before them (``ours_first``) or after them."""
    fake.repos[REPO].issue_comments.clear()

    def chatter() -> None:
        for i in range(others):
            fake.add_issue_comment(REPO, PR, f"chatter {i}", "bob")

    if not ours_first:
        chatter()
    run(update, env=env, cwd=tmp)  # cml creates its comment
    fake.add_issue_comment(REPO, PR, USER_MARKER + "\nfirst", LOGIN)
    if ours_first:
        chatter()


def _measure(fake: FakeGitHub, argv: list[str], env: dict[str, str], tmp: Path, counts: list[int]) -> None:
    before = len(fake.requests)
    run(argv, env=env, cwd=tmp)
    counts.append(len(fake.requests) - before)


def main() -> None:
    """Print, per scenario, each side's median time with its spread and its requests per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds per side (default 5, at least 5)")
    runs = max(5, parser.parse_args().runs)
    py = sys.executable
    scenarios = [(0, True), (150, True), (150, False), (3000, True), (3000, False)]
    rows: list[tuple[str, dict[str, list[float]], dict[str, list[int]]]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        cert, key = _certificate(tmp)
        with TLSFakeGitHub(cert, key) as fake:
            fake.add_repo(REPO)
            fake.add_pr(REPO, PR, SHA)
            fake.add_token(TOKEN, LOGIN)
            env = _env(fake, tmp, cert)
            (tmp / "report.md").write_text("# Metrics\n\n| metric | value |\n|---|---|\n| acc | 0.91 |\n")
            cml = [py, "-m", "cml", "comment", "update", "report.md"]
            script = [py, "-c", PYGITHUB, "report.md", str(PR)]
            for others, ours_first in scenarios:
                _scenario(fake, others, ours_first, cml, env, tmp)
                total = len(fake.repos[REPO].issue_comments)
                counts: dict[str, list[int]] = {"cml": [], "PyGithub": []}
                times = alternate(
                    {
                        "cml": lambda c=counts["cml"]: _measure(fake, cml, env, tmp, c),
                        "PyGithub": lambda c=counts["PyGithub"]: _measure(fake, script, env, tmp, c),
                    },
                    runs,
                )
                assert len(fake.repos[REPO].issue_comments) == total, "a side posted a duplicate"
                where = "only comment" if not others else ("oldest" if ours_first else "newest")
                rows.append((f"{others:>5} others, ours {where}", times, counts))
    print(f"machine: {machine()}; fake GitHub over TLS on 127.0.0.1 (self-signed, REQUESTS_CA_BUNDLE)")
    print(f"comment update, fresh process per run, alternated, {runs} runs per side:")
    for label, times, counts in rows:
        for side in ("cml", "PyGithub"):
            reqs = statistics.median(counts[side])
            print(f"  {label:28} {side:9} {spread(times[side])}  {reqs:.0f} requests")


if __name__ == "__main__":
    main()
