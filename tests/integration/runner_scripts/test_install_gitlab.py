"""runners/install-gitlab.sh run locally with sh: docker (GPU) and shell executors, service and one-job
modes; the glrt- token reaches register only through CI_SERVER_TOKEN and then lives in config.toml (0600)."""

from __future__ import annotations

import pwd
import stat

import pytest

from tests.fakes import runner_packages as fake
from tests.integration.runner_scripts.conftest import (
    ROOT_ONLY,
    ProcSampler,
    World,
    alive,
    environ_holders,
    files_holding,
    lines,
    wait_for,
)
from tests.leaks import leaks

pytestmark = [pytest.mark.slow, ROOT_ONLY]

TOKEN = "glrt-t1_SecretAuthToken0123456789"


def _stdin(world: World, name: str, **extra: str) -> str:
    binary = fake.gitlab_binary(world.root / "pkg", world.record)
    values = {
        "forge": "gitlab",
        "mode": "service",
        "name": name,
        "package": str(binary),
        "url": "https://gitlab.example.com",
        "token": TOKEN,
        "executor": "docker",
        "docker_image": "nvidia/cuda:12.4.1-base-ubuntu22.04",
        "gpu": "1",
        "labels": "gpu,cuda-12",
        "runner_user": world.user,
        "home": str(world.home),
        "init": "other",
        "id": "77",
    }
    values.update(extra)
    return lines(**{k: v for k, v in values.items() if v != ""})


def test_docker_gpu_service_registers_with_the_token_in_the_environment_only(world: World) -> None:
    with ProcSampler() as sampler:
        done = world.run("install-gitlab.sh", _stdin(world, "rs-gl"))
    assert done.code == 0, done.text
    assert (done.out["status"], done.out["mode"], done.out["executor"]) == ("started", "service", "docker")
    [register] = fake.calls(world.record, "gitlab-runner-register")
    folder = world.runner_dir("rs-gl")
    assert register.argv == (
        "--non-interactive", "--config", f"{folder}/config.toml", "--url", "https://gitlab.example.com",
        "--name", "rs-gl", "--executor", "docker",
        "--docker-image", "nvidia/cuda:12.4.1-base-ubuntu22.04", "--docker-gpus", "all",
    )  # fmt: skip
    uid = pwd.getpwnam(world.user).pw_uid
    assert register.env["CI_SERVER_TOKEN"] == TOKEN
    assert register.uid == uid
    assert any("gitlab-runner register" in seen for seen in sampler.seen)
    assert not any(TOKEN in seen for seen in sampler.seen)
    config = folder / "config.toml"
    info = config.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, uid)
    assert files_holding(world.root, TOKEN, skip=world.record) == [config]
    assert wait_for(lambda: len(fake.calls(world.record, "gitlab-runner-run")) == 1)
    [run] = fake.calls(world.record, "gitlab-runner-run")
    assert run.argv == ("--config", f"{folder}/config.toml", "--working-directory", str(folder))
    assert "CI_SERVER_TOKEN" not in run.env
    assert run.uid == uid
    assert environ_holders(TOKEN) == {}
    assert not leaks(done.text, TOKEN)
    state = world.state("rs-gl")
    assert (state["forge"], state["id"], state["gpu"], state["executor"]) == ("gitlab", "77", "1", "docker")
    assert (folder / "gitlab-runner").stat().st_uid == uid


def test_shell_executor_one_job_runs_run_single_and_ends_stand_in_systemd_run(world: World) -> None:
    world.use_stand_ins()
    stdin = _stdin(world, "rs-glone", mode="jit", executor="shell", docker_image="", init="systemd")
    done = world.run("install-gitlab.sh", stdin)
    assert done.code == 0, done.text
    assert (done.out["mode"], done.out["init"], done.out["unit"]) == (
        "single",
        "systemd",
        "cml-runner-rs-glone",
    )
    [register] = fake.calls(world.record, "gitlab-runner-register")
    assert "--docker-image" not in register.argv
    assert "--docker-gpus" not in register.argv
    assert register.argv[-2:] == ("--executor", "shell")
    calls = (world.standin / "calls").read_text()
    assert "systemd-run" in calls
    assert TOKEN not in calls
    assert not (world.standin / "envfiles").exists()  # no secret to pass: run-single reads config.toml
    assert wait_for(lambda: len(fake.calls(world.record, "gitlab-runner-run-single")) == 1)
    [single] = fake.calls(world.record, "gitlab-runner-run-single")
    folder = world.runner_dir("rs-glone")
    assert single.argv == ("--config", f"{folder}/config.toml", "--runner", "rs-glone", "--max-builds", "1")
    pid = int((world.standin / "units" / "cml-runner-rs-glone.pid").read_text())
    fake.trigger_job(folder)
    assert wait_for(lambda: not alive(pid))


def test_service_under_systemd_installs_a_unit_stand_in_systemctl(world: World) -> None:
    world.use_stand_ins()
    done = world.run("install-gitlab.sh", _stdin(world, "rs-glsvc", init="systemd"))
    assert done.code == 0, done.text
    folder = world.runner_dir("rs-glsvc")
    unit = (world.units / "cml-runner-rs-glsvc.service").read_text()
    assert (
        f"ExecStart={folder}/gitlab-runner run --config {folder}/config.toml --working-directory {folder}"
        in unit.splitlines()
    )
    assert f"User={world.user}" in unit
    assert TOKEN not in unit
    assert wait_for(lambda: len(fake.calls(world.record, "gitlab-runner-run")) == 1)


def test_a_rerun_is_unchanged_and_an_executor_change_is_refused(world: World) -> None:
    first = world.run("install-gitlab.sh", _stdin(world, "rs-glre"))
    assert first.code == 0, first.text
    again = world.run("install-gitlab.sh", _stdin(world, "rs-glre"))
    assert (again.code, again.out["status"], again.out["changed"]) == (0, "unchanged", ""), again.text
    labels = world.run("install-gitlab.sh", _stdin(world, "rs-glre", labels="gpu"))
    assert (labels.out["status"], labels.out["changed"]) == ("updated", "labels")
    assert world.state("rs-glre")["labels"] == "gpu"
    other = world.run("install-gitlab.sh", _stdin(world, "rs-glre", executor="shell", docker_image=""))
    assert (other.code, other.lines) == (
        1,
        ["error=runner rs-glre is registered with executor docker; tear it down to change it"],
    )
    assert len(fake.calls(world.record, "gitlab-runner-register")) == 1
    assert len(fake.calls(world.record, "gitlab-runner-run")) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"executor": "kubernetes"}, "error=executor must be docker or shell"),
        ({"gpu": "yes"}, "error=gpu must be 0 or 1"),
        ({"docker_image": "--privileged"}, "error=docker_image must not start with '-'"),
        ({"token": "glrt-x;$(id)"}, "error=token has characters a token never has"),
        ({"jitconfig": "abc"}, "error=unknown stdin key 'jitconfig'"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(world: World, extra: dict[str, str], message: str) -> None:
    done = world.run("install-gitlab.sh", _stdin(world, "rs-glbad", **extra))
    assert (done.code, done.lines) == (2, [message])
    assert fake.calls(world.record) == []
    assert not world.home.exists()
