"""cml.runner.command.run without the CLI: a typed request in, per-host results and an exit code out."""

from __future__ import annotations

from typing import Any

import pytest

from cml.errors import ConfigError, UsageError
from cml.runner.command import RunnerRequest, run
from cml.runner.provision import GcOptions, LaunchOptions
from cml.session import Access
from tests.unit.runner_orchestrate.conftest import World
from tests.unit.runner_orchestrate.test_cli import ENV, wired  # noqa: F401 (a fixture)

GITHUB = Access(forge="github")


def test_launch_returns_each_hosts_result(world: World, wired: dict[str, Any]) -> None:  # noqa: F811
    request = RunnerRequest(
        verb="launch",
        options=LaunchOptions(labels=("train",), count=2),
        hosts=("root@gpu1", "root@gpu2"),
        access=GITHUB,
    )
    done = run(request, ENV)
    assert [(r.host, r.ok, r.action) for r in done.results] == [
        ("root@gpu1:22", True, "launched"),
        ("root@gpu2:22", True, "launched"),
    ]
    assert done.results[0].runners == ("cml-gpu1-1", "cml-gpu1-2")
    assert done.exit_code == 0
    assert wired["specs"] == ("root@gpu1", "root@gpu2")
    assert (wired["ctx"].forge, wired["token"]) == ("github", ENV["REPO_TOKEN"])


def test_a_host_that_fails_is_in_the_result_not_raised(world: World, wired: dict[str, Any]) -> None:  # noqa: F811
    world.hosts.down.add("gpu2")
    request = RunnerRequest(
        verb="launch", options=LaunchOptions(), hosts=("root@gpu1", "root@gpu2"), access=GITHUB
    )
    done = run(request, ENV)
    assert [(r.host, r.ok) for r in done.results] == [("root@gpu1:22", True), ("root@gpu2:22", False)]
    assert done.results[1].message == "connection refused"
    assert done.exit_code == 4


def test_options_of_another_verb_are_refused(world: World, wired: dict[str, Any]) -> None:  # noqa: F811
    with pytest.raises(UsageError, match="runner launch: options of the wrong kind"):
        run(RunnerRequest(verb="launch", options=GcOptions(), hosts=("root@gpu1",), access=GITHUB), ENV)
    assert wired == {}  # refused before the hosts or the forge were looked at


def test_no_token_is_a_config_error_unless_a_dry_run(world: World, wired: dict[str, Any]) -> None:  # noqa: F811
    env = {"GITHUB_REPOSITORY": "acme/app"}
    with pytest.raises(ConfigError, match="GitHub needs a token"):
        run(RunnerRequest(verb="launch", options=LaunchOptions(), hosts=("root@gpu1",), access=GITHUB), env)
    planned = run(
        RunnerRequest(
            verb="launch", options=LaunchOptions(dry_run=True), hosts=("root@gpu1",), access=GITHUB
        ),
        env,
    )
    assert wired["token"] == ""
    assert [r.action for r in planned.results] == ["planned"]
