"""runners/teardown.sh and runners/status.sh: runners gone (process, unit, folder, registration),
a second teardown says absent, status lists every runner's state in one call."""

from __future__ import annotations

import pytest

from tests.fakes import runner_packages as fake
from tests.integration.runner_scripts.conftest import (
    ROOT_ONLY,
    ProcSampler,
    World,
    alive,
    environ_holders,
    lines,
    wait_for,
)
from tests.leaks import leaks

pytestmark = [pytest.mark.slow, ROOT_ONLY]

REG = "AAREGISTRATIONTOKEN9876543210"
REMOVE = "AAREMOVETOKEN0123456789ABCDEF"
GLRT = "glrt-TeardownToken0123456789"


def _github_service(world: World, name: str) -> str:
    pkg = fake.github_package(world.root / "pkg", world.record)
    return lines(
        forge="github",
        mode="service",
        name=name,
        labels="gpu",
        package=str(pkg),
        url="https://github.com/acme/models",
        token=REG,
        runner_user=world.user,
        home=str(world.home),
        init="systemd",
    )


def _gitlab_service(world: World, name: str) -> str:
    binary = fake.gitlab_binary(world.root / "pkg", world.record)
    return lines(
        forge="gitlab",
        name=name,
        package=str(binary),
        url="https://gitlab.example.com",
        token=GLRT,
        executor="shell",
        runner_user=world.user,
        home=str(world.home),
        init="other",
    )


def test_github_teardown_stops_the_unit_removes_the_registration_and_the_folder_stand_in_systemctl(
    world: World,
) -> None:
    world.use_stand_ins()
    done = world.run("install-github.sh", _github_service(world, "rs-td"))
    assert done.code == 0, done.text
    assert wait_for(lambda: len(fake.calls(world.record, "run.sh")) == 1)
    pid = int((world.standin / "units" / "cml-runner-rs-td.pid").read_text())
    stdin = lines(forge="github", name="rs-td", token=REMOVE, runner_user=world.user, home=str(world.home))
    with ProcSampler() as sampler:
        gone = world.run("teardown.sh", stdin)
    assert gone.code == 0, gone.text
    assert gone.out == {"status": "removed", "name": "rs-td", "forge": "github", "deregistered": "yes"}
    remove = fake.calls(world.record, "config.sh")[-1]
    assert remove.argv == ("remove", "--unattended")
    assert remove.env["ACTIONS_RUNNER_INPUT_TOKEN"] == REMOVE
    assert not any(REMOVE in seen for seen in sampler.seen)
    assert not leaks(gone.text, REMOVE)
    assert environ_holders(REMOVE) == {}
    assert not alive(pid)
    assert not world.runner_dir("rs-td").exists()
    assert not (world.units / "cml-runner-rs-td.service").exists()
    again = world.run("teardown.sh", stdin)
    assert (again.code, again.out) == (0, {"status": "absent", "name": "rs-td"})


def test_github_teardown_without_a_remove_token_says_the_registration_is_left(world: World) -> None:
    world.use_stand_ins()
    assert world.run("install-github.sh", _github_service(world, "rs-td2")).code == 0
    gone = world.run("teardown.sh", lines(name="rs-td2", runner_user=world.user, home=str(world.home)))
    assert gone.code == 0, gone.text
    assert (gone.out["status"], gone.out["forge"], gone.out["deregistered"]) == ("removed", "github", "no")
    assert [c.argv[0] for c in fake.calls(world.record, "config.sh") if c.argv[:1] == ("remove",)] == []
    assert not world.runner_dir("rs-td2").exists()


def test_gitlab_teardown_unregisters_and_kills_the_process(world: World) -> None:
    done = world.run("install-gitlab.sh", _gitlab_service(world, "rs-gltd"))
    assert done.code == 0, done.text
    pid = int(done.out["pid"])
    assert alive(pid)
    gone = world.run("teardown.sh", lines(name="rs-gltd", runner_user=world.user, home=str(world.home)))
    assert gone.code == 0, gone.text
    assert (gone.out["status"], gone.out["forge"], gone.out["deregistered"]) == ("removed", "gitlab", "yes")
    [unregister] = fake.calls(world.record, "gitlab-runner-unregister")
    folder = world.runner_dir("rs-gltd")
    assert unregister.argv == ("--config", f"{folder}/config.toml", "--name", "rs-gltd")
    assert wait_for(lambda: not alive(pid))
    assert not folder.exists()


def test_teardown_of_a_runner_that_never_was_is_absent(world: World) -> None:
    done = world.run("teardown.sh", lines(name="rs-never", runner_user=world.user, home=str(world.home)))
    assert (done.code, done.lines) == (0, ["status=absent", "name=rs-never"])
    no_user = world.run("teardown.sh", lines(name="rs-never", runner_user="cml-no-such-user"))
    assert (no_user.code, no_user.lines) == (0, ["status=absent", "name=rs-never"])


def test_status_lists_every_runner_with_its_state_in_one_call(world: World) -> None:
    world.use_stand_ins()
    assert world.run("install-github.sh", _github_service(world, "rs-st1")).code == 0
    assert world.run("install-gitlab.sh", _gitlab_service(world, "rs-st2")).code == 0
    done = world.run("status.sh", lines(runner_user=world.user, home=str(world.home)))
    assert done.code == 0, done.text
    assert done.lines[0] == f"home={world.home}"
    assert done.lines[-1] == "count=2"
    blocks: dict[str, dict[str, str]] = {}
    for line in done.lines[1:-1]:
        key, value = line.split("=", 1)
        if key == "runner":
            current = blocks.setdefault(value, {})
        else:
            current[key] = value
    assert set(blocks) == {"rs-st1", "rs-st2"}
    assert blocks["rs-st1"]["forge"] == "github"
    assert blocks["rs-st1"]["unit"] == "cml-runner-rs-st1"
    assert blocks["rs-st1"]["alive"] == "yes"
    assert blocks["rs-st2"]["forge"] == "gitlab"
    assert blocks["rs-st2"]["alive"] == "yes"
    assert int(blocks["rs-st2"]["pid"]) > 1
    for block in blocks.values():
        assert {"mode", "labels", "package_sha256", "started_at", "user", "init"} <= set(block)
    assert not leaks(done.text, REG)
    assert not leaks(done.text, GLRT)


def test_status_without_the_runner_user_reports_none(world: World) -> None:
    done = world.run("status.sh", lines(runner_user="cml-no-such-user"))
    assert (done.code, done.lines) == (0, ["count=0"])
