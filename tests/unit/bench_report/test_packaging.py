"""The ``bench`` extra picks the TensorFlow wheel per platform and installs the runtime everywhere."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[3]
PLATFORMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_machine": "arm64"},
    "macos-x86_64": {"sys_platform": "darwin", "platform_machine": "x86_64"},
    "linux-armv7l": {"sys_platform": "linux", "platform_machine": "armv7l"},
}


def _installed(platform: str) -> set[str]:
    """The distributions the bench extra installs on ``platform``."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["bench"]
    env = {**default_environment(), **PLATFORMS[platform], "extra": "bench"}
    return {r.name for r in map(Requirement, extra) if r.marker is None or r.marker.evaluate(env)}


@pytest.mark.parametrize(
    ("platform", "tensorflow"),
    [("linux-x86_64", "tensorflow-cpu"), ("linux-aarch64", "tensorflow"), ("macos-arm64", "tensorflow")],
)
def test_one_tensorflow_per_supported_platform(platform: str, tensorflow: str) -> None:
    got = _installed(platform)
    assert {"ai-edge-litert", "numpy"} <= got
    assert {n for n in got if n.startswith("tensorflow")} == {tensorflow}


@pytest.mark.parametrize("platform", ["macos-x86_64", "linux-armv7l"])
def test_no_tensorflow_where_it_has_no_wheels(platform: str) -> None:
    got = _installed(platform)
    assert not {n for n in got if n.startswith("tensorflow")}
    assert "ai-edge-litert" in got
