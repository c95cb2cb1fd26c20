"""Names, labels, durations, the stdin protocol and the host state parser."""

from __future__ import annotations

import pytest

from cml.errors import HostError, UsageError
from cml.runner import state


def test_runner_names() -> None:
    assert state.runner_names("10.0.0.7", 2) == ("cml-10-0-0-7-1", "cml-10-0-0-7-2")
    assert state.runner_names("[::1]", 1) == ("cml-1-1",)
    assert state.runner_names("gpu1", 1, "trainer") == ("trainer",)
    assert state.runner_names("gpu1", 2, "trainer") == ("trainer-1", "trainer-2")
    with pytest.raises(UsageError, match=r"--name 'a b': use letters"):
        state.runner_names("gpu1", 1, "a b")


def test_belongs_does_not_mix_up_similar_hosts() -> None:
    assert state.belongs("cml-gpu1-3", "gpu1")
    assert not state.belongs("cml-gpu1-2-1", "gpu1")  # host gpu1-2's runner
    assert not state.belongs("cml-gpu10-1", "gpu1")
    assert state.belongs("trainer", "x", "trainer")
    assert state.belongs("trainer-2", "x", "trainer")


@pytest.mark.parametrize(
    ("text", "seconds"), [("1800", 1800), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert state.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "30x", "1.5h", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="--idle-timeout"):
        state.parse_duration(text)


def test_stdin_lines_refuse_a_value_with_a_line_break_without_showing_it() -> None:
    assert state.stdin_lines({"name": "a", "jitconfig": "x=y"}) == b"name=a\njitconfig=x=y\n"
    with pytest.raises(HostError, match=r"^script parameter 'token' holds a line break; nothing was sent$"):
        state.stdin_lines({"token": "abc\ninjected=1"})
    with pytest.raises(HostError, match="not a plain word"):
        state.stdin_lines({"Bad Key": "v"})


def test_parse_state_reads_status_sh_and_the_survey() -> None:
    text = (
        "staging=/root/.cache/cml-runner\nnow=1700000100\npackage=" + "ab" * 32 + "\nscripts=ready\n"
        "noise line\nhome=/home/cml-runner/cml-runners\n"
        "runner=cml-a-1\nforge=github\nname=cml-a-1\nmode=service\nlabels=self-hosted,gpu\nid=7\n"
        "started_at=2023-11-14T22:13:20Z\nlast_job_completed_at=2023-11-14T22:14:10Z\nidle_timeout=60\n"
        "pid=42\nalive=yes\n"
        "runner=cml-a-2\nstarted_at=yesterday\nalive=no\ncount=2\n"
    )
    found = state.parse_state(text)
    assert (found.staging, found.now, found.home) == (
        "/root/.cache/cml-runner",
        1700000100,
        "/home/cml-runner/cml-runners",
    )
    assert (found.scripts_ready, found.packages) == (True, frozenset({"ab" * 32}))
    one = found.runners["cml-a-1"]
    assert (one.mode, one.labels, one.id, one.running, one.started, one.last_job_end) == (
        "service",
        ("self-hosted", "gpu"),
        7,
        True,
        1700000000,
        1700000050,
    )
    assert (one.idle_timeout, one.extra) == (60, {"pid": "42"})
    two = found.runners["cml-a-2"]
    assert (two.running, two.started) == (False, None)  # an unreadable time is unknown, never a guess
    assert list(found.runners) == ["cml-a-1", "cml-a-2"]
