"""``cml run`` option parsing, output redaction and the deadline: no Docker needed."""

from __future__ import annotations

import io
import socket
import threading
from pathlib import Path

import pytest

from cml import log
from cml.cli import main
from cml.container import Gpus, Volume, parse_env, parse_gpus, parse_volume, workspace
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
