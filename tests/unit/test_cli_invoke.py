"""cml.cli.invoke: the exit code and the typed result of the command, printed output unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml.cli import Outcome, invoke, main
from cml.report.run import ReportResult


def test_a_failed_gate_keeps_its_result_and_says_so_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    (repo / "m.json").write_text(json.dumps({"accuracy": 0.5}), encoding="utf-8")
    outcome = invoke(["report", "--metrics", "m.json", "--fail-on", "accuracy < 0.9"], {})
    assert outcome.code == 8
    assert isinstance(outcome.result, ReportResult)
    assert [c.rule.text for c in outcome.result.gate.failed] == ["accuracy < 0.9"]
    out, err = capsys.readouterr()
    assert out == f"{outcome.result.report}\n"
    assert err == "cml: error: gate failed: accuracy < 0.9\n"


def test_an_error_before_any_result_has_none(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    outcome = invoke(["comment", "update", "missing.md"], {})
    assert (outcome.code, outcome.result) == (2, None)
    assert capsys.readouterr().err.startswith("cml: error: missing.md")
    assert main(["comment", "update", "missing.md"], {}) == 2


def test_a_handler_returning_a_bare_exit_code_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    import cml.cli.publish

    def legacy(args: object, env: object) -> int:
        return 7

    monkeypatch.setattr(cml.cli.publish, "handle", legacy)
    assert invoke(["publish", "x.png"], {}) == Outcome(code=7)
