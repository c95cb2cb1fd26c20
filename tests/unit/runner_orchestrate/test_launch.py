"""provision.launch on one stand-in host: registers, converges, changes labels in place, dry-runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cml.errors import ConfigError
from cml.runner import provision
from cml.runner.provision import LaunchOptions
from tests.unit.runner_orchestrate.conftest import World, host
from tests.unit.runner_orchestrate.standins import GPU_PROBE


def _state(world: World, name: str) -> dict[str, str]:
    text = (world.home(host()) / ".cml-runner" / f"{name}.state").read_text()
    return dict(line.split("=", 1) for line in text.splitlines())


def test_launch_registers_a_jit_runner_with_probe_and_user_labels(world: World) -> None:
    h = host()
    result = provision.launch(h, LaunchOptions(labels=("train",)), world.parts, world.step(h))
    assert (result.ok, result.action, result.runners) == (True, "launched", ("cml-gpu1-1",))
    assert result.labels == ("self-hosted", "linux", "x64", "train")
    remote = world.api.by_name()["cml-gpu1-1"]
    assert remote.labels == result.labels
    state = _state(world, "cml-gpu1-1")
    assert (state["mode"], state["labels"], state["id"]) == (
        "jit",
        "self-hosted,linux,x64,train",
        str(remote.id),
    )
    assert [c.split()[0] for c in world.api.calls] == ["runners", "package", "jit_config"]
    assert "jitconfig" in (world.home(h) / "calls.log").read_text()  # the secret came on stdin


def test_no_secret_reaches_argv_files_or_output(world: World) -> None:
    h = host()
    result = provision.launch(h, LaunchOptions(count=2), world.parts, world.step(h))
    assert len(world.api.secrets) == 2
    seen = world.everything_written() + repr(result) + repr(world.steps)
    for secret in world.api.secrets:
        assert secret not in seen


def test_a_rerun_with_the_same_inputs_changes_nothing(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(count=2), world.parts, world.step(h))
    calls, log = len(world.api.calls), len(world.hosts.log["gpu1"])
    again = provision.launch(h, LaunchOptions(count=2), world.parts, world.step(h))
    assert (again.action, again.message) == ("unchanged", "unchanged 2")
    assert world.api.calls[calls:] == ["runners cml-gpu1-"]  # one listing, no token minted
    assert [c for c in world.hosts.log["gpu1"][log:] if c.startswith("put")] == []
    assert len(world.fetched) == 1


def test_changed_labels_are_applied_in_place(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(labels=("a",)), world.parts, world.step(h))
    rid = world.api.by_name()["cml-gpu1-1"].id
    result = provision.launch(h, LaunchOptions(labels=("b",), idle_timeout=600), world.parts, world.step(h))
    assert (result.action, result.details["cml-gpu1-1"]) == ("updated", "updated")
    assert world.api.by_name()["cml-gpu1-1"].id == rid  # the same runner, not a new one
    assert world.api.by_name()["cml-gpu1-1"].labels == ("self-hosted", "linux", "x64", "b")
    assert _state(world, "cml-gpu1-1")["labels"] == "self-hosted,linux,x64,b"
    assert _state(world, "cml-gpu1-1")["idle_timeout"] == "600"
    assert not [c for c in world.api.calls if c.startswith("jit_config")][1:]


def test_a_runner_gone_from_the_forge_is_replaced(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    world.api.held.clear()  # the JIT runner took its job and the forge removed it
    result = provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    assert (result.action, result.details["cml-gpu1-1"]) == ("launched", "replaced")
    assert list(world.api.by_name()) == ["cml-gpu1-1"]


def test_count_down_removes_the_extra_runners(world: World) -> None:
    h = host()
    provision.launch(h, LaunchOptions(count=3), world.parts, world.step(h))
    result = provision.launch(h, LaunchOptions(count=1), world.parts, world.step(h))
    assert result.details["cml-gpu1-3"] == "removed"
    assert sorted(world.api.by_name()) == ["cml-gpu1-1"]
    assert sorted(p.name for p in (world.home(h) / ".cml-runner").iterdir()) == ["cml-gpu1-1.state"]


def test_dry_run_registers_nothing_and_shows_the_plan(world: World) -> None:
    h = host()
    world.hosts.probes["gpu1"] = GPU_PROBE
    result = provision.launch(h, LaunchOptions(dry_run=True, gpu=True), world.parts, world.step(h))
    assert (result.ok, result.action) == (True, "planned")
    assert result.labels == ("self-hosted", "linux", "arm64", "gpu", "gpus-2")
    assert result.details["gpus"] == "NVIDIA A100 (40960 MiB), NVIDIA A100 (40960 MiB)"
    assert result.details["package"] == (
        f"actions-runner-linux-arm64-2.320.0.tar.gz 2.320.0 sha256:{world.api.package_sha256}"
    )
    assert result.details["cml-gpu1-1"] == "would be installed"
    assert world.api.held == {}
    assert not any(c.startswith(("jit_config", "registration_token")) for c in world.api.calls)
    puts = [c for c in world.hosts.log["gpu1"] if c.startswith("put")]
    assert puts
    assert all("/.cache/cml-runner/scripts-" in c for c in puts)
    assert not [c for c in world.hosts.log["gpu1"] if "install-" in c and c.startswith("run")]
    assert world.fetched == []


def test_dry_run_without_a_token_consults_no_forge(world: World) -> None:
    h = host()
    parts = replace(world.parts, registrar=None, packages=None)
    result = provision.launch(h, LaunchOptions(dry_run=True), parts, world.step(h))
    assert result.action == "planned"
    assert "not consulted" in result.details["forge"]
    assert world.api.calls == []


def test_gpu_required_on_a_host_without_one(world: World) -> None:
    h = host()
    with pytest.raises(ConfigError, match=r"root@gpu1:22: --gpu: no working NVIDIA GPU"):
        provision.launch(h, LaunchOptions(gpu=True), world.parts, world.step(h))
    assert world.api.held == {}


def test_a_gpu_host_without_the_toolkit_gets_a_warning_naming_the_fix(world: World) -> None:
    h = host()
    world.hosts.probes["gpu1"] = GPU_PROBE
    result = provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    assert "--gpu-setup" in result.details["warning"]
    assert "gpu-setup.sh" not in (world.home(h) / "calls.log").read_text()
    with_setup = provision.launch(h, LaunchOptions(gpu_setup=True, count=2), world.parts, world.step(h))
    assert "warning" not in with_setup.details
    assert with_setup.details["gpu-setup"] == "docker sees 2 GPU(s) (toolkit present)"
    assert "gpu-setup.sh ran" in (world.home(h) / "calls.log").read_text()


def test_the_package_is_fetched_once_per_arch(world: World) -> None:
    for address in ("a", "b"):
        h = host(address)
        provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    assert len(world.fetched) == 1
