"""``cml run`` option parsing, output redaction, the deadline and the container's owner: no Docker needed."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cml import log
from cml.cli import main
from cml.container import Gpus, Volume, lifetime, parse_env, parse_gpus, parse_volume, workspace
from cml.container.lifetime import Owner
from cml.container.signals import Deadline
from cml.container.stream import HOLD, RedactingWriter, pump
from cml.errors import InputError, UsageError


def test_env_passes_only_named_variables_and_sets_a_home() -> None:
    caller = {"A": "1", "DEPLOY_TOKEN": "secret-value", "PATH": "/bin"}
    assert parse_env(["A", "B=two", "MISSING"], caller) == {"A": "1", "B": "two", "HOME": "/tmp"}


def test_env_keeps_a_given_home_and_empty_values() -> None:
    assert parse_env(["HOME=/work", "EMPTY="], {}) == {"HOME": "/work", "EMPTY": ""}


def test_secret_looking_env_values_are_registered_for_redaction() -> None:
    parse_env(
        ["DEPLOY_TOKEN", "PLAIN=/some/long/path", "DB_PASSWORD=hunter2-long"], {"DEPLOY_TOKEN": "abcdef123"}
    )
    assert log.redact("abcdef123 /some/long/path hunter2-long") == "*** /some/long/path ***"


@pytest.mark.parametrize("item", ["1A", "A-B", "", "=x", "A B=1"])
def test_bad_env_names_are_usage_errors(item: str) -> None:
    with pytest.raises(UsageError, match="--env"):
        parse_env([item], {})


def test_volume_paths_resolve_against_cwd(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert parse_volume("./data:/data:ro", tmp_path) == Volume(
        source=str(tmp_path / "data"), target="/data", read_only=True
    )
    assert parse_volume("cache:/cache", tmp_path) == Volume(source="cache", target="/cache")


@pytest.mark.parametrize(
    ("text", "error"),
    [("x", UsageError), ("a:b", UsageError), ("./a:/b:rx", UsageError), ("./nope:/b", InputError)],
)
def test_bad_volumes(tmp_path: Path, text: str, error: type[Exception]) -> None:
    with pytest.raises(error, match="--volume"):
        parse_volume(text, tmp_path)


def test_gpus() -> None:
    assert parse_gpus("all") == Gpus(count=-1)
    assert parse_gpus("2") == Gpus(count=2)
    assert parse_gpus("device=0,3") == Gpus(device_ids=("0", "3"))
    for bad in ("0", "-1", "some", "device="):
        with pytest.raises(UsageError, match="--gpus"):
            parse_gpus(bad)


def test_workspace_is_the_git_top_level_else_the_directory(repo: Path, tmp_path: Path) -> None:
    (repo / "a" / "b").mkdir(parents=True)
    assert workspace(repo / "a" / "b") == repo.resolve()
    (tmp_path / "plain").mkdir()
    assert workspace(tmp_path / "plain") == (tmp_path / "plain").resolve()


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--timeout", "0"], "--timeout 0"),
        (["--env", "9X"], "--env '9X'"),
        (["--gpus", "many"], "--gpus 'many'"),
        (["--volume", "nope"], "--volume 'nope'"),
    ],
)
def test_cli_rejects_bad_flags_before_touching_docker(
    flags: list[str], needle: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    assert main(["run", "--image", "x", *flags, "--", "true"], env) == 2
    err = capsys.readouterr().err
    assert err.startswith("cml: error: ")
    assert needle in err
    assert "Docker daemon" not in err


def test_writer_redacts_a_secret_split_across_reads() -> None:
    log.register_secret("tok-abcdef-123")
    sink = io.BytesIO()
    writer = RedactingWriter(sink)
    writer.write(b"one tok-abc")
    assert sink.getvalue() == b""
    writer.write(b"def-123 two\nthree")
    assert sink.getvalue() == b"one *** two\n"
    writer.close()
    assert sink.getvalue() == b"one *** two\nthree"


def test_writer_passes_carriage_returns_binary_and_long_lines() -> None:
    sink = io.BytesIO()
    writer = RedactingWriter(sink)
    writer.write(b"10%\r20%\r\xff\xfe")
    assert sink.getvalue() == b"10%\r20%\r"
    writer.write(b"x" * HOLD)
    assert sink.getvalue() == b"10%\r20%\r\xff\xfe" + b"x" * HOLD


def test_pump_keeps_stdout_and_stderr_apart() -> None:
    out, err = io.BytesIO(), io.BytesIO()
    pump([(b"a\n", None), (None, b"e1\n"), (b"b", b"e2")], out, err)
    assert (out.getvalue(), err.getvalue()) == (b"a\nb", b"e1\ne2")


def test_deadline_fires_only_when_the_kill_succeeds() -> None:
    killed = threading.Event()
    with Deadline(0.01, killed.set) as deadline:
        assert killed.wait(5)
    assert deadline.fired

    def gone() -> None:
        raise RuntimeError("no such container")

    with Deadline(0.01, gone) as late:
        threading.Event().wait(0.2)
    assert not late.fired
    with Deadline(None, killed.set) as never:
        pass
    assert not never.fired


def test_deadline_is_final_when_the_kill_is_still_in_flight() -> None:
    # The container dies (and the body ends) before the kill call returns: still a timeout.
    called = threading.Event()

    def slow_kill() -> None:
        called.set()
        threading.Event().wait(0.3)

    with Deadline(0.01, slow_kill) as deadline:
        assert called.wait(5)
    assert deadline.fired


@pytest.mark.parametrize("after", [[], ["--"], ["--gpus", "all"], ["--timeout", "5", "--"]])
def test_no_command_is_a_usage_error_before_any_request(
    after: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A socket that would accept the docker SDK's connection: nobody may connect to it.
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as engine:
        engine.bind(str(path))
        engine.listen()
        engine.setblocking(False)
        assert main(["run", "--image", "x", *after], {"DOCKER_HOST": f"unix://{path}"}) == 2
        with pytest.raises(BlockingIOError):
            engine.accept()
    assert capsys.readouterr().err == (
        "cml: error: cml run: no command given (cml run --image IMAGE [options] -- CMD...)\n"
    )


def test_init_exec_failure_line_is_withheld_and_the_rest_written() -> None:
    out, err = io.BytesIO(), io.BytesIO()
    frames = [(None, b"[FATAL tini (7)] exec x failed: No"), (None, b" such file\nnext\n")]
    held = pump(frames, out, err, withhold=lambda line: line.startswith(b"[FATAL tini"))
    assert held == b"[FATAL tini (7)] exec x failed: No such file\n"
    assert err.getvalue() == b"next\n"
    # Only the first line is a candidate.
    err = io.BytesIO()
    assert (
        pump([(None, b"a\n[FATAL tini (7)] x\n")], out, err, withhold=lambda line: b"FATAL" in line) is None
    )
    assert err.getvalue() == b"a\n[FATAL tini (7)] x\n"


def owner_of(pid: int, **kw: Any) -> Owner:
    me = lifetime.this_process()
    assert me is not None
    stat = lifetime._stat(pid)
    assert stat is not None
    return Owner(**{"boot_id": me.boot_id, "pid_ns": me.pid_ns, "pid": pid, "start_time": stat[1], **kw})


def test_this_process_names_the_boot_namespace_pid_and_start_time() -> None:
    me = lifetime.this_process()
    assert me is not None
    assert me.pid == os.getpid()
    assert me.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert os.readlink("/proc/self/ns/pid") == f"pid:[{me.pid_ns}]"
    assert me.start_time == Path("/proc/self/stat").read_text().split(") ")[1].split()[19]
    assert Owner.from_labels(me.labels()) == me
    assert me.labels()[lifetime.LABEL] == "1"


def test_without_proc_there_is_no_owner(tmp_path: Path) -> None:
    assert lifetime.this_process(tmp_path) is None


@pytest.mark.parametrize(
    "change",
    [
        {lifetime.LABEL: None},
        {lifetime.PID: None},
        {lifetime.PID: "0"},
        {lifetime.PID: "-1"},
        {lifetime.PID: "12x"},
        {lifetime.BOOT_ID: ""},
        {lifetime.START_TIME: None},
    ],
)
def test_incomplete_owner_labels_name_no_owner(change: dict[str, str | None]) -> None:
    labels = Owner(boot_id="b", pid_ns="1", pid=42, start_time="7").labels()
    for key, value in change.items():
        if value is None:
            del labels[key]
        else:
            labels[key] = value
    assert Owner.from_labels(labels) is None


def test_stat_reads_past_a_command_name_with_parentheses(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    fields = " ".join(str(n) for n in range(4, 30))
    (tmp_path / "42" / "stat").write_text(f"42 (a) b) (c) S {fields}\n")
    assert lifetime._stat(42, tmp_path) == ("S", "22")


def test_an_owner_is_alive_while_its_process_runs_and_gone_after() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        owner = owner_of(child.pid)
        assert lifetime.is_alive(owner)
        # The same pid under another start time is another process: the owner is gone.
        assert not lifetime.is_alive(owner_of(child.pid, start_time=str(int(owner.start_time) + 1)))
        child.kill()
        # Killed but not yet waited for: a zombie, which holds no socket open any more.
        deadline = time.monotonic() + 10
        while (lifetime._stat(child.pid) or ("?",))[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not lifetime.is_alive(owner)
    finally:
        child.kill()
        child.wait()
    assert not lifetime.is_alive(owner)


def test_an_owner_that_cannot_be_inspected_counts_as_alive(tmp_path: Path) -> None:
    # Our own pid exists, but this /proc has no stat for it (as under hidepid): leave it alone.
    assert lifetime.is_alive(owner_of(os.getpid()), tmp_path)


class FakeClient:
    """Just what :func:`lifetime.reap` calls: ``api.containers`` and ``api.remove_container``."""

    def __init__(self, containers: list[dict[str, Any]], fail: Exception | None = None) -> None:
        self.api = self
        self.listed: list[dict[str, Any]] = containers
        self.removed: list[str] = []
        self.filters: Any = None
        self.fail = fail

    def containers(self, all: bool, filters: Any) -> list[dict[str, Any]]:
        self.filters = filters
        if self.fail:
            raise self.fail
        return self.listed

    def remove_container(self, ident: str, force: bool) -> None:
        assert force
        self.removed.append(ident)


def test_reap_removes_only_containers_whose_owner_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    me = lifetime.this_process()
    assert me is not None
    dead = subprocess.Popen(["sleep", "30"])
    gone = owner_of(dead.pid)
    dead.kill()
    dead.wait()
    containers = {
        "gone": gone.labels(),
        "reused": owner_of(os.getpid(), start_time="1").labels(),
        "live": me.labels(),
        "other-boot": Owner(**{**gone.__dict__, "boot_id": "another"}).labels(),
        "other-ns": Owner(**{**gone.__dict__, "pid_ns": "1"}).labels(),
        "old-cml": {lifetime.LABEL: "1"},
        "foreign": {},
    }
    client = FakeClient([{"Id": f"id-{n}", "Names": [f"/{n}"], "Labels": v} for n, v in containers.items()])
    with caplog.at_level("INFO", logger="cml"):
        assert lifetime.reap(client, me) == ["gone", "reused"]
    assert client.removed == ["id-gone", "id-reused"]
    assert client.filters == {"label": [f"{lifetime.BOOT_ID}={me.boot_id}", f"{lifetime.PID_NS}={me.pid_ns}"]}
    assert f"cml: removed container gone: the cml process that started it (pid {gone.pid}) is gone" in (
        caplog.messages
    )


def test_reap_never_fails_the_run() -> None:
    import docker

    me = lifetime.this_process()
    assert me is not None
    assert lifetime.reap(FakeClient([], fail=docker.errors.APIError("boom")), me) == []
