"""``cml run`` against a real Docker engine: exit codes, live logs, workspace, ownership, env, timeout, cleanup."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cml.cli import main
from cml.container import TIMEOUT_EXIT

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
LABEL = "dev.cml.run"


def cml_run(image: str, *cmd: str, opts: tuple[str, ...] = ()) -> list[str]:
    return ["run", "--image", image, "--network", "none", "--pull", "never", *opts, "--", *cmd]


def spawn(args: list[str], env: dict[str, str], cwd: Path, **kw: Any) -> subprocess.Popen[str]:
    """``python -m cml ARGS`` as a child process, stdout and stderr piped."""
    env = {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cml", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def ours(client: Any) -> list[Any]:
    return client.containers.list(all=True, filters={"label": LABEL})


@pytest.mark.parametrize(
    ("script", "code"),
    [("exit 0", 0), ("exit 3", 3), ("sleep 30 & kill -9 $!; wait $!", 137)],
)
def test_the_container_exit_code_is_cmls(
    image: str, cml_env: dict[str, str], repo: Path, monkeypatch: pytest.MonkeyPatch, script: str, code: int
) -> None:
    monkeypatch.chdir(repo)
    assert main(cml_run(image, "sh", "-c", script), cml_env) == code


def test_workspace_is_mounted_at_its_path_and_cwd_is_the_workdir(
    image: str,
    cml_env: dict[str, str],
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sub = repo / "src"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code = main(
        cml_run(image, "sh", "-c", "pwd; cat ../README.md; echo written > out.txt; echo oops >&2"), cml_env
    )
    out, err = capfd.readouterr()
    assert code == 0
    assert out.splitlines() == [str(sub.resolve()), "demo"]
    assert err == "oops\n"
    assert (sub / "out.txt").read_text() == "written\n"


def test_files_written_belong_to_the_caller(image: str, cml_env: dict[str, str], tmp_path: Path) -> None:
    uid = 4321 if os.geteuid() == 0 else os.geteuid()
    gid = 4321 if os.geteuid() == 0 else os.getegid()
    work = tmp_path / "work"
    work.mkdir()
    os.chown(work, uid, gid)
    prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] if os.geteuid() == 0 else []
    env = {**cml_env, "HOME": str(work), "PYTHONPATH": str(ROOT)}
    argv = [
        *prefix,
        sys.executable,
        "-m",
        "cml",
        *cml_run(image, "sh", "-c", "id -u; id -g; mkdir d; echo x > d/f"),
    ]
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(uid), str(gid)]
    for path in (work / "d", work / "d" / "f"):
        assert (path.stat().st_uid, path.stat().st_gid) == (uid, gid)


def test_logs_stream_while_the_container_runs(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    child = spawn(cml_run(image, "sh", "-c", "echo first; sleep 4; echo second"), cml_env, repo)
    assert child.stdout is not None
    try:
        assert child.stdout.readline() == "first\n"
        # The line arrived while the container still sleeps: it is running and cml has not exited.
        assert child.poll() is None
        assert [c.status for c in ours(docker_client)] == ["running"]
        assert child.stdout.readline() == "second\n"
        assert child.wait(timeout=60) == 0
    finally:
        child.kill()
        child.communicate()


def test_only_named_variables_reach_the_container(
    image: str,
    cml_env: dict[str, str],
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(repo)
    env = {**cml_env, "DEPLOY_TOKEN": "s3cr3t-deploy-value", "VISIBLE": "yes"}
    opts = ("--env", "VISIBLE", "--env", "SET=given", "--env", "UNSET_IN_CALLER")
    assert main(cml_run(image, "env", opts=opts), env) == 0
    names = dict(line.split("=", 1) for line in capfd.readouterr().out.splitlines())
    assert names["VISIBLE"] == "yes"
    assert names["SET"] == "given"
    assert "DEPLOY_TOKEN" not in names
    assert "UNSET_IN_CALLER" not in names
    assert "s3cr3t" not in str(names)


def test_a_named_secret_reaches_the_container_and_is_redacted_in_its_output(
    image: str,
    cml_env: dict[str, str],
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(repo)
    env = {**cml_env, "DEPLOY_TOKEN": "s3cr3t-deploy-value"}
    script = 'echo "len=${#DEPLOY_TOKEN} tok=$DEPLOY_TOKEN"'
    assert main(cml_run(image, "sh", "-c", script, opts=("--env", "DEPLOY_TOKEN")), env) == 0
    assert capfd.readouterr().out == f"len={len('s3cr3t-deploy-value')} tok=***\n"


def test_timeout_kills_the_container_with_its_own_exit_code(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any
) -> None:
    start = time.monotonic()
    child = spawn(cml_run(image, "sleep", "60", opts=("--timeout", "1.5")), cml_env, repo)
    _, err = child.communicate(timeout=60)
    assert child.returncode == TIMEOUT_EXIT
    assert time.monotonic() - start < 30
    assert err.splitlines() == [
        f"cml: error: {image}: sleep 60: still running after --timeout 1.5 s; container killed"
    ]
    assert ours(docker_client) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_and_removes_the_container(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any, sig: signal.Signals
) -> None:
    script = 'trap "echo stopped > got-term; exit 143" TERM; echo ready; sleep 60 & wait'
    child = spawn(cml_run(image, "sh", "-c", script), cml_env, repo)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    assert len(ours(docker_client)) == 1
    child.send_signal(sig)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert err.strip() == "cml: interrupted"
    assert ours(docker_client) == []
    # Stopped (SIGTERM, a grace period), not just killed: the command could clean up.
    assert (repo / "got-term").read_text() == "stopped\n"


def one_line_error(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    child = spawn(args, env, cwd)
    _, err = child.communicate(timeout=120)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cml: error: ")
    return child.returncode, lines[0]


def test_unknown_image_is_one_line(image: str, cml_env: dict[str, str], repo: Path) -> None:
    code, line = one_line_error(cml_run("cml-no-such-image:7", "true"), cml_env, repo)
    assert code == 2
    assert "'cml-no-such-image:7' is not on the Docker daemon" in line


def test_unpullable_image_is_one_line(image: str, cml_env: dict[str, str], repo: Path) -> None:
    args = ["run", "--image", "cml-no-such-image:7", "--network", "none", "--", "true"]
    child = spawn(args, cml_env, repo)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 2
    assert "cml: error: image 'cml-no-such-image:7' is not available locally and pulling it failed" in err
    assert err.count("cml: error:") == 1


@pytest.mark.parametrize(
    ("cmd", "code", "reason"),
    [("no-such-tool", 127, "executable file not found"), ("/tmp", 126, "permission denied")],
)
def test_a_command_that_cannot_run_is_one_line(
    image: str, cml_env: dict[str, str], repo: Path, docker_client: Any, cmd: str, code: int, reason: str
) -> None:
    got, line = one_line_error(cml_run(image, cmd), cml_env, repo)
    assert got == code
    assert line.startswith(f"cml: error: {image}: cannot run '{cmd}': ")
    assert reason in line
    assert ours(docker_client) == []


def test_gpus_without_an_nvidia_runtime_is_one_line(image: str, cml_env: dict[str, str], repo: Path) -> None:
    code, line = one_line_error(cml_run(image, "true", opts=("--gpus", "all")), cml_env, repo)
    assert code == 3
    assert "has no NVIDIA runtime" in line
    assert cml_env["DOCKER_HOST"] in line


def test_unreachable_daemon_is_one_line(repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    code, line = one_line_error(["run", "--image", "x", "--", "true"], env, repo)
    assert code == 3
    assert f"cannot reach the Docker daemon at unix://{tmp_path}/nothing.sock" in line
    assert "DOCKER_HOST" in line


def test_extra_volume_is_mounted_read_only(
    image: str, cml_env: dict[str, str], repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("input\n")
    monkeypatch.chdir(repo)
    script = "cat /data/in.txt > copy.txt && ! touch /data/new"
    assert main(cml_run(image, "sh", "-c", script, opts=("--volume", f"{data}:/data:ro")), cml_env) == 0
    assert (repo / "copy.txt").read_text() == "input\n"
    assert not (data / "new").exists()


def test_outside_a_git_repository_the_cwd_is_the_workspace(
    image: str, cml_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    assert main(cml_run(image, "sh", "-c", "echo hi > here.txt"), cml_env) == 0
    assert (plain / "here.txt").read_text() == "hi\n"
    assert shutil.which("git")
