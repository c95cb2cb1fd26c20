"""A real Docker engine for the container tests: our own ``dockerd`` in a temp dir when root, else the
caller's engine; a tiny busybox image built locally (nothing can be pulled here)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

IMAGE = "cml-test-busybox:1"
LABEL = "dev.cml.run"


def _ping(host: str) -> Any | None:
    import docker

    try:
        client = docker.DockerClient(base_url=host, timeout=10)
        client.ping()
    except Exception:
        return None
    return client


def can_start_dockerd() -> bool:
    return os.geteuid() == 0 and shutil.which("dockerd") is not None


@contextmanager
def private_dockerd(extra: Sequence[str] = ()) -> Iterator[str]:
    """Start ``dockerd`` with its data, state and socket in a temp dir; yield its ``DOCKER_HOST``; stop it."""
    root = Path(tempfile.mkdtemp(prefix="cml-dockerd-"))
    sock = root / "docker.sock"
    argv = ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec")]
    argv += ["-H", f"unix://{sock}", "--pidfile", str(root / "dockerd.pid")]
    argv += ["--bridge=none", "--iptables=false", "--ip-forward=false", *extra]
    with (root / "dockerd.log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    host = f"unix://{sock}"
    try:
        deadline = time.monotonic() + 30
        while _ping(host) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "dockerd.log").read_text(errors="replace")[-600:]
                pytest.skip(f"dockerd did not start: {tail}")
            time.sleep(0.1)
        # The tests run cml as another uid too; this engine is private to the session.
        root.chmod(0o711)
        sock.chmod(0o666)
        yield host
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_host() -> Iterator[str]:
    """``DOCKER_HOST`` of a running engine; skips with the reason when none can start."""
    if can_start_dockerd():
        with private_dockerd() as host:
            yield host
        return
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if _ping(host) is None:
        reason = "not root" if os.geteuid() != 0 else "dockerd is not installed (apt-get install docker.io)"
        pytest.skip(f"no Docker engine: {reason}, and none answers at {host}")
    yield host


@pytest.fixture(scope="session")
def docker_client(docker_host: str) -> Any:
    """An SDK client for the test engine."""
    client = _ping(docker_host)
    assert client is not None
    return client


def build_busybox(client: Any, ctx: Path) -> str:
    """Build a busybox image FROM scratch from the host's static busybox (with /tmp and a shell)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    shutil.copy(busybox, ctx / "busybox")
    (ctx / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/sbin", "/usr/sbin", "/tmp", "/usr/local/bin"]\n'
        'RUN ["/bin/busybox", "--install", "-s"]\n'
        'RUN ["/bin/busybox", "chmod", "1777", "/tmp"]\n'
        'CMD ["sh"]\n'
    )
    client.images.build(path=str(ctx), tag=IMAGE, network_mode="none", rm=True)
    return IMAGE


@pytest.fixture(scope="session")
def image(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The busybox test image on the test engine."""
    return build_busybox(docker_client, tmp_path_factory.mktemp("busybox-image"))


@pytest.fixture
def cml_env(docker_host: str) -> dict[str, str]:
    """The environment for cml: the caller's (CI variables already stripped) plus DOCKER_HOST."""
    return {**os.environ, "DOCKER_HOST": docker_host}


@pytest.fixture(autouse=True)
def _no_containers_left(docker_client: Any) -> Iterator[None]:
    """Every test ends with no container cml started still on the engine."""
    yield
    left = docker_client.containers.list(all=True, filters={"label": LABEL})
    for container in left:
        container.remove(force=True)
    assert not left, f"containers left behind: {[c.name for c in left]}"
