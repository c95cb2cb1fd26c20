"""The image's entrypoint (image/entrypoint.sh) in a real container: cml commands to cml, the rest as is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cml.cli import COMMANDS

pytestmark = pytest.mark.slow

DOCKER_DIR = Path(__file__).resolve().parents[3] / "image"


@pytest.fixture
def run_entrypoint(docker_client: Any, image: str, tmp_path: Path) -> Any:
    """Run the entrypoint with ARGS in the busybox image, a fake ``cml`` that echoes its argv on PATH."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "cml").write_text('#!/bin/sh\necho "cml $*"\n')
    (fake / "cml").chmod(0o755)
    (tmp_path / "commands").write_text("\n".join(COMMANDS) + "\n")

    def run(*args: str) -> tuple[int, str]:
        container = docker_client.containers.create(
            image,
            command=list(args),
            entrypoint=["/cml-docker/entrypoint.sh"],
            environment={"CML_COMMANDS_FILE": "/cml-test/commands"},
            volumes={
                str(DOCKER_DIR): {"bind": "/cml-docker", "mode": "ro"},
                str(fake): {"bind": "/usr/local/bin", "mode": "ro"},
                str(tmp_path): {"bind": "/cml-test", "mode": "ro"},
            },
            network_mode="none",
        )
        try:
            container.start()
            code = container.wait(timeout=60)["StatusCode"]
            return code, container.logs().decode()
        finally:
            container.remove(force=True)

    return run


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("comment", "update", "report.md"), "cml comment update report.md\n"),
        (("run", "--image", "x", "--", "true"), "cml run --image x -- true\n"),
        (("--version",), "cml --version\n"),
        ((), "cml --help\n"),
        (("cml", "publish", "a.png"), "cml publish a.png\n"),
        (("echo", "comment"), "comment\n"),
        (("sh", "-c", "echo from a shell"), "from a shell\n"),
    ],
)
def test_cml_commands_go_to_cml_and_the_rest_runs(
    run_entrypoint: Any, args: tuple[str, ...], expected: str
) -> None:
    assert run_entrypoint(*args) == (0, expected)


def test_a_plain_command_keeps_its_exit_code(run_entrypoint: Any) -> None:
    assert run_entrypoint("sh", "-c", "exit 7") == (7, "")
