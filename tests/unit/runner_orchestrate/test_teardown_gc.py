"""teardown, status and gc leave zero runners behind, on the host and on the forge."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from cml.errors import ForgeError
from cml.runner import provision
from cml.runner.provision import GcOptions, LaunchOptions, TeardownOptions
from tests.unit.runner_orchestrate.conftest import World, host
from tests.unit.runner_orchestrate.standins import FakeGitLabRunners, gitlab, make_parts

EPOCH = "1970-01-01T00:00:01Z"  # how the job-completed hook writes a time (UTC)


def _files(world: World, address: str = "gpu1") -> list[str]:
    folder = world.home(host(address)) / ".cml-runner"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _set(world: World, name: str, **values: object) -> None:
    path = world.home(host()) / ".cml-runner" / f"{name}.state"
    lines = [line for line in path.read_text().splitlines() if line.split("=", 1)[0] not in values]
    path.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n")


def test_teardown_of_service_runners_uses_a_fresh_remove_token(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(mode="service", count=2), world.parts, world.step(h))
    assert [c for c in world.api.calls if c == "registration_token"] == ["registration_token"]  # one per host
    for name in ("cml-gpu1-1", "cml-gpu1-2"):  # config.sh registered them: the forge lists them now
        world.api._add(name, ["self-hosted"])
    result = provision.teardown(h, TeardownOptions(), world.parts, world.step(h))
    assert (result.ok, result.action, result.runners) == (True, "removed", ("cml-gpu1-1", "cml-gpu1-2"))
    assert world.api.held == {}
    assert _files(world) == []
    assert world.api.calls.count("remove_token") == 2
    log = (world.home(h) / "calls.log").read_text()
    assert "teardown.sh token" in log
    for secret in world.api.secrets:
        assert secret not in world.everything_written()


def test_teardown_of_an_unreachable_host_deletes_through_the_api(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(count=2), world.parts, world.step(h))
    world.api._add("cml-gpu10-1", [])  # another host's runner: untouched
    world.hosts.down.add("gpu1")
    result = provision.teardown(h, TeardownOptions(), world.parts, world.step(h))
    assert (result.ok, result.action) == (True, "removed")
    assert result.message.startswith(
        "host unreachable (root@gpu1:22: connection refused): deleted 2 runner(s)"
    )
    assert sorted(world.api.by_name()) == ["cml-gpu10-1"]


def test_teardown_of_a_busy_runner_names_it(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    rid = world.api.by_name()["cml-gpu1-1"].id
    world.api.held[rid] = replace(world.api.held[rid], busy=True)
    with pytest.raises(ForgeError, match="runner cml-gpu1-1 is running a job"):
        provision.teardown(h, TeardownOptions(), world.parts, world.step(h))


def test_teardown_dry_run_removes_nothing(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    result = provision.teardown(h, TeardownOptions(dry_run=True), world.parts, world.step(h))
    assert (result.action, result.details) == ("planned", {"cml-gpu1-1": "would be removed"})
    assert list(world.api.by_name()) == ["cml-gpu1-1"]
    assert _files(world) == ["cml-gpu1-1.state"]


def test_status_shows_both_sides(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    result = provision.status(h, TeardownOptions(), world.parts, world.step(h))
    assert (result.ok, result.action, result.runners) == (True, "running", ("cml-gpu1-1",))
    assert result.details["cml-gpu1-1"].startswith("jit running; online, idle ")
    world.hosts.down.add("gpu1")
    down = provision.status(h, TeardownOptions(), world.parts, world.step(h))
    assert (down.ok, down.action, down.runners) == (False, "unreachable", ("cml-gpu1-1",))


def test_gc_removes_offline_cml_runners_only(world: World) -> None:
    for name, online, busy in (("cml-a-1", False, False), ("cml-b-1", True, False), ("theirs", False, False)):
        rid = world.api._add(name, [])
        world.api.held[rid] = replace(world.api.held[rid], online=online, busy=busy)
    step = world.step(host())
    planned = provision.gc_offline(GcOptions(dry_run=True), world.parts, step)
    assert (planned.action, planned.runners) == ("planned", ("cml-a-1",))
    assert len(world.api.held) == 3
    result = provision.gc_offline(GcOptions(), world.parts, step)
    assert (result.action, result.runners, result.host) == ("removed", ("cml-a-1",), world.api.url)
    assert sorted(world.api.by_name()) == ["cml-b-1", "theirs"]


def test_gc_idle_timeout_uses_the_hosts_clock_and_the_busy_flag(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(mode="jit", count=4), world.parts, world.step(h))
    _set(world, "cml-gpu1-1", last_job_completed_at=EPOCH)  # idle for decades
    _set(world, "cml-gpu1-2", last_job_completed_at=EPOCH)  # idle, but the forge says busy
    rid = world.api.by_name()["cml-gpu1-2"].id
    world.api.held[rid] = replace(world.api.held[rid], busy=True)
    _set(world, "cml-gpu1-3", started_at="")  # no job yet and no start time: kept, never a guess
    # cml-gpu1-4 started a moment ago: not idle for 30 minutes
    result = provision.gc(h, GcOptions(idle_timeout=1800), world.parts, world.step(h))
    assert (result.action, result.runners) == ("removed", ("cml-gpu1-1",))
    assert sorted(world.api.by_name()) == ["cml-gpu1-2", "cml-gpu1-3", "cml-gpu1-4"]
    assert _files(world) == ["cml-gpu1-2.state", "cml-gpu1-3.state", "cml-gpu1-4.state"]


def test_gc_uses_the_idle_timeout_recorded_at_launch(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(idle_timeout=60), world.parts, world.step(h))
    _set(world, "cml-gpu1-1", last_job_completed_at=EPOCH)
    result = provision.gc(h, GcOptions(), world.parts, world.step(h))
    assert result.runners == ("cml-gpu1-1",)
    assert world.api.held == {}


def test_gitlab_runs_one_job_per_runner_and_teardown_deletes_through_the_api(
    world: World, tmp_path: Path
) -> None:
    api = FakeGitLabRunners()
    package = tmp_path / "actions-runner.tar.gz"
    api.package_sha256 = hashlib.sha256(package.read_bytes()).hexdigest()
    parts, _ = make_parts(world.hosts, gitlab(api), package)
    h = host()
    result = provision.launch(h, LaunchOptions(labels=("gpu",), count=2), parts, world.step(h))
    assert result.action == "launched"
    assert [c.split()[0] for c in api.calls].count("create_runner") == 2
    state = (world.home(h) / ".cml-runner" / "cml-gpu1-1.state").read_text()
    assert "mode=single\n" in state  # GitLab has no JIT runners: one job, then gone
    assert (
        provision.launch(h, LaunchOptions(labels=("gpu",), count=2), parts, world.step(h)).action
        == "unchanged"
    )
    provision.teardown(h, TeardownOptions(), parts, world.step(h))
    assert api.held == {}
    assert _files(world) == []
    assert "remove_token" not in api.calls
