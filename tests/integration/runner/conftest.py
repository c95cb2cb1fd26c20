"""Fixtures for the runner tests: real sshd servers on loopback addresses (see ``sshd.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runner.sshd import Lab, can_run, lab_folder, make_sysbin


@pytest.fixture(scope="session")
def sysbin() -> Iterator[Path]:
    """The system's programs less docker, systemd and NVIDIA tools (shared by every fake host)."""
    why = can_run()
    if why:
        pytest.skip(f"no fake SSH hosts: {why}")
    root = lab_folder()
    yield make_sysbin(root / "sysbin")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def ssh_lab(sysbin: Path) -> Iterator[Lab]:
    """A :class:`Lab`: ``ssh_lab.host(arch=..., gpus=..., docker=..., systemd=..., known=...)`` starts a
    fake host; every host and the processes it started are stopped after the test."""
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    root = lab_folder()
    lab = Lab(root=root / "lab", sysbin=sysbin)
    try:
        yield lab
    finally:
        lab.stop()
        shutil.rmtree(root, ignore_errors=True)
