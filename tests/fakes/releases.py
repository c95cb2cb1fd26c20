"""A release download host on 127.0.0.1: given bytes at given paths, with a request log.

It stands in for ``github.com/actions/runner/releases/...`` (and the object store GitHub redirects
to) and for GitLab's ``gitlab-runner-downloads`` bucket. Faults come from
:class:`tests.fakes.http.FakeServer` (``drip``, ``status``, ``reset_before``...)::

    with FakeReleases() as releases:
        url = releases.serve("/v2.330.0/actions-runner-linux-x64-2.330.0.tar.gz", data)
        releases.redirect("/moved.tar.gz", url)               # a 302, as github.com sends
        base = gitlab_folder(releases, {"amd64": binary})     # binaries/... and release.sha256
        actions_runner(fake_github, releases, {"x64": tarball})  # listed in /downloads
        assert not releases.credentials()                    # no token ever reached it
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from tests.fakes.http import FakeServer, Reply, Request

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub

_CREDENTIALS = ("authorization", "private-token", "job-token", "cookie")


class FakeReleases(FakeServer):
    """Serves :attr:`files` (path -> bytes) as ``application/octet-stream``; 404 for anything else."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.files: dict[str, bytes] = {}
        self.moved: dict[str, str] = {}
        self.route("GET", r"/(?P<path>.*)", self._get)

    def serve(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``path``; return its URL (the server must be started)."""
        self.files["/" + path.lstrip("/")] = data
        return self.url + "/" + path.lstrip("/")

    def redirect(self, path: str, location: str) -> str:
        """Answer ``path`` with a 302 to ``location``; return ``path``'s URL."""
        self.moved["/" + path.lstrip("/")] = location
        return self.url + "/" + path.lstrip("/")

    def credentials(self) -> list[Request]:
        """Requests that carried any credential header (there must be none)."""
        return [r for r in self.requests if any(h in r.headers for h in _CREDENTIALS)]

    def error(self, status: int, message: str, **extra: object) -> Reply:
        """S3's way: an XML error body."""
        body = f"<Error><Code>NoSuchKey</Code><Message>{message}</Message></Error>".encode()
        return Reply(status, body, {"Content-Type": "application/xml"})

    def _get(self, req: Request, path: str) -> Reply:
        key = "/" + path
        if key in self.moved:
            return Reply(302, b"", {"Location": self.moved[key], "Content-Type": "text/html"})
        if key not in self.files:
            return self.error(404, "The specified key does not exist.")
        return Reply(200, self.files[key], {"Content-Type": "application/octet-stream"})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def gitlab_folder(releases: FakeReleases, binaries: dict[str, bytes], version: str = "latest") -> str:
    """A GitLab release folder: ``binaries/gitlab-runner-linux-<arch>`` and ``release.sha256``
    (``<sha256>\\t<path>`` lines, as GitLab's ``ci/prepare_index`` writes them). Returns its URL."""
    lines = []
    for arch, data in sorted(binaries.items()):
        name = f"binaries/gitlab-runner-linux-{arch}"
        releases.serve(f"/{version}/{name}", data)
        lines.append(f"{sha256(data)}\t{name}")
    releases.serve(f"/{version}/release.sha256", ("\n".join(lines) + "\n").encode())
    return f"{releases.url}/{version}"


def actions_runner(
    fake: FakeGitHub, releases: FakeReleases, tarballs: dict[str, bytes], version: str = "2.330.0"
) -> dict[str, str]:
    """Serve ``actions-runner-linux-<arch>-<version>.tar.gz`` and list each in the fake GitHub's
    ``/downloads`` with its sha256. Returns arch -> URL."""
    urls = {}
    for arch, data in tarballs.items():
        filename = f"actions-runner-linux-{arch}-{version}.tar.gz"
        urls[arch] = releases.serve(f"/actions/runner/releases/download/v{version}/{filename}", data)
        fake.runners.publish("linux", arch, urls[arch], sha256(data), filename)
    return urls
