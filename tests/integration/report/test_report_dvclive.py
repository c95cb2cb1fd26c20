"""``cml report`` without flags on a project dvclive 3.49 wrote (root dvc.yaml, folder plot target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import git
from tests.fakes import plots as standin
from tests.integration.report.conftest import Cml, commit_all, write

DVC_YAML = """metrics:
- dvclive/metrics.json
plots:
- dvclive/plots/metrics:
    x: step
- dvclive/plots/sklearn/roc.json:
    template: simple
    x: fpr
    y: tpr
- dvclive/plots/importance.png
params:
- dvclive/params.yaml
"""


def _live(acc: float, status: str, layers: str, loss: tuple[float, float]) -> dict[str, str]:
    return {
        "dvc.yaml": DVC_YAML,
        "dvclive/metrics.json": json.dumps({"acc": acc, "status": status, "step": 1}),
        "dvclive/params.yaml": f"lr: 0.1\nlayers: {layers}\n",
        "dvclive/plots/metrics/loss.tsv": f"timestamp\tstep\tloss\n1\t0\t{loss[0]}\n2\t1\t{loss[1]}\n",
        "dvclive/plots/sklearn/roc.json": json.dumps({"roc": [{"fpr": 0, "tpr": 0}, {"fpr": 1, "tpr": 1}]}),
    }


def test_dvclive_project_reads_without_flags(repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    standin.install(monkeypatch)
    (repo / ".gitignore").write_text("cml-report/\n")
    write(repo, _live(0.8, "ok", "[64, 32]", (0.5, 0.4)))
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, _live(float("nan"), "diverged", "[128, 64, 32]", (0.5, 0.3)))
    commit_all(repo, "head")
    monkeypatch.chdir(repo)
    code, _out, err = cml("--fail-on", "acc < 0.5", "--base", "main")
    assert code == 8, err
    report = (repo / "cml-report" / "report.md").read_text()
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in report.splitlines()
        if line.startswith("| ")
    ]
    assert ["acc", "0.8", "NaN", "🔴", "—"] in rows
    assert ["status", "ok", "diverged", "changed", "—"] in rows
    assert ["layers", "[64, 32] → [128, 64, 32]"] in rows
    assert "> dvc.yaml: plots: dvclive/plots/importance.png: no such file or folder; not drawn" in report
    assert "dvclive/plots/importance.png" in err
    assert "![loss by step](" in report  # what the plot shows, not its file
    assert "![ROC](" in report
