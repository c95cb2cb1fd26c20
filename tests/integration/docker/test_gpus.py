"""``cml run --gpus`` on an engine that has an ``nvidia`` runtime registered but no GPU: the request
reaches the daemon as a device request, and its refusal is one line (no GPU host here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.docker.conftest import LABEL, _ping, build_busybox, can_start_dockerd, private_dockerd
from tests.integration.docker.test_run import ROOT, cml_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not can_start_dockerd() or shutil.which("runc") is None,
        reason="needs root, dockerd and runc to start an engine with a stand-in nvidia runtime",
    ),
]


@pytest.fixture(scope="module")
def nvidia_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, str]]:
    """(DOCKER_HOST, client, image) of an engine whose ``nvidia`` runtime is plain runc."""
    with private_dockerd([f"--add-runtime=nvidia={shutil.which('runc')}"]) as host:
        client = _ping(host)
        assert client is not None
        assert "nvidia" in client.info()["Runtimes"]
        yield host, client, build_busybox(client, tmp_path_factory.mktemp("busybox-nvidia"))


@pytest.mark.parametrize("gpus", ["all", "2", "device=0,1"])
def test_gpu_request_reaches_the_daemon_and_its_refusal_is_one_line(
    nvidia_engine: tuple[str, Any, str], repo: Path, gpus: str
) -> None:
    host, client, image = nvidia_engine
    env = {**os.environ, "DOCKER_HOST": host, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "cml", *cml_run(image, "true", opts=("--gpus", gpus))]
    done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 125
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    # The daemon got a device request with the "gpu" capability and had no driver for it.
    assert 'could not select device driver "" with capabilities: [[gpu]]' in lines[0]
    assert "NVIDIA Container Toolkit" in lines[0]
    assert client.containers.list(all=True, filters={"label": LABEL}) == []
