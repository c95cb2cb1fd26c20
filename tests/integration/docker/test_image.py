"""The project's own Dockerfile, built by image/build-local.sh on the test engine, checked end to end:
the entrypoint, a plain command, and ``cml report`` rendering a real PNG with the image's Chromium, both
``docker run`` as root and through ``cml run`` as the caller's (non-root) uid with no home.

The build needs no registry but Debian's and PyPI's: the mmdebstrap rootfs is cached in the gitignored
``.cache/docker-build/`` (cold ~75 s more). Where an engine runs, a failing build is a test failure."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from cml import __version__
from tests.unit.test_constraints import pins

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
TAG = "cml-test-image:local"
PNG = b"\x89PNG\r\n\x1a\n"
# Measured 956 MB on the mmdebstrap base (Chromium and its libraries ~600, the venv ~150, the base ~220);
# 1209 MB before install.sh cleaned apt's .debs.
SIZE_BUDGET = 1_050_000_000
REPORT = ["report", "--metrics", "metrics.json", "--plot", "loss.csv:step:loss"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def cml_image(docker_host: str, docker_client: Any) -> str:
    """The Dockerfile built on the test engine as ``TAG``; fails (never skips) when the build cannot run."""
    for tool, package in (("mmdebstrap", "mmdebstrap"), ("docker", "docker.io")):
        if shutil.which(tool) is None:
            pytest.fail(f"cannot build the image: {tool} is not installed (apt-get install {package})")
    env = {
        **os.environ,
        "DOCKER_HOST": docker_host,
        "PYTHON": sys.executable,
        "CML_WHEEL_PORT": str(_free_port()),
    }
    argv = [str(ROOT / "image" / "build-local.sh"), "--no-smoke", TAG]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-1500:]
        pytest.fail(f"image/build-local.sh failed with exit code {done.returncode}:\n{tail}")
    return TAG


def run(client: Any, image: str, *args: str, **kw: Any) -> tuple[int, str]:
    """Run ARGS through the image's entrypoint with no network; return the exit code and the output."""
    container = client.containers.create(image, command=list(args), network_mode="none", **kw)
    try:
        container.start()
        code = container.wait(timeout=120)["StatusCode"]
        return code, container.logs().decode()
    finally:
        container.remove(force=True)


def project(path: Path) -> Path:
    """A tiny git project: a metrics file and a loss curve, committed."""
    path.mkdir()
    (path / "metrics.json").write_text('{"accuracy": 0.91, "loss": 0.12}\n')
    (path / "loss.csv").write_text("step,loss\n0,1.0\n1,0.5\n2,0.3\n3,0.12\n")
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "train"], check=True)
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file; raises AssertionError when it is not one."""
    data = path.read_bytes()
    assert data[:8] == PNG, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path} has no IHDR chunk first"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_image_stays_within_its_size_budget(docker_client: Any, cml_image: str) -> None:
    assert docker_client.images.get(cml_image).attrs["Size"] < SIZE_BUDGET


def test_the_image_installs_the_pinned_versions_and_carries_oci_labels(
    docker_client: Any, cml_image: str
) -> None:
    listing = (
        "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'], d.version)"
    )
    code, out = run(docker_client, cml_image, "/opt/cml/bin/python", "-c", listing)
    assert code == 0, out
    installed = {canonicalize_name(n): v for n, v in (line.split() for line in out.splitlines())}
    env = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.11"}
    env["python_full_version"] = "3.11.2"  # bookworm's
    pinned = {
        n: str(v) for n, v, m in pins((ROOT / "constraints.txt").read_text()) if m is None or m.evaluate(env)
    }
    assert installed.pop("cml-suite") == __version__
    for tool in ("pip", "setuptools"):  # the venv's own, not cml's dependencies
        installed.pop(tool, None)
    assert {"plotly", "kaleido", "python-gitlab", "pygithub", "requests"} <= set(installed)
    assert {n: v for n, v in installed.items() if pinned.get(n) != v} == {}
    labels = docker_client.images.get(cml_image).labels
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.version"] == "dev"
    assert {"org.opencontainers.image.source", "org.opencontainers.image.revision"} <= set(labels)


def test_the_runner_host_scripts_ship_in_the_image(docker_client: Any, cml_image: str) -> None:
    code, out = run(
        docker_client,
        cml_image,
        "/opt/cml/bin/python",
        "-c",
        "from cml.runner import scripts; print(*scripts.names())",
    )
    assert code == 0, out
    assert {"lib.sh", "install-github.sh", "install-gitlab.sh", "teardown.sh"} <= set(out.split())


def test_version_through_the_entrypoint(docker_client: Any, cml_image: str) -> None:
    assert run(docker_client, cml_image, "--version") == (0, f"cml {__version__}\n")


def test_a_plain_command_runs_as_gitlab_image_jobs_need(docker_client: Any, cml_image: str) -> None:
    assert run(docker_client, cml_image, "sh", "-c", "echo $((6 * 7)); git --version >/dev/null; exit 3") == (
        3,
        "42\n",
    )


def test_the_image_has_a_colour_emoji_font_for_the_reports_marks(docker_client: Any, cml_image: str) -> None:
    # The report's 🟢/🔴 need a colour emoji font wherever the image's Chromium draws them.
    code, out = run(docker_client, cml_image, "sh", "-c", "ls /usr/share/fonts/truetype/noto/")
    assert code == 0, out
    assert "NotoColorEmoji.ttf" in out.split()


def test_report_renders_a_png_with_the_images_chromium(
    docker_client: Any, cml_image: str, tmp_path: Path
) -> None:
    work = project(tmp_path / "work")
    volumes = {str(work): {"bind": "/work", "mode": "rw"}}
    code, out = run(docker_client, cml_image, *REPORT, volumes=volumes, working_dir="/work")
    assert code == 0, out
    (png,) = (work / "cml-report").glob("*.png")
    assert png_size(png) >= (400, 300)
    assert png.stat().st_size > 5000
    assert f"]({png.name})" in (work / "cml-report" / "report.md").read_text()


def test_cml_run_reports_in_the_image_as_the_caller(
    cml_image: str, cml_env: dict[str, str], tmp_path: Path
) -> None:
    uid = gid = 4321 if os.geteuid() == 0 else os.geteuid()
    if os.geteuid() != 0:
        gid = os.getegid()
    work = project(tmp_path / "work")
    for path in (work, *work.rglob("*")):
        os.chown(path, uid, gid, follow_symlinks=False)
    prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] if os.geteuid() == 0 else []
    env = {**cml_env, "HOME": str(work), "PYTHONPATH": str(ROOT)}
    argv = [*prefix, sys.executable, "-m", "cml", "run", "--image", cml_image, "--pull", "never"]
    argv += ["--network", "none", "--", "cml", *REPORT]
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (png,) = (work / "cml-report").glob("*.png")
    assert png_size(png) >= (400, 300)
    assert png.stat().st_size > 5000
    assert {(p.stat().st_uid, p.stat().st_gid) for p in (png, png.parent)} == {(uid, gid)}
