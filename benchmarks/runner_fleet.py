"""How long `cml runner launch` takes for 8 hosts against 1, and how long a no-op rerun takes.

Run: ``/work/main/.venv/bin/python benchmarks/runner_fleet.py [--standin]``.
Targets (issue 8): 8 loopback hosts <= 2x the time for one host (``--parallel 8``), and a rerun that
changes nothing <= 25 % of the first run. Prints both ratios.

Default: real OpenSSH servers on 127.0.0.2..9 (the sshd fixture factory in
``tests/integration/runner/sshd.py``), the fake GitHub with its runner endpoints, the fake release
server and fake runner packages — the whole path a user's launch takes, over SSH and HTTP.
``--standin``: the same orchestration over the unit tests' stand-ins (``sh -c`` "hosts", an in-memory
runner API), each remote command and copy delayed by ``--latency`` ms (default 20, an SSH channel on a
LAN); it measures how well cml overlaps hosts, without SSH. With ``--latency 0`` on 2 cores the local
``sh`` processes themselves are the bottleneck and the ratio says nothing about a fleet.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from _common import use_test_fakes

from cml.runner import Host, HostResult, fleet
from cml.runner.parts import Parts
from cml.runner.provision import LaunchOptions

use_test_fakes()

HOSTS = 8
TARGET_FLEET, TARGET_RERUN = 2.0, 0.25
TOKEN = "ghp_" + "Bench0123456789abcdef" * 2  # the fake forge's own token
REPO = "acme/app"

Launch = Callable[[Sequence[Host]], list[HostResult]]


def timed(launch: Launch, hosts: Sequence[Host], expect: str) -> float:
    """Seconds ``launch(hosts)`` takes; every host must end with the action ``expect``."""
    start = time.perf_counter()
    results = launch(hosts)
    elapsed = time.perf_counter() - start
    bad = [f"{r.host}: {r.action} {r.message}" for r in results if r.action != expect]
    if bad:
        raise SystemExit(f"benchmark: expected {expect!r} everywhere, got: {bad}")
    return elapsed


def launcher(parts: Parts) -> Launch:
    """``fleet.launch`` with every host at once and progress into a buffer (not timed on a terminal)."""
    settings = fleet.Settings(parallel=HOSTS, timeout=600, out=io.StringIO())
    return lambda hosts: fleet.launch(hosts, LaunchOptions(labels=("bench",)), parts, settings)


class _Slow:
    """A Machine whose every command and copy first waits ``delay`` seconds (the network's share)."""

    def __init__(self, machine: Any, delay: float) -> None:
        self.host, self._machine, self._delay = machine.host, machine, delay

    def run(self, command: str, *, stdin: bytes = b"", timeout: float | None = None) -> Any:
        time.sleep(self._delay)
        return self._machine.run(command, stdin=stdin, timeout=timeout)

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        time.sleep(self._delay)
        self._machine.put(data, path, mode=mode)

    def close(self) -> None:
        self._machine.close()


@contextlib.contextmanager
def standin_world(tmp: Path, latency: float) -> Iterator[tuple[list[Host], Parts]]:
    """Stand-in hosts (``sh -c`` under ``tmp``) and the in-memory GitHub runner API of the unit tests."""
    from tests.unit.runner_orchestrate.standins import FakeGitHubRunners, Hosts, github, make_parts

    package = tmp / "actions-runner.tar.gz"
    package.write_bytes(b"\0" * (1 << 20))  # copied to each host like a (small) runner package
    hosts = Hosts(base=tmp / "hosts")

    @contextlib.contextmanager
    def connect(host: Host) -> Iterator[Any]:
        time.sleep(latency * 3)  # TCP, key exchange, authentication
        with hosts.connect(host) as machine:
            yield _Slow(machine, latency)

    api = FakeGitHubRunners()
    api.package_sha256 = hashlib.sha256(package.read_bytes()).hexdigest()
    parts, _ = make_parts(hosts, github(api), package)
    yield [Host(user="root", address=f"bench{i}") for i in range(HOSTS + 2)], replace(parts, connect=connect)


@contextlib.contextmanager
def real_world(tmp: Path, latency: float) -> Iterator[tuple[list[Host], Parts]]:
    """Real sshd per loopback address (``tests/integration/runner/sshd.py``), the fake GitHub with its
    runner endpoints, the fake release server with R3's fake runner packages, a real runner user."""
    from cml.ci import CIContext
    from cml.runner.parts import Access, real_parts
    from cml.runner.registrar import open_registrar
    from tests.fakes.github import FakeGitHub
    from tests.fakes.releases import FakeReleases, actions_runner
    from tests.fakes.runner_packages import github_package
    from tests.integration.runner import sshd

    if sshd.can_run():
        raise SystemExit(f"benchmark: no loopback sshd hosts here: {sshd.can_run()}")
    tmp.chmod(0o755)  # the runner user reaches the packages' record folder
    created = _runner_user()
    lab = sshd.temp_lab()
    try:
        with FakeGitHub() as fake, FakeReleases() as releases:
            fake.add_repo(REPO)
            fake.add_token(TOKEN, "ada")
            (tmp / "pkg").mkdir()
            tarballs = {
                a: github_package(tmp / "pkg", tmp / "record", arch=a).read_bytes() for a in ("x64", "arm64")
            }
            actions_runner(fake, releases, tarballs)
            hosts = [lab.host(env={"CML_RUNNER_USER": RUNNER_USER}).host for _ in range(HOSTS + 2)]
            ctx = CIContext(
                provider="local",
                forge="github",
                repo=REPO,
                sha="0" * 40,
                server_url=fake.html_root,
                api_url=fake.url,
                workdir=tmp,
            )
            access = Access(identity=str(lab.identity), known_hosts=lab.known_hosts)
            registrar = open_registrar(ctx, TOKEN, {})
            yield hosts, real_parts(access, registrar, cache=tmp / "cache")
    finally:
        sshd.remove(lab)
        for _ in range(50 if created else 0):  # until the runners' last processes are reaped
            if subprocess.run(["userdel", RUNNER_USER], capture_output=True, check=False).returncode != 8:
                break
            time.sleep(0.1)


RUNNER_USER = "cml-bench-runner"


def _runner_user() -> bool:
    """Create the runner user the hosts' scripts use (``CML_RUNNER_USER``); True when created here."""
    if subprocess.run(["id", "-u", RUNNER_USER], capture_output=True, check=False).returncode == 0:
        return False
    argv = ["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/bin/sh", RUNNER_USER]
    subprocess.run(argv, check=True, capture_output=True)
    return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standin", action="store_true", help="stand-in hosts and forge: no SSH, no HTTP")
    parser.add_argument("--latency", type=float, default=20, help="--standin: ms added to each remote call")
    args = parser.parse_args(argv)
    world = standin_world if args.standin else real_world
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        world(Path(tmp_name), args.latency / 1000) as (hosts, parts),
    ):
        launch = launcher(parts)
        warm, single, fleet_hosts = hosts[0], hosts[1], hosts[2 : 2 + HOSTS]
        timed(launch, [warm], "launched")  # the package is fetched into the controller's cache once
        one = timed(launch, [single], "launched")
        many = timed(launch, fleet_hosts, "launched")
        rerun = timed(launch, fleet_hosts, "unchanged")
    label = f"stand-in hosts ({args.latency:g} ms a call)" if args.standin else "loopback sshd hosts"
    print(f"{label}, parallel {HOSTS}")
    print(f"launch 1 host            {one:7.3f} s")
    print(
        f"launch {HOSTS} hosts           {many:7.3f} s  ({many / one:4.2f}x one host; target <= {TARGET_FLEET:g}x)"
    )
    print(
        f"no-op rerun, {HOSTS} hosts     {rerun:7.3f} s  ({rerun / many:4.2f} of the first run; target <= {TARGET_RERUN:g})"
    )


if __name__ == "__main__":
    main()
