"""Fixtures: stand-in hosts under tmp_path, an in-memory GitHub runner API, parts wired to them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from cml.runner import Host, Package
from cml.runner.parts import Parts, Step
from tests.unit.runner_orchestrate.standins import FakeGitHubRunners, Hosts, github, make_parts


@dataclass
class World:
    """Everything a test looks at afterwards."""

    hosts: Hosts
    api: FakeGitHubRunners
    parts: Parts
    fetched: list[Package]
    steps: list[tuple[str, str]]

    def step(self, host: Host, timeout: float | None = None) -> Step:
        return Step(host=host.name, report=lambda h, text: self.steps.append((h, text)), timeout=timeout)

    def home(self, host: Host) -> Path:
        return self.hosts.home(host)

    def everything_written(self) -> str:
        """Every file under every host's home, and every command run there, as one text."""
        files = [p.read_bytes().decode(errors="replace") for p in self.hosts.base.rglob("*") if p.is_file()]
        commands = [line for log in self.hosts.log.values() for line in log]
        return "\n".join(files + commands)


@pytest.fixture
def world(tmp_path: Path) -> World:
    package = tmp_path / "actions-runner.tar.gz"
    package.write_bytes(b"fake runner package")
    hosts = Hosts(base=tmp_path / "hosts")
    api = FakeGitHubRunners()
    api.package_sha256 = hashlib.sha256(package.read_bytes()).hexdigest()
    parts, fetched = make_parts(hosts, github(api), package)
    return World(hosts=hosts, api=api, parts=parts, fetched=fetched, steps=[])


def host(address: str = "gpu1", **kw: object) -> Host:
    return Host(user="root", address=address, **kw)  # type: ignore[arg-type]
