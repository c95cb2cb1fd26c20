"""Pure pieces of the runner forge layer: GitHub's runner objects, versions, the package cache path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml.errors import ForgeError
from cml.runner import Package, RemoteRunner
from cml.runner.github import _VERSION, _runner
from cml.runner.package import cached

SHA = "c" * 64


def test_runner_object_becomes_a_remote_runner() -> None:
    raw = {
        "id": 7,
        "name": "cml-1",
        "os": "Linux",
        "status": "online",
        "busy": True,
        "labels": [{"id": 1, "name": "self-hosted", "type": "read-only"}, {"name": "gpu"}, "junk"],
    }
    assert _runner(raw) == RemoteRunner(
        id=7, name="cml-1", labels=("self-hosted", "gpu"), online=True, busy=True
    )
    assert _runner({"id": 8, "name": "x", "status": "offline"}) == RemoteRunner(id=8, name="x")


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        ("actions-runner-linux-x64-2.330.0.tar.gz", "2.330.0"),
        ("actions-runner-win-x64-2.321.0.zip", "2.321.0"),
        ("actions-runner-linux-arm64.tar.gz", None),
    ],
)
def test_version_from_the_file_name(filename: str, version: str | None) -> None:
    found = _VERSION.search(filename)
    assert (found.group(1) if found else None) == version


def _pkg(filename: str, sha: str = SHA) -> Package:
    return Package(os="linux", arch="x64", version="1", url="https://x/y", sha256=sha, filename=filename)


def test_cache_path_is_keyed_by_sha256(tmp_path: Path) -> None:
    assert cached(_pkg("runner.tar.gz"), tmp_path) == tmp_path / SHA / "runner.tar.gz"


@pytest.mark.parametrize("filename", ["../x", "a/b", "", ".", ".."])
def test_cache_refuses_names_that_are_not_file_names(filename: str, tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="not a file name"):
        cached(_pkg(filename), tmp_path)


@pytest.mark.parametrize("sha", ["", "C" * 64, "c" * 63, "g" * 64])
def test_cache_refuses_a_checksum_that_is_not_sha256_hex(sha: str, tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="no usable sha256"):
        cached(_pkg("runner.tar.gz", sha), tmp_path)
