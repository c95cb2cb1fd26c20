"""Service mode (stand-in systemd on the host) and GitLab's ``glrt-`` flow, end to end, with teardown."""

from __future__ import annotations

import json

from tests.integration.runner_e2e.conftest import E2E, runner_name, state_of


def test_service_mode_with_standin_systemd_registers_per_host_and_tears_down(github: E2E) -> None:
    fake = github.standin_host()
    run = github.cli("launch", "--mode", "service", "--count", "2", hosts=(fake,))
    assert run.code == 0, run.err
    name1, name2 = runner_name(fake, 1), runner_name(fake, 2)
    configs = github.calls("config.sh")
    assert [c.argv[c.argv.index("--name") + 1] for c in configs] == [name1, name2]
    tokens = {c.env["ACTIONS_RUNNER_INPUT_TOKEN"] for c in configs}
    assert len(tokens) == 1  # one registration token for the host, minted right before use
    assert all(not any(t in " ".join(c.argv) for t in tokens) for c in configs)  # never on argv
    assert "--ephemeral" not in configs[0].argv
    unit = (github.root / "units-0" / f"cml-runner-{name1}.service").read_text()
    assert f"ExecStart={fake.runners}/{name1}/run.sh" in unit
    assert state_of(fake, name1)["unit"] == f"cml-runner-{name1}"
    github.sync()
    assert sorted(github.remote()) == [name1, name2]

    again = github.cli("launch", "--mode", "service", "--count", "2", "--json", hosts=(fake,))
    assert [r["action"] for r in json.loads(again.out)] == ["unchanged"]
    assert len(github.calls("config.sh")) == 2

    down = github.cli("teardown", "--json", hosts=(fake,))
    assert down.code == 0, down.err
    removes = [c for c in github.calls("config.sh") if "remove" in c.argv]
    assert len(removes) == 2
    assert all(c.env["ACTIONS_RUNNER_INPUT_TOKEN"] not in tokens for c in removes)
    github.sync()
    assert github.remote() == {}
    assert sorted(p.name for p in fake.runners.iterdir()) == []


def test_gitlab_creates_runners_and_registers_them_with_ci_server_token(gitlab: E2E) -> None:
    x64, arm = gitlab.host(docker=True, gpus=2), gitlab.host(arch="arm64")
    run = gitlab.cli("launch", "--labels", "train", "--json", hosts=(x64, arm))
    assert run.code == 0, run.err
    created = [r for r in gitlab.gl.requests if r.method == "POST" and r.path.endswith("/user/runners")]  # type: ignore[union-attr]
    assert len(created) == 2
    registers = gitlab.calls("gitlab-runner-register")
    assert len(registers) == 2
    for call in registers:
        token = call.env["CI_SERVER_TOKEN"]
        assert token.startswith("glrt-")
        assert token not in " ".join(call.argv)
        assert "--non-interactive" in call.argv
    by_name = {c.argv[c.argv.index("--name") + 1]: c.argv for c in registers}
    gpu_argv, arm_argv = by_name[runner_name(x64)], by_name[runner_name(arm)]
    assert gpu_argv[gpu_argv.index("--executor") + 1] == "docker"
    assert "--docker-gpus" in gpu_argv
    assert arm_argv[arm_argv.index("--executor") + 1] == "shell"  # no docker on that host
    singles = gitlab.calls("gitlab-runner-run-single")
    assert len(singles) == 2
    assert all("--max-builds" in c.argv for c in singles)
    remote = gitlab.remote()
    assert remote[runner_name(arm)] == ["self-hosted", "linux", "arm64", "train"]
    assert "gpus-2" in remote[runner_name(x64)]
    gitlab.sync()

    again = gitlab.cli("launch", "--labels", "train", "--json", hosts=(x64, arm))
    assert [r["action"] for r in json.loads(again.out)] == ["unchanged", "unchanged"], again.err
    assert len(gitlab.issued()) == 2

    down = gitlab.cli("teardown", hosts=(x64, arm))
    assert down.code == 0, down.err
    assert gitlab.remote() == {}
    assert list(x64.runners.iterdir()) == []
    assert list(arm.runners.iterdir()) == []
