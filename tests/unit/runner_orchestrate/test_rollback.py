"""A launch that cannot finish leaves nothing behind (issue item 6), and a rerun converges."""

from __future__ import annotations

import pytest

from cml.errors import ForgeError, HostError
from cml.runner import provision
from cml.runner.parts import Interrupted
from cml.runner.provision import LaunchOptions
from tests.unit.runner_orchestrate.conftest import World, host


def _runner_files(world: World) -> list[str]:
    folder = world.home(host()) / ".cml-runner"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_failed_install_deletes_the_runner_it_registered(world: World) -> None:
    h = host()
    (world.home(h) / "fail-install").touch()
    with pytest.raises(
        HostError, match=r"^host root@gpu1:22: installing cml-gpu1-1 failed: config.sh refused the runner$"
    ):
        provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    assert world.api.held == {}
    assert any(c.startswith("delete ") for c in world.api.calls)
    assert _runner_files(world) == []


def test_a_lost_connection_mid_install_is_rolled_back_and_a_rerun_converges(world: World) -> None:
    h = host()
    world.hosts.lose_on["gpu1"] = "install-github.sh"
    with pytest.raises(HostError, match="connection lost"):
        provision.launch(h, LaunchOptions(count=2), world.parts, world.step(h))
    assert world.api.held == {}
    # the rollback reconnected and ran teardown.sh for the runner it had started
    assert any("teardown.sh" in line for line in world.hosts.log["gpu1"])
    again = provision.launch(h, LaunchOptions(count=2), world.parts, world.step(h))
    assert again.action == "launched"
    assert sorted(world.api.by_name()) == ["cml-gpu1-1", "cml-gpu1-2"]
    assert _runner_files(world) == ["cml-gpu1-1.state", "cml-gpu1-2.state"]


def test_ctrl_c_between_steps_rolls_back(world: World) -> None:
    h = host()
    step = world.step(h)

    def report(name: str, text: str) -> None:
        if text == "start cml-gpu1-2":  # Ctrl-C arrives once runner 2 has its JIT config
            step.cancel.set()

    step.report = report
    with pytest.raises(Interrupted, match="interrupted during start cml-gpu1-2") as caught:
        provision.launch(h, LaunchOptions(count=2), world.parts, step)
    assert caught.value.exit_code == 130
    assert world.api.held == {}
    assert _runner_files(world) == []


def test_the_host_timeout_rolls_back(world: World) -> None:
    h = host()
    step = world.step(h, timeout=60)

    def report(name: str, text: str) -> None:
        if text == "start cml-gpu1-1":
            step.started -= 120  # two minutes pass

    step.report = report
    with pytest.raises(HostError, match=r"root@gpu1:22: timed out after 60 s during start cml-gpu1-1"):
        provision.launch(h, LaunchOptions(), world.parts, step)
    assert world.api.held == {}


def test_a_forge_error_while_minting_leaves_the_runners_already_started_removed(world: World) -> None:
    h = host()
    world.api.fail_on["jit_config"] = ForgeError("GitHub answered 500", status=500)
    with pytest.raises(ForgeError, match="500"):
        provision.launch(h, LaunchOptions(), world.parts, world.step(h))
    assert world.api.held == {}
    assert _runner_files(world) == []


def test_service_mode_rollback_finds_the_runner_by_name(world: World) -> None:
    """A registration-token runner's id is only known from the forge's list: rollback looks it up."""
    h = host()
    world.hosts.lose_on["gpu1"] = "install-github.sh"
    # config.sh registered the runner, then the link dropped
    world.hosts.on_lose = lambda: world.api._add("cml-gpu1-1", ["self-hosted"]) and None
    with pytest.raises(HostError):
        provision.launch(h, LaunchOptions(mode="service"), world.parts, world.step(h))
    assert world.api.calls[-2:-1] == ["runners cml-gpu1-"]  # rollback looked it up by name
    assert world.api.held == {}
