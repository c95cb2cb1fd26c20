"""runners/install-github.sh run locally with sh: jit / service / single, reruns, secrets kept out of
argv, files, output and every environment but the runner's own input variable."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

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
    session_of,
    wait_for,
)
from tests.leaks import leaks

pytestmark = [pytest.mark.slow, ROOT_ONLY]

JIT = "eyJydW5uZXIiOiJqaXQtY29uZmlnLWZvci10ZXN0cyJ9SECRETJIT=="
TOKEN = "AABBCCREGISTRATIONTOKEN0123456789"


def _jit(world: World, name: str = "rs-jit", **extra: str) -> str:
    pkg = fake.github_package(world.root / "pkg", world.record)
    values = {
        "forge": "github",
        "mode": "jit",
        "name": name,
        "labels": "self-hosted,linux,x64,gpu",
        "package": str(pkg),
        "jitconfig": JIT,
        "runner_user": world.user,
        "home": str(world.home),
        "init": "other",
        "id": "41",
    }
    values.update(extra)
    return lines(**values)


def _service(world: World, name: str, mode: str = "service", **extra: str) -> str:
    pkg = fake.github_package(world.root / "pkg", world.record)
    values = {
        "forge": "github",
        "mode": mode,
        "name": name,
        "labels": "gpu,cuda-12",
        "package": str(pkg),
        "url": "https://github.com/acme/models",
        "token": TOKEN,
        "runner_user": world.user,
        "home": str(world.home),
        "init": "systemd",
    }
    values.update(extra)
    return lines(**values)


def _no_secret_outside_runner(world: World, secret: str, runner_pid: int | None) -> None:
    """The secret is in no file, no argv, and only in the runner session's input variable."""
    assert files_holding(world.root, secret, skip=world.record) == []
    assert files_holding(Path("/run/cml-runner"), secret) == [] if Path("/run/cml-runner").exists() else True
    for pid, names in environ_holders(secret).items():
        assert runner_pid is not None, f"pid {pid} holds the secret in {names}"
        assert session_of(pid) == session_of(runner_pid), f"pid {pid} outside the runner holds it"
        assert names == ["ACTIONS_RUNNER_INPUT_JITCONFIG"]


def test_jit_setsid_starts_run_sh_as_the_runner_user_with_the_config_in_its_environment(world: World) -> None:
    with ProcSampler() as sampler:
        done = world.run("install-github.sh", _jit(world))
    assert done.code == 0, done.text
    out = done.out
    assert (out["status"], out["mode"], out["init"], out["user"]) == ("started", "jit", "setsid", world.user)
    pid = int(out["pid"])
    assert wait_for(lambda: len(fake.calls(world.record, "run.sh")) == 1)
    [run] = fake.calls(world.record, "run.sh")
    assert run.argv == ()
    assert run.env["ACTIONS_RUNNER_INPUT_JITCONFIG"] == JIT
    assert run.uid == pwd.getpwnam(world.user).pw_uid
    assert run.cwd == str(world.runner_dir("rs-jit"))
    assert alive(pid)
    assert session_of(pid) == pid
    assert not any(JIT in seen for seen in sampler.seen)
    assert not leaks(done.text, JIT)
    _no_secret_outside_runner(world, JIT, pid)
    state = world.state("rs-jit")
    assert state["forge"] == "github"
    assert state["id"] == "41"
    assert state["pid"] == str(pid)
    assert state["package_sha256"] == fake.sha256(next((world.root / "pkg").iterdir()))
    env_file = world.runner_dir("rs-jit") / ".env"
    assert f"ACTIONS_RUNNER_HOOK_JOB_COMPLETED={world.runner_dir('rs-jit')}/cml-job-completed.sh" in (
        env_file.read_text().splitlines()
    )
    uid = pwd.getpwnam(world.user).pw_uid
    for path in [world.runner_dir("rs-jit"), *world.runner_dir("rs-jit").rglob("*")]:
        assert path.stat().st_uid == uid, path


def test_the_job_completed_hook_records_the_end_time_and_a_jit_runner_ends_after_one_job(
    world: World,
) -> None:
    done = world.run("install-github.sh", _jit(world))
    assert done.code == 0, done.text
    assert "last_job_completed_at" not in world.state("rs-jit")
    fake.trigger_job(world.runner_dir("rs-jit"))
    assert wait_for(lambda: "last_job_completed_at" in world.state("rs-jit"))
    state = world.state("rs-jit")
    assert state["jobs_completed"] == "1"
    assert state["last_job_completed_at"].endswith("Z")
    assert len(state["last_job_completed_at"]) == 20
    assert wait_for(lambda: not alive(int(done.out["pid"])))
    status = world.run("status.sh", lines(runner_user=world.user, home=str(world.home)))
    assert status.code == 0
    assert status.out["alive"] == "no"
    assert status.out["count"] == "1"


def test_a_rerun_with_the_same_input_changes_nothing(world: World) -> None:
    stdin = _jit(world)
    first = world.run("install-github.sh", stdin)
    assert first.code == 0, first.text
    run_sh = world.runner_dir("rs-jit") / "run.sh"
    before = (run_sh.stat().st_mtime_ns, world.state("rs-jit"))
    again = world.run("install-github.sh", stdin)
    assert again.code == 0, again.text
    assert (again.out["status"], again.out["changed"], again.out["pid"]) == (
        "unchanged",
        "",
        first.out["pid"],
    )
    assert (run_sh.stat().st_mtime_ns, world.state("rs-jit")) == before
    assert len(fake.calls(world.record, "run.sh")) == 1
    assert not leaks(again.text, JIT)


def test_changed_labels_are_recorded_in_place_without_a_restart(world: World) -> None:
    first = world.run("install-github.sh", _jit(world))
    assert first.code == 0, first.text
    again = world.run("install-github.sh", _jit(world, labels="self-hosted,linux,x64,gpu,a100"))
    assert again.code == 0, again.text
    assert (again.out["status"], again.out["changed"]) == ("updated", "labels")
    assert world.state("rs-jit")["labels"] == "self-hosted,linux,x64,gpu,a100"
    assert again.out["pid"] == first.out["pid"]
    assert len(fake.calls(world.record, "run.sh")) == 1


def test_service_mode_configures_with_the_token_in_the_environment_and_enables_a_unit_stand_in_systemctl(
    world: World,
) -> None:
    world.use_stand_ins()
    with ProcSampler() as sampler:
        done = world.run("install-github.sh", _service(world, "rs-svc"))
    assert done.code == 0, done.text
    assert (done.out["status"], done.out["init"], done.out["unit"]) == (
        "started",
        "systemd",
        "cml-runner-rs-svc",
    )
    [config] = fake.calls(world.record, "config.sh")
    assert config.argv == (
        "--unattended", "--url", "https://github.com/acme/models", "--name", "rs-svc", "--work", "_work",
        "--replace", "--disableupdate", "--labels", "gpu,cuda-12",
    )  # fmt: skip
    assert config.env["ACTIONS_RUNNER_INPUT_TOKEN"] == TOKEN
    assert config.uid == pwd.getpwnam(world.user).pw_uid
    # the token was never on any command line while config.sh ran (it sleeps so ps can see it)
    assert any("config.sh" in seen for seen in sampler.seen)
    assert not any(TOKEN in seen for seen in sampler.seen)
    unit = (world.units / "cml-runner-rs-svc.service").read_text()
    assert f"User={world.user}" in unit
    assert f"ExecStart={world.runner_dir('rs-svc')}/run.sh" in unit
    assert TOKEN not in unit
    assert wait_for(lambda: len(fake.calls(world.record, "run.sh")) == 1)
    [run] = fake.calls(world.record, "run.sh")
    assert "ACTIONS_RUNNER_INPUT_TOKEN" not in run.env
    assert run.uid == config.uid
    expected_id = str(
        int(subprocess.run(["cksum"], input=b"rs-svc", capture_output=True, check=True).stdout.split()[0])
    )
    assert done.out["id"] == expected_id  # read back from the .runner file config.sh wrote
    assert "enable --now cml-runner-rs-svc" in (world.standin / "calls").read_text()
    assert not leaks(done.text, TOKEN)
    assert files_holding(world.root, TOKEN, skip=world.record) == []
    assert environ_holders(TOKEN) == {}
    again = world.run("install-github.sh", _service(world, "rs-svc"))
    assert (again.code, again.out["status"]) == (0, "unchanged"), again.text
    assert len(fake.calls(world.record, "config.sh")) == 1


def test_jit_under_systemd_passes_the_config_through_a_removed_environment_file_stand_in_systemd_run(
    world: World,
) -> None:
    world.use_stand_ins()
    done = world.run("install-github.sh", _jit(world, "rs-tjit", init="systemd"))
    assert done.code == 0, done.text
    assert (done.out["init"], done.out["unit"], done.out["pid"]) == ("systemd", "cml-runner-rs-tjit", "")
    calls = (world.standin / "calls").read_text()
    assert "systemd-run" in calls
    assert "--property=EnvironmentFile=/run/cml-runner/rs-tjit.env" in calls
    assert JIT not in calls
    assert (world.standin / "envfiles").read_text() == "600 root\n"
    assert not Path("/run/cml-runner/rs-tjit.env").exists()
    assert wait_for(lambda: len(fake.calls(world.record, "run.sh")) == 1)
    [run] = fake.calls(world.record, "run.sh")
    assert run.env["ACTIONS_RUNNER_INPUT_JITCONFIG"] == JIT
    assert run.uid == pwd.getpwnam(world.user).pw_uid
    runner_pid = int((world.standin / "units" / "cml-runner-rs-tjit.pid").read_text())
    _no_secret_outside_runner(world, JIT, runner_pid)
    again = world.run("install-github.sh", _jit(world, "rs-tjit", init="systemd"))
    assert (again.code, again.out["status"]) == (0, "unchanged"), again.text


def test_single_mode_configures_an_ephemeral_runner_that_ends_after_one_job_stand_in_systemd_run(
    world: World,
) -> None:
    world.use_stand_ins()
    done = world.run("install-github.sh", _service(world, "rs-one", mode="single"))
    assert done.code == 0, done.text
    [config] = fake.calls(world.record, "config.sh")
    assert config.argv[-1] == "--ephemeral"
    assert "systemd-run" in (world.standin / "calls").read_text()
    assert not (world.units / "cml-runner-rs-one.service").exists()
    assert wait_for(lambda: len(fake.calls(world.record, "run.sh")) == 1)
    fake.trigger_job(world.runner_dir("rs-one"))
    assert wait_for(lambda: "last_job_completed_at" in world.state("rs-one"))
    pid = int((world.standin / "units" / "cml-runner-rs-one.pid").read_text())
    assert wait_for(lambda: not alive(pid))
    assert files_holding(world.root, TOKEN, skip=world.record) == []


def test_the_login_user_runs_the_runner_when_not_root(world: World) -> None:
    world.use_stand_ins()
    pkg_dir = world.root / "pkg"
    stdin = _jit(world, "rs-self", init="systemd", runner_user="", home=str(world.home)).replace(
        "runner_user=\n", ""
    )
    world.home.mkdir()
    os.chown(world.home, pwd.getpwnam(world.user).pw_uid, pwd.getpwnam(world.user).pw_gid)
    assert pkg_dir.is_dir()
    done = world.run("install-github.sh", stdin, as_user=world.user)
    assert done.code == 0, done.text
    assert (done.out["user"], done.out["init"]) == (world.user, "setsid")
    assert "not root" in done.out["note"]
    assert wait_for(lambda: len(fake.calls(world.record, "run.sh")) == 1)
    assert fake.calls(world.record, "run.sh")[0].uid == pwd.getpwnam(world.user).pw_uid
    refused = world.run(
        "install-github.sh", _jit(world, "rs-other", runner_user="someone"), as_user=world.user
    )
    assert refused.code == 2
    assert refused.lines == [f"error=runner_user 'someone' needs root; logged in as {world.user}"]


def test_a_missing_runner_user_is_created_as_a_system_user(world: World) -> None:
    name = f"cml-rs-{os.getpid() % 100000}"
    home = Path("/home") / name
    try:
        done = world.run("install-github.sh", _jit(world, "rs-new", runner_user=name))
        assert done.code == 0, done.text
        assert done.out["user_created"] == name
        entry = pwd.getpwnam(name)
        assert entry.pw_uid != 0
        assert entry.pw_dir == str(home)
        assert home.is_dir()
        assert fake.calls(world.record, "run.sh") or wait_for(
            lambda: bool(fake.calls(world.record, "run.sh"))
        )
        assert fake.calls(world.record, "run.sh")[0].uid == entry.pw_uid
    finally:
        world.run("teardown.sh", lines(name="rs-new", runner_user=name, home=str(world.home)))
        subprocess.run(["userdel", "-r", name], capture_output=True, check=False)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("colour=blue", "error=unknown stdin key 'colour'"),
        ("just-a-token-line", "error=stdin line 1 is not key=value"),
        ("Name=x", "error=stdin line 1: a key is lowercase letters, digits and _"),
    ],
)
def test_stdin_that_is_not_a_known_key_is_refused(world: World, line: str, message: str) -> None:
    done = world.run("install-github.sh", line + "\n" + _jit(world))
    assert (done.code, done.lines) == (2, [message])
    assert not world.home.exists()
    assert fake.calls(world.record) == []


def test_a_key_given_twice_is_refused(world: World) -> None:
    done = world.run("install-github.sh", _jit(world) + "mode=service\n")
    assert (done.code, done.lines) == (2, ["error=stdin key 'mode' given twice"])


def test_quotes_semicolons_and_command_substitutions_stay_inert(world: World) -> None:
    world.use_stand_ins()
    canary = world.root / "canary"
    hostile = f"gpu,x';touch {canary};'$(touch {canary})`touch {canary}`\"; touch {canary}"
    done = world.run("install-github.sh", _service(world, "rs-odd", labels=hostile, init="other"))
    assert done.code == 0, done.text
    [config] = fake.calls(world.record, "config.sh")
    assert config.argv[config.argv.index("--labels") + 1] == hostile
    assert world.state("rs-odd")["labels"] == hostile
    assert done.out["labels"] == hostile
    bad_name = world.run("install-github.sh", _jit(world, f"x$(touch {canary})"))
    assert bad_name.code == 2
    assert bad_name.lines[0].startswith("error=name must be letters")
    bad_secret = world.run("install-github.sh", _jit(world, "rs-bad", jitconfig=f"A;$(touch {canary})"))
    assert bad_secret.lines == ["error=jitconfig has characters a token never has"]
    assert bad_secret.code == 2
    assert "touch" not in bad_secret.text
    assert not canary.exists()


def test_a_runner_cannot_change_mode_without_a_teardown(world: World) -> None:
    first = world.run("install-github.sh", _jit(world, "rs-mode"))
    assert first.code == 0, first.text
    world.use_stand_ins()
    other = world.run("install-github.sh", _service(world, "rs-mode"))
    assert (other.code, other.lines) == (1, ["error=runner rs-mode exists in jit mode; tear it down first"])
    assert fake.calls(world.record, "config.sh") == []


def test_a_missing_package_is_refused(world: World) -> None:
    done = world.run("install-github.sh", _jit(world, package=str(world.root / "nope.tar.gz")))
    assert (done.code, done.lines) == (2, [f"error=package {world.root}/nope.tar.gz is not a file"])


def test_a_runner_user_without_a_home_folder_needs_home(world: World) -> None:
    home = pwd.getpwnam(world.user).pw_dir
    assert not Path(home).exists()  # the test user is created without one
    done = world.run("install-github.sh", _jit(world, home=""))
    assert (done.code, done.lines) == (
        1,
        [f"error={home} does not exist (pass home=, or give {world.user} a home)"],
    )
    assert fake.calls(world.record) == []
