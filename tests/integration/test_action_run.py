"""Run the composite actions' steps the way the Actions runner does, minus the marketplace steps.

A small stand-in for the runner: ``${{ }}`` expressions (inputs, step outputs, runner, github) are
evaluated into ``env:``/``with:``/``working-directory:``, each ``run:`` goes to ``bash -eo pipefail``
with ``$GITHUB_ACTION_PATH``, ``RUNNER_OS``/``RUNNER_ARCH`` and a fresh ``$GITHUB_OUTPUT`` (read back as the
runner reads it, heredoc form included). ``actions/setup-python`` answers with this interpreter;
``actions/cache`` answers "hit" and restores the venv a finished install.sh leaves behind (a venv that sees
this interpreter's packages, with install.sh's record of them), because installing from PyPI is not for
tests. Everything else runs for real: the runner guard, key.sh, install.sh on that cache hit with no
package index reachable (``PIP_NO_INDEX=1``), browser.sh finding this machine's Chromium, and cml.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from cml.cli import COMMANDS
from tests.fakes.runner_files import parse

ROOT = Path(__file__).resolve().parents[2]
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


class Runner:
    """Runs one composite action's steps; keeps the step outputs."""

    def __init__(
        self,
        action_dir: Path,
        inputs: dict[str, str],
        temp: Path,
        env: dict[str, str],
        *,
        os_name: str = "Linux",
    ) -> None:
        self.dir = action_dir
        self.meta: dict[str, Any] = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
        self.temp = temp
        self.env = env
        self.ctx: dict[str, str] = {"github.token": "ghs_test_token_123456", "runner.temp": str(temp)}
        self.ctx |= {"runner.os": os_name, "runner.arch": "X64"}
        self.ran: list[str] = []  # step names, in order
        self.logs = ""  # every run step's stdout and stderr
        for name, spec in self.meta["inputs"].items():
            self.ctx[f"inputs.{name}"] = self.eval(str(spec.get("default", "")))
        self.ctx |= {f"inputs.{k}": v for k, v in inputs.items()}

    def eval(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.ctx.get(m[1], ""), text)

    def run(self) -> dict[str, str]:
        """Every step in order, up to the first that fails (as the runner does); returns the outputs."""
        for step in self.meta["runs"]["steps"]:
            assert "if" not in step, "every step runs; install.sh itself tells a complete cached venv"
            self.ran.append(step["name"])
            outputs = self._uses(step) if "uses" in step else self._run(step)
            self.ctx |= {f"steps.{step.get('id')}.outputs.{k}": v for k, v in outputs.items()}
            if "run" in step and self.last.returncode != 0:
                break
        return {name: self.eval(spec["value"]) for name, spec in self.meta["outputs"].items()}

    def _uses(self, step: dict[str, Any]) -> dict[str, str]:
        with_ = {k: self.eval(str(v)) for k, v in step.get("with", {}).items()}
        if step["uses"].startswith("actions/setup-python@"):
            assert with_ == {"python-version": "3.11", "update-environment": "False"}
            return {"python-path": sys.executable, "python-version": "3.11.7"}
        assert step["uses"].startswith("actions/cache@"), step["uses"]
        assert "3.11.7" in with_["key"]
        restore_venv(Path(with_["path"]), self.ctx["steps.key.outputs.key"])
        return {"cache-hit": "true"}

    def _run(self, step: dict[str, Any]) -> dict[str, str]:
        out = self.temp / f"output-{step.get('id', 'step')}"
        out.write_text("", encoding="utf-8")
        env = {**self.env, **{k: self.eval(str(v)) for k, v in step.get("env", {}).items()}}
        env |= {"GITHUB_ACTION_PATH": str(self.dir), "GITHUB_OUTPUT": str(out), "RUNNER_TEMP": str(self.temp)}
        env |= {"RUNNER_OS": self.ctx["runner.os"], "RUNNER_ARCH": self.ctx["runner.arch"]}
        cwd = self.eval(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=Path(self.env["GITHUB_WORKSPACE"]) / cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.last = done
        self.logs += done.stdout + done.stderr
        return parse(out.read_text(encoding="utf-8"))


def restore_venv(path: Path, key: str) -> None:
    """What actions/cache restores after a finished install.sh: a venv whose Python sees this interpreter's
    packages (for the dependencies pip installed), with install.sh's record of them and of the key; no pip."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = next(path.glob("lib/python*/site-packages"))
    (site / "cml-test.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n", encoding="utf-8")
    (site / "cml-action.pth").write_text("/where/the/action/was/when/the/cache/was/saved\n", encoding="utf-8")
    held = subprocess.run(
        [path / "bin" / "python", ROOT / "action" / "venv.py", "freeze"],
        capture_output=True,
        text=True,
        check=True,
    )
    (path / "cml-venv-freeze.txt").write_text(held.stdout, encoding="utf-8")
    (path / "cml-venv-key").write_text(f"{key}\n", encoding="utf-8")


@pytest.fixture
def workspace(repo: Path, tmp_path: Path) -> dict[str, str]:
    (repo / "reports").mkdir()
    (repo / "reports" / "report.md").write_text("# digits\n\naccuracy **0.978**\n", encoding="utf-8")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    offline = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/"}  # a cache hit downloads nothing
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GITHUB_WORKSPACE": str(repo), **offline}


def test_main_action_posts_and_sets_outputs(workspace: dict[str, str], tmp_path: Path) -> None:
    inputs = {"command": "comment update report.md --watermark-title digits", "working-directory": "reports"}
    runner = Runner(ROOT, inputs, tmp_path / "runner-temp", workspace)
    outputs = runner.run()
    assert runner.last.returncode == 0, runner.last.stderr
    assert outputs["gate"] == "pass"
    assert outputs["exit-code"] == "0"
    assert outputs["report"] == "report.md"
    assert outputs["url"].startswith(f"file://{workspace['GITHUB_WORKSPACE']}/.cml/preview/commit-")
    preview = Path(outputs["url"].removeprefix("file://").split("#")[0])
    assert "accuracy <strong>0.978</strong>" in preview.read_text(encoding="utf-8")
    assert "ghs_test_token_123456" not in runner.last.stdout + runner.last.stderr
    venvs = sorted(p.name for p in (tmp_path / "runner-temp").glob("cml-venv-*"))
    assert venvs == ["cml-venv-py3.11.7-none"]
    assert "using the cached venv" in runner.logs  # install.sh took the cache hit without pip
    pth = next((tmp_path / "runner-temp" / venvs[0]).glob("lib/python*/site-packages/cml-action.pth"))
    assert pth.read_text(encoding="utf-8") == f"{ROOT}\n"
    assert "::notice title=cml: Chromium::plots are drawn with " in runner.logs


def test_a_windows_runner_stops_at_the_first_step(workspace: dict[str, str], tmp_path: Path) -> None:
    runner = Runner(
        ROOT, {"command": "comment update report.md"}, tmp_path / "runner-temp", workspace, os_name="Windows"
    )
    outputs = runner.run()
    assert runner.ran == ["Check the runner (Linux or macOS)"]
    assert runner.last.returncode == 1
    assert len(runner.last.stdout.splitlines()) == 1
    assert "::error title=cml: unsupported runner::" in runner.last.stdout
    assert outputs == {"url": "", "report": "", "gate": "", "exit-code": ""}
    assert not list((tmp_path / "runner-temp").glob("cml-venv-*"))


def test_main_action_reports_a_bad_command(workspace: dict[str, str], tmp_path: Path) -> None:
    runner = Runner(ROOT, {"command": "comment update missing.md"}, tmp_path / "runner-temp", workspace)
    outputs = runner.run()
    assert runner.last.returncode == 2
    assert "missing.md: no such file" in runner.last.stderr
    assert (outputs["gate"], outputs["url"]) == ("error", "")


@pytest.mark.parametrize(
    ("name", "inputs"),
    [
        ("report", {"metrics": "metrics.json", "post": "false"}),
        ("runner", {"host": "me@127.0.0.1", "ssh-key": "k", "token": "t"}),
        ("bench", {"model": "model.keras", "post": "false"}),
    ],
)
def test_sub_actions_reach_cml_with_their_flags(
    name: str, inputs: dict[str, str], workspace: dict[str, str], tmp_path: Path
) -> None:
    runner = Runner(ROOT / name, inputs, tmp_path / "runner-temp", workspace)
    outputs = runner.run()
    assert outputs["exit-code"] == str(runner.last.returncode)
    if name not in COMMANDS:  # not there yet: argparse names the command cml lacks
        assert runner.last.returncode == 2
        assert f"invalid choice: '{name}'" in runner.last.stderr
        assert outputs["gate"] == "error"


@pytest.mark.slow
def test_report_sub_action(workspace: dict[str, str], tmp_path: Path) -> None:
    repo = Path(workspace["GITHUB_WORKSPACE"])
    (repo / "metrics.json").write_text('{"accuracy": 0.97}\n', encoding="utf-8")
    inputs = {"metrics": "metrics.json", "output": "out", "fail-on": "accuracy < 0.99", "title": "digits"}
    runner = Runner(ROOT / "report", inputs, tmp_path / "runner-temp", workspace)
    outputs = runner.run()
    assert runner.last.returncode == 8, runner.last.stderr
    assert (outputs["gate"], outputs["report"]) == ("fail", "out")
