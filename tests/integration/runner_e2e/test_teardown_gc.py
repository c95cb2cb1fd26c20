"""teardown and gc end to end: zero runners left on the fake forge; idle time from the job-completed hook."""

from __future__ import annotations

import json
import time

from tests.fakes import runner_packages
from tests.integration.runner_e2e.conftest import E2E, REPO, runner_name, state_of


def test_teardown_leaves_zero_runners_even_when_a_host_is_down(github: E2E) -> None:
    up, down = github.host(), github.host(arch="arm64")
    assert github.cli("launch", "--count", "2", hosts=(up, down)).code == 0
    github.sync()
    assert len(github.remote()) == 4
    down.kill()
    run = github.cli("teardown", "--json", hosts=(up, down))
    assert run.code == 0, run.err
    results = {r["host"]: r for r in json.loads(run.out)}
    assert results[down.host.name]["message"].startswith(
        f"host unreachable (host {down.host.name} is unreachable: Unable to connect"
    )
    assert "deleted 2 runner(s) through the API" in results[down.host.name]["message"]
    assert github.remote() == {}
    assert list(up.runners.iterdir()) == []


def test_gc_removes_only_offline_runners_with_our_prefix(github: E2E) -> None:
    github.gh.runners.add("cml-old-host-1", repo=REPO, status="offline")  # type: ignore[union-attr]
    github.gh.runners.add("cml-live-host-1", repo=REPO, status="online")  # type: ignore[union-attr]
    github.gh.runners.add("theirs", repo=REPO, status="offline")  # type: ignore[union-attr]
    run = github.cli("gc")
    assert run.code == 0, run.err
    assert sorted(github.remote()) == ["cml-live-host-1", "theirs"]


def test_gc_idle_timeout_reads_the_job_end_time_the_runner_recorded(github: E2E) -> None:
    fake = github.standin_host()
    assert github.cli("launch", "--mode", "service", "--count", "2", hosts=(fake,)).code == 0
    github.sync()
    busy_once, never = runner_name(fake, 1), runner_name(fake, 2)
    time.sleep(3)
    runner_packages.trigger_job(fake.runners / busy_once)  # the runner runs a job; its hook records the end
    deadline = time.monotonic() + 10
    while "last_job_completed_at" not in state_of(fake, busy_once) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state_of(fake, busy_once)["jobs_completed"] == "1"
    run = github.cli("gc", "--idle-timeout", "2s", "--json", hosts=(fake,))
    assert run.code == 0, run.err
    by_host = {r["host"]: r for r in json.loads(run.out)}
    assert by_host[fake.host.name]["runners"] == [never]  # started 3 s ago, no job since
    assert sorted(github.remote()) == [busy_once]  # its job ended a moment ago
    assert sorted(p.name for p in fake.runners.iterdir()) == [busy_once]
