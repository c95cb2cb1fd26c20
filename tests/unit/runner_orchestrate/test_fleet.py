"""Many hosts: bounded parallelism, every host finishes, the worst exit code, plain progress lines."""

from __future__ import annotations

import concurrent.futures as cf
import io
import threading
import time
from typing import Any

import pytest

from cml.errors import AuthError, ConfigError, HostError, InputError, UsageError
from cml.runner import HostResult, fleet
from cml.runner.parts import Interrupted
from cml.runner.provision import LaunchOptions
from tests.unit.runner_orchestrate.conftest import World, host


def _settings(out: io.StringIO, **kw: Any) -> fleet.Settings:
    return fleet.Settings(out=out, **kw)


def test_one_host_down_the_others_are_provisioned(world: World) -> None:
    hosts = [host(f"h{i}") for i in range(5)]
    world.hosts.down.add("h2")
    out = io.StringIO()
    results = fleet.launch(hosts, LaunchOptions(), world.parts, _settings(out, parallel=2))
    assert [r.host for r in results] == [h.name for h in hosts]
    assert [r.ok for r in results] == [True, True, False, True, True]
    assert results[2].message == "connection refused"
    assert results[2].details == {"exit_code": "4"}
    assert fleet.exit_code(results) == 4
    assert sorted(world.api.by_name()) == [f"cml-h{i}-1" for i in (0, 1, 3, 4)]
    assert world.hosts.most <= 2
    text = out.getvalue()
    assert "root@h2:22: failed: connection refused\n" in text
    assert "root@h0:22: probe\n" in text
    assert "\x1b" not in text  # plain lines in CI logs


def test_parallelism_is_bounded_and_used(world: World) -> None:
    slow = world.hosts.parse_probe

    def probe(output: str, host: Any) -> Any:
        time.sleep(0.05)
        return slow(output, host)

    from dataclasses import replace

    parts = replace(world.parts, parse_probe=probe)
    hosts = [host(f"h{i}") for i in range(6)]
    results = fleet.launch(hosts, LaunchOptions(), parts, _settings(io.StringIO(), parallel=3))
    assert all(r.ok for r in results)
    assert world.hosts.most == 3


def test_a_bug_on_one_host_is_one_line_and_the_others_go_on(world: World) -> None:
    def action(h: Any, step: Any) -> HostResult:
        if h.address == "bad":
            raise KeyError("arch")
        return HostResult(host=h.name, ok=True, action="unchanged")

    results = fleet.run([host("bad"), host("good")], action, _settings(io.StringIO()))
    assert results[0].message == "internal error: KeyError: 'arch' (rerun with --debug)"
    assert results[1].ok
    assert fleet.exit_code(results) == 1


@pytest.mark.parametrize(
    ("errors", "code"),
    [
        ([], 0),
        ([InputError("x")], 2),
        ([InputError("x"), ConfigError("y")], 3),
        ([ConfigError("y"), HostError("z"), InputError("x")], 4),
        ([HostError("z"), AuthError("t")], 5),
        ([AuthError("t"), Interrupted("i")], 130),
    ],
)
def test_the_exit_code_is_the_worst_hosts(errors: list[Any], code: int) -> None:
    results = [fleet.failed(f"h{i}", exc) for i, exc in enumerate(errors)]
    results.append(HostResult(host="ok", ok=True, action="launched"))
    assert fleet.exit_code(results) == code


def test_the_message_does_not_name_the_host_twice_and_is_redacted() -> None:
    from cml.log import register_secret

    register_secret("s3cr3t-value-123")
    result = fleet.failed("root@a:22", HostError("root@a:22: config.sh said s3cr3t-value-123"))
    assert result.message == "config.sh said ***"


def test_ctrl_c_skips_the_hosts_not_started_and_stops_the_running_ones(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    real_wait = cf.wait
    calls = {"n": 0}

    def probe(output: str, host: Any) -> Any:
        started.set()
        time.sleep(0.2)
        return world.hosts.parse_probe(output, host)

    def wait(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            started.wait(5)
            raise KeyboardInterrupt
        return real_wait(*args, **kw)

    monkeypatch.setattr(fleet.cf, "wait", wait)
    from dataclasses import replace

    parts = replace(world.parts, parse_probe=probe)
    hosts = [host(f"h{i}") for i in range(3)]
    results = fleet.launch(hosts, LaunchOptions(), parts, _settings(io.StringIO(), parallel=1))
    assert [r.action for r in results] == ["interrupted"] * 3
    assert results[0].message == "interrupted during probe"
    assert results[2].message == "interrupted before it started"
    assert fleet.exit_code(results) == 130
    assert world.api.held == {}


def test_name_with_several_hosts_is_refused(world: World) -> None:
    with pytest.raises(UsageError, match="--name 'gpu' names one host's runners; 2 hosts were given"):
        fleet.launch([host("a"), host("b")], LaunchOptions(name="gpu"), world.parts, _settings(io.StringIO()))


def test_gc_sweeps_the_forge_first_then_each_host(world: World) -> None:
    from cml.runner.provision import GcOptions

    world.api._add("cml-gone-1", [])
    world.api.held = {k: v.__class__(**{**v.__dict__, "online": False}) for k, v in world.api.held.items()}
    results = fleet.gc([host("h1")], GcOptions(idle_timeout=60), world.parts, _settings(io.StringIO()))
    assert [(r.host, r.action) for r in results] == [(world.api.url, "removed"), ("root@h1:22", "unchanged")]
    assert world.api.held == {}
    with pytest.raises(UsageError, match="--idle-timeout needs -H/--host or --inventory"):
        fleet.gc([], GcOptions(idle_timeout=60), world.parts, _settings(io.StringIO()))


def test_text_lists_details_and_hides_the_exit_code() -> None:
    result = HostResult(
        host="h", ok=False, action="failed", message="m", details={"exit_code": "4", "arch": "x64"}
    )
    assert fleet.text([result]) == "h: failed\n  arch: x64"


def test_the_live_view_draws_each_hosts_last_state(world: World) -> None:
    out = io.StringIO()
    settings = fleet.Settings(out=out, live=True)
    hosts = [host("a"), host("b")]
    world.hosts.down.add("b")
    results = fleet.launch(hosts, LaunchOptions(), world.parts, settings)
    assert [r.ok for r in results] == [True, False]
    text = out.getvalue()
    assert "root@a:22" in text
    assert "launched" in text
    assert "connection refused" in text
