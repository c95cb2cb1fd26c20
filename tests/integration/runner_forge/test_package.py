"""Runner packages: fetched without any token, under a deadline, kept only when the sha256 matches."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import pytest

from cml.ci import CIContext
from cml.errors import ForgeError, InputError
from cml.runner import Package, package
from cml.runner.github import GitHubRunners
from tests.fakes.github import FakeGitHub
from tests.fakes.releases import FakeReleases, actions_runner
from tests.integration.runner_forge.conftest import ADMIN, line

DATA = b"\x1f\x8b fake actions-runner tarball " * 64
SHA = hashlib.sha256(DATA).hexdigest()
NAME = "actions-runner-linux-x64-2.330.0.tar.gz"


def _pkg(url: str, sha: str = SHA, filename: str = NAME) -> Package:
    return Package(os="linux", arch="x64", version="2.330.0", url=url, sha256=sha, filename=filename)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``.netrc`` with a password for 127.0.0.1: requests would send it unless cml stops it."""
    secret = "netrc-password-5d1f0a"
    path = tmp_path / "netrc"
    path.write_text(
        f"machine 127.0.0.1 login runner password {secret}\nmachine 127.0.0.2 login r password {secret}\n"
    )
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))
    return secret


def test_fetch_verifies_keeps_and_a_rerun_downloads_nothing(
    releases: FakeReleases, tmp_path: Path, netrc: str
) -> None:
    url = releases.serve(f"/v2.330.0/{NAME}", DATA)
    cache = tmp_path / "cache"
    first = package.fetch(_pkg(url), cache)
    assert first == cache / SHA / NAME
    assert first.read_bytes() == DATA
    assert _files(cache) == [first]
    assert len(releases.requests) == 1
    assert package.fetch(_pkg(url), cache) == first
    assert len(releases.requests) == 1  # the rerun made no request
    assert not releases.credentials()


def test_github_package_is_fetched_without_the_forge_token(
    gh: FakeGitHub, gh_ctx: CIContext, releases: FakeReleases, tmp_path: Path, netrc: str
) -> None:
    actions_runner(gh, releases, {"x64": DATA})
    pkg = GitHubRunners(gh_ctx, ADMIN).package("linux", "x64")
    path = package.fetch(pkg, tmp_path / "cache")
    assert path.read_bytes() == DATA
    assert len(releases.requests) == 1
    assert not releases.credentials()
    assert not any(ADMIN in r.text() or netrc in r.text() for r in releases.requests)


def test_redirect_to_another_host_is_followed_without_credentials(
    releases: FakeReleases, tmp_path: Path, netrc: str
) -> None:
    with FakeReleases(host="127.0.0.2") as objects:
        target = objects.serve(f"/blob/{SHA}", DATA)
        url = releases.redirect(f"/download/{NAME}", target)
        assert package.fetch(_pkg(url), tmp_path).read_bytes() == DATA
        assert len(objects.requests) == 1
        assert not objects.credentials()
    assert not releases.credentials()


def test_sha256_mismatch_is_refused_and_nothing_is_kept(releases: FakeReleases, tmp_path: Path) -> None:
    url = releases.serve(f"/v2.330.0/{NAME}", DATA + b"tampered")
    with pytest.raises(package.ChecksumMismatch) as err:
        package.fetch(_pkg(url), tmp_path / "cache")
    text = line(err.value)
    assert err.value.exit_code == 4
    assert NAME in text
    assert f"expected {SHA}" in text
    assert hashlib.sha256(DATA + b"tampered").hexdigest() in text
    assert _files(tmp_path / "cache") == []


def test_a_corrupted_cache_entry_is_downloaded_again(releases: FakeReleases, tmp_path: Path) -> None:
    url = releases.serve(f"/v2.330.0/{NAME}", DATA)
    kept = package.fetch(_pkg(url), tmp_path)
    kept.write_bytes(b"bit rot")
    assert package.fetch(_pkg(url), tmp_path).read_bytes() == DATA
    assert len(releases.requests) == 2


def test_a_dripping_release_host_hits_the_deadline(
    releases: FakeReleases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "DEADLINE", 1.0)
    url = releases.serve(f"/v2.330.0/{NAME}", DATA)
    releases.faults.add("drip", method="GET", delay=0.05)  # the body would take 100 s
    started = time.monotonic()
    with pytest.raises(ForgeError) as err:
        package.fetch(_pkg(url), tmp_path / "cache")
    assert time.monotonic() - started < 10
    assert err.value.exit_code == 4
    assert f"{releases.url} sent no complete answer within 1 s" in line(err.value)
    assert _files(tmp_path / "cache") == []


def test_dripping_headers_hit_the_deadline_too(
    releases: FakeReleases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "DEADLINE", 1.0)
    url = releases.serve(f"/v2.330.0/{NAME}", DATA)
    releases.faults.add("drip", method="GET", delay=0.05, phase="headers")
    with pytest.raises(ForgeError, match="no complete answer within 1 s"):
        package.fetch(_pkg(url), tmp_path)


def test_missing_file_names_host_and_status(releases: FakeReleases, tmp_path: Path) -> None:
    with pytest.raises(ForgeError) as err:
        package.fetch(_pkg(f"{releases.url}/nope/{NAME}"), tmp_path)
    assert f"download {NAME}: {releases.url} answered 404" in line(err.value)
    assert _files(tmp_path) == []


def test_oversized_download_is_refused(
    releases: FakeReleases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package, "MAX_SIZE", 1000)
    url = releases.serve(f"/v2.330.0/{NAME}", DATA)
    with pytest.raises(ForgeError, match="sent more than 0 MiB; refused"):
        package.fetch(_pkg(url), tmp_path)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_only_http_urls_are_fetched(url: str, tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="not http"):
        package.fetch(_pkg(url), tmp_path)


@pytest.mark.parametrize(
    ("sha", "filename"), [("", NAME), ("XYZ", NAME), (SHA, "../escape.tar.gz"), (SHA, "")]
)
def test_unusable_published_checksum_or_name_is_refused(sha: str, filename: str, tmp_path: Path) -> None:
    with pytest.raises(ForgeError) as err:
        package.fetch(_pkg("https://example.test/x", sha=sha, filename=filename), tmp_path)
    assert err.value.exit_code == 4
    assert _files(tmp_path) == []


def test_runner_package_file_matching_the_forge(tmp_path: Path) -> None:
    given = tmp_path / NAME
    given.write_bytes(DATA)
    assert package.from_file(given, _pkg("https://example.test/x")) == given


def test_runner_package_file_not_matching_is_refused(tmp_path: Path) -> None:
    given = tmp_path / NAME
    given.write_bytes(b"something else")
    with pytest.raises(InputError) as err:
        package.from_file(given, _pkg("https://example.test/x"))
    text = line(err.value)
    assert err.value.exit_code == 2
    assert f"--runner-package {given}" in text
    assert f"expected {SHA}" in text
    assert hashlib.sha256(b"something else").hexdigest() in text


def test_runner_package_file_unchecked_warns_with_its_sha256(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    given = tmp_path / NAME
    given.write_bytes(DATA)
    with caplog.at_level(logging.WARNING, logger="cml"):
        assert package.from_file(given, None) == given
    assert SHA in caplog.text
    assert "not checked against the forge" in caplog.text


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_runner_package_that_is_not_a_file(kind: str, tmp_path: Path) -> None:
    given = tmp_path / "pkg"
    if kind == "directory":
        given.mkdir()
    with pytest.raises(InputError) as err:
        package.from_file(given, None)
    assert err.value.exit_code == 2
    assert f"--runner-package {given}" in line(err.value)
