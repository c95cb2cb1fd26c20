"""The child-process protocol: a crash costs the item it happened in, not the run; fatal events become
the right error class; the child's environment holds no secrets."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from cml.bench import _child
from cml.errors import CmlError, ConfigError, InputError

# A stand-in for the Python that runs the child: it speaks the protocol and dies with SIGSEGV on the
# item named crash, like a converter that segfaults on one variant.
_FAKE = """\
#!{python}
import json, os, signal, sys
job = json.loads(sys.stdin.read())
with open(job["log"], "a") as log:
    log.write("run " + ",".join(job["items"]) + "\\n")
for item in job["items"]:
    print(json.dumps({{"event": "start", "item": item}}), flush=True)
    if item == {crash!r}:
        os.kill(os.getpid(), signal.SIGSEGV)
    print(json.dumps({{"event": "done", "item": item, "path": item + ".tflite"}}), flush=True)
print(json.dumps({{"event": "end"}}), flush=True)
"""


def _fake_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash: str) -> None:
    fake = tmp_path / "python"
    fake.write_text(_FAKE.format(python=sys.executable, crash=crash), encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))


def test_a_crash_marks_its_item_and_the_rest_run_in_a_new_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_python(tmp_path, monkeypatch, crash="fp16")
    log = tmp_path / "logs" / "convert.log"
    outcome = _child.run_items({"job": "convert"}, ["fp32", "fp16", "int8"], log, "m.keras: converting it")
    assert sorted(outcome.done) == ["fp32", "int8"]
    assert list(outcome.crashed) == ["fp16"]
    assert outcome.crashed["fp16"] == f"the child process crashed with SIGSEGV; its output is in {log}"
    assert log.read_text(encoding="utf-8").splitlines() == ["run fp32,fp16,int8", "run int8"]


def test_a_crash_before_any_item_is_one_line_naming_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "python"
    fake.write_text(
        f"#!{sys.executable}\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", encoding="utf-8"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    log = tmp_path / "convert.log"
    with pytest.raises(CmlError) as exc:
        _child.run_items({"job": "convert"}, ["fp32"], log, "m.keras: converting it")
    assert str(exc.value) == (
        f"m.keras: converting it: the child process crashed with SIGKILL (out of memory?) before it began; "
        f"its output is in {log}"
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [(-signal.SIGSEGV, "crashed with SIGSEGV"), (137, "SIGKILL (out of memory?)"), (1, "exited 1")],
)
def test_death_in_words(code: int, words: str) -> None:
    assert words in _child._death(code)


def test_fatal_events_keep_their_exit_codes(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    with pytest.raises(InputError) as bad:
        _child.raise_fatal({"event": "fatal", "kind": "input", "message": "m: bad", "hint": "fix it"}, log)
    assert str(bad.value) == "m: bad (fix it)"
    assert bad.value.exit_code == 2
    with pytest.raises(ConfigError) as missing:
        _child.raise_fatal({"event": "fatal", "kind": "config", "message": "needs TensorFlow"}, log)
    assert missing.value.exit_code == 3
    assert "pip install 'cml-suite[bench]'" in str(missing.value)
    with pytest.raises(CmlError) as other:
        _child.raise_fatal({"event": "fatal", "kind": "other", "message": "m: KeyError: 'x'"}, log)
    assert str(other.value) == f"m: KeyError: 'x'; the full output is in {log}"


def test_child_env_drops_secrets_and_quiets_tensorflow() -> None:
    env = _child.child_env(
        {
            "PATH": "/bin",
            "REPO_TOKEN": "t",
            "GITHUB_TOKEN": "t",
            "MY_SECRET": "s",
            "CML_JITCONFIG": "j",
            "HOME": "/h",
        }
    )
    assert env == {"PATH": "/bin", "HOME": "/h", "TF_CPP_MIN_LOG_LEVEL": "1", "CUDA_VISIBLE_DEVICES": "-1"}
    assert _child.child_env({"CUDA_VISIBLE_DEVICES": "0"})["CUDA_VISIBLE_DEVICES"] == "0"


def test_the_child_answers_a_bad_job_on_its_result_channel_and_logs_the_traceback(tmp_path: Path) -> None:
    import json
    import subprocess

    log = tmp_path / "child.log"
    job = {"job": "predict", "items": ["fp32"], "models": {}, "log": str(log), "model": "m.tflite"}
    done = subprocess.run(
        [sys.executable, "-m", "cml.bench._child"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr == ""
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events == [
        {"event": "start", "item": "fp32"},
        {"event": "fatal", "kind": "other", "message": "m.tflite: KeyError: 'fp32'"},
    ]
    assert "Traceback" in log.read_text(encoding="utf-8")


def test_a_crash_after_the_last_item_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "python"
    body = _FAKE.format(python=sys.executable, crash="none").replace(
        'print(json.dumps({"event": "end"}), flush=True)', "os.kill(os.getpid(), signal.SIGSEGV)"
    )
    assert "SIGSEGV)" in body.splitlines()[-1]
    fake.write_text(body, encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    log = tmp_path / "c.log"
    outcome = _child.run_items({"job": "convert"}, ["fp32", "int8"], log, "m.keras: converting it")
    assert sorted(outcome.done) == ["fp32", "int8"]
    assert outcome.crashed == {}
    assert log.read_text(encoding="utf-8").splitlines() == ["run fp32,int8"]  # not run again


@pytest.mark.parametrize("line", ['{"event": "done", "it', "[1, 2]", '{"no": "event"}', "", "noise"])
def test_a_line_that_is_not_an_event_is_ignored(line: str) -> None:
    assert _child._event(line) is None
    assert _child._event('{"event": "end"}') == {"event": "end"}
