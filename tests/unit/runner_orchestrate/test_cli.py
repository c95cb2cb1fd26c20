"""``cml runner``: flags to options, results printed (text or JSON), exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cml.cli import main
from cml.runner import Host, session
from tests.unit.runner_orchestrate.conftest import World

ENV = {"GITHUB_REPOSITORY": "acme/app", "REPO_TOKEN": "ghp_" + "A1b2" * 9}


@pytest.fixture
def wired(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """session.hosts and session.parts answer with the stand-ins; what they were given is kept."""
    seen: dict[str, Any] = {}

    def hosts(specs: list[str], inventory: Path | None) -> list[Host]:
        seen["specs"] = specs
        return [Host(user=s.split("@")[0], address=s.split("@")[1]) for s in specs]

    def parts(ctx: Any, token: str, access: Any, env: Any, **kw: Any) -> Any:
        seen.update(ctx=ctx, token=token, access=access, **kw)
        if access.known_hosts.exists():
            seen["known_hosts_text"] = access.known_hosts.read_text(encoding="utf-8")
        return world.parts

    monkeypatch.setattr(session, "hosts", hosts)
    monkeypatch.setattr(session, "parts", parts)
    return seen


def test_launch_prints_results_as_json(
    world: World, wired: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kh = tmp_path / "kh"
    kh.write_text("gpu1 ssh-ed25519 AAAA\n")
    argv = [
        "runner",
        "launch",
        "-H",
        "root@gpu1",
        "-H",
        "root@gpu2",
        "--forge",
        "github",
        "--labels",
        "train,big",
    ]
    code = main([*argv, "--json", "--known-hosts", str(kh), "--mode", "service", "--count", "2"], ENV)
    out, err = capsys.readouterr()
    assert code == 0, err
    results = json.loads(out)
    assert [(r["host"], r["action"]) for r in results] == [
        ("root@gpu1:22", "launched"),
        ("root@gpu2:22", "launched"),
    ]
    assert results[0]["labels"] == ["self-hosted", "linux", "x64", "train", "big"]
    assert results[0]["runners"] == ["cml-gpu1-1", "cml-gpu1-2"]
    assert wired["ctx"].repo == "acme/app"
    assert wired["token"] == ENV["REPO_TOKEN"]
    assert "root@gpu1:22: connect" in err  # progress on stderr, results alone on stdout
    assert ENV["REPO_TOKEN"] not in out + err


def test_a_failed_host_is_one_error_line_and_the_exit_code(
    world: World, wired: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    world.hosts.down.add("gpu2")
    code = main(["runner", "launch", "-H", "root@gpu1", "-H", "root@gpu2", "--forge", "github"], ENV)
    out, err = capsys.readouterr()
    assert code == 4
    assert [line for line in err.splitlines() if line.startswith("cml: error:")] == [
        "cml: error: root@gpu2:22: connection refused"
    ]
    assert "root@gpu1:22: launched" in out


def test_the_ssh_key_and_known_hosts_come_from_the_environment(
    world: World, wired: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----"
    env = {**ENV, "CML_SSH_KEY": key, "CML_KNOWN_HOSTS": "gpu1 ssh-ed25519 AAAAC3Nz\n"}
    code = main(["runner", "status", "-H", "root@gpu1", "--forge", "github"], env)
    err = capsys.readouterr().err
    assert code == 0, err
    assert wired["access"].identity == key
    assert wired["known_hosts_text"] == "gpu1 ssh-ed25519 AAAAC3Nz\n"
    assert not wired["access"].known_hosts.exists()  # the temporary file is gone afterwards
    from cml.log import redact

    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in redact(key)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["launch", "-H", "a@b", "--parallel", "0"], "cml: error: --parallel 0: must be more than 0"),
        (["launch", "-H", "a@b", "--count", "0"], "cml: error: --count 0: must be more than 0"),
        (["launch", "-H", "a@b", "--labels", "a b"], "cml: error: --labels 'a b': label 'a b'"),
        (
            ["launch", "-H", "a@b", "--idle-timeout", "soon"],
            "cml: error: --idle-timeout 'soon': expected a duration",
        ),
        (["gc", "--idle-timeout", "30m"], "cml: error: --idle-timeout needs -H/--host or --inventory"),
        (
            ["launch", "-H", "a@b", "-H", "c@d", "--name", "x"],
            "cml: error: --name 'x' names one host's runners",
        ),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    wired: dict[str, Any], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["runner", *argv, "--forge", "github"], ENV)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith(message)


def test_no_forge_outside_ci_is_missing_configuration(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "hosts", lambda specs, inv: [Host(user="a", address="b")])
    code = main(["runner", "launch", "-H", "a@b"], {})
    assert code == 3
    assert capsys.readouterr().err.strip() == (
        "cml: error: cml runner needs GitHub or GitLab: run it in their CI or pass --forge github|gitlab"
    )


def test_no_token_is_missing_configuration_except_for_a_dry_run(
    wired: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"GITHUB_REPOSITORY": "acme/app"}
    assert main(["runner", "launch", "-H", "a@b", "--forge", "github"], env) == 3
    assert "GitHub needs a token" in capsys.readouterr().err
    assert main(["runner", "launch", "-H", "a@b", "--forge", "github", "--dry-run"], env) == 0
    assert wired["token"] == ""


def test_help_does_not_import_paramiko_or_rich() -> None:
    import subprocess
    import sys

    code = "import sys, cml.cli; cml.cli.build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('paramiko', 'rich') or m.startswith('cml.runner')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
