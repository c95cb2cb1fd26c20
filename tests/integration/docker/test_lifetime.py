"""A ``cml run`` container does not outlive its cml process, even one killed with SIGKILL (real engine).

The watchdog in the container stops it when cml's end of its stdin closes; the next ``cml run`` removes
containers whose owner is gone, and never touches those of a live owner, another boot or PID namespace,
or without our labels.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cml.container import lifetime
from cml.container.lifetime import Owner
from tests.integration.docker.test_run import cml_run, ours, spawn

pytestmark = pytest.mark.slow

#: The watchdog's grace period (engine.STOP_GRACE) plus room for a loaded machine.
WITHIN = 20


def until(check: Callable[[], bool], seconds: float = WITHIN) -> float:
    """Poll ``check`` until true; return the seconds it took; fail after ``seconds``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, "timed out"
        time.sleep(0.1)
    return time.monotonic() - start


def stopped(container: Any) -> bool:
    container.reload()
    return bool(container.status == "exited")


def kill_cml_once_ready(
    image: str, script: str, env: dict[str, str], cwd: Path, client: Any
) -> tuple[Any, int]:
    """Start ``cml run -- sh -c SCRIPT``, wait for its ``ready`` line, SIGKILL cml; the container and pid."""
    child = spawn(cml_run(image, "sh", "-c", script), env, cwd)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    [container] = ours(client)
    assert container.status == "running"
    child.kill()
    child.communicate(timeout=30)
    assert child.returncode == -9
    return container, child.pid


def next_run_reaps(image: str, env: dict[str, str], cwd: Path, name: str, pid: int) -> None:
    """A later ``cml run`` says it removes ``name`` (owned by the dead ``pid``) and runs its own command."""
    later = spawn(cml_run(image, "echo", "fine"), env, cwd)
    out, err = later.communicate(timeout=120)
    assert (later.returncode, out) == (0, "fine\n"), err
    assert f"cml: removed container {name}: the cml process that started it (pid {pid}) is gone" in err


def test_a_killed_cml_stops_its_container_from_inside_and_the_next_run_removes_it(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    script = 'trap "echo stopped > got-term; exit 143" TERM; echo ready; sleep 60 & wait'
    container, pid = kill_cml_once_ready(image, script, cml_env, repo, docker_client)
    # Stopped gracefully (SIGTERM reached the command, before the grace period ran out).
    assert until(lambda: stopped(container)) < WITHIN
    assert container.attrs["State"]["ExitCode"] == 143
    assert (repo / "got-term").read_text() == "stopped\n"
    assert container.labels[lifetime.PID] == str(pid)
    next_run_reaps(image, cml_env, repo, container.name, pid)
    assert ours(docker_client) == []


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace_period(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    script = 'trap "" TERM; echo ready; while :; do sleep 1; done'
    container, pid = kill_cml_once_ready(image, script, cml_env, repo, docker_client)
    assert until(lambda: stopped(container)) < WITHIN
    assert container.attrs["State"]["ExitCode"] == 137
    next_run_reaps(image, cml_env, repo, container.name, pid)
    assert ours(docker_client) == []


def test_the_watchdog_leaves_the_command_an_empty_stdin(
    image: str, cml_env: dict[str, str], repo: Path
) -> None:
    # `cat` would wait forever on the watchdog's pipe; it must see /dev/null as before.
    child = spawn(cml_run(image, "sh", "-c", "cat; echo done"), cml_env, repo)
    out, err = child.communicate(timeout=60)
    assert (child.returncode, out, err) == (0, "done\n", "")


def dead_owner() -> Owner:
    me = lifetime.this_process()
    assert me is not None
    child = subprocess.Popen(["sleep", "60"])
    stat = lifetime._stat(child.pid)
    child.kill()
    child.wait()
    assert stat is not None
    return Owner(boot_id=me.boot_id, pid_ns=me.pid_ns, pid=child.pid, start_time=stat[1])


def test_the_reaper_removes_only_containers_whose_owner_is_gone(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    me = lifetime.this_process()
    assert me is not None
    gone = dead_owner()
    labels: dict[str, dict[str, str]] = {
        # No watchdog in these: only the reaper can end them.
        "cml-gone": gone.labels(),
        "cml-reused-pid": Owner(**{**me.__dict__, "start_time": "1"}).labels(),
        "cml-live": me.labels(),
        "cml-other-boot": Owner(**{**gone.__dict__, "boot_id": "0" * 32}).labels(),
        "cml-other-pid-ns": Owner(**{**gone.__dict__, "pid_ns": "1"}).labels(),
        "cml-no-owner": {lifetime.LABEL: "1"},
        "not-ours": {},
    }
    for name, value in labels.items():
        docker_client.containers.run(
            image, ["sleep", "120"], name=name, labels=value, detach=True, network_mode="none"
        )
    try:
        later = spawn(cml_run(image, "true"), cml_env, repo)
        _, err = later.communicate(timeout=120)
        assert later.returncode == 0, err
        assert sorted(err.splitlines()) == [
            f"cml: removed container cml-gone: the cml process that started it (pid {gone.pid}) is gone",
            f"cml: removed container cml-reused-pid: the cml process that started it (pid {me.pid}) is gone",
        ]
        left = {c.name: c.status for c in docker_client.containers.list(all=True)}
        assert left == {name: "running" for name in labels if name not in ("cml-gone", "cml-reused-pid")}
    finally:
        for container in docker_client.containers.list(all=True):
            if container.name in labels:
                container.remove(force=True)


def test_a_container_owned_by_a_live_cml_is_left_alone(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    first = spawn(cml_run(image, "sh", "-c", "echo ready; sleep 60"), cml_env, repo)
    assert first.stdout is not None
    try:
        assert first.stdout.readline() == "ready\n"
        second = spawn(cml_run(image, "echo", "second"), cml_env, repo)
        out, err = second.communicate(timeout=120)
        assert (second.returncode, out, err) == (0, "second\n", "")
        assert [c.labels[lifetime.PID] for c in ours(docker_client)] == [str(first.pid)]
    finally:
        first.kill()
        first.communicate(timeout=30)
    # Killed now: its watchdog stops the container.
    [container] = ours(docker_client)
    assert until(lambda: stopped(container)) < WITHIN
    container.remove()


@pytest.fixture(scope="module")
def image_without_sh(docker_client: Any, image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Busybox as ``/bin/busybox`` only: no ``sh`` for the watchdog."""
    ctx = tmp_path_factory.mktemp("no-sh")
    (ctx / "Dockerfile").write_text(f"FROM scratch\nCOPY --from={image} /bin/busybox /bin/busybox\n")
    docker_client.images.build(path=str(ctx), tag="cml-test-no-sh:1", network_mode="none", rm=True)
    return "cml-test-no-sh:1"


def test_an_image_without_sh_runs_as_before_and_only_the_reaper_ends_it(
    image: str, image_without_sh: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    done = spawn(cml_run(image_without_sh, "/bin/busybox", "echo", "hi"), cml_env, repo)
    assert done.communicate(timeout=60) == ("hi\n", "")
    assert done.returncode == 0
    cmd = ("/bin/busybox", "sh", "-c", "echo ready; exec /bin/busybox sleep 60")
    child = spawn(cml_run(image_without_sh, *cmd), cml_env, repo)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    child.kill()
    child.communicate(timeout=30)
    [container] = ours(docker_client)
    time.sleep(2)
    container.reload()
    assert container.status == "running"
    next_run_reaps(image, cml_env, repo, container.name, child.pid)
    assert ours(docker_client) == []
