"""The digits example: its stages end to end without DVC, its committed outputs, and the demo."""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "digits"
METRICS = {"accuracy", "loss", "precision", "recall", "f1", "roc_auc"}


def check_outputs(folder: Path) -> dict[str, Any]:
    """Assert metrics.json and the plot files in ``folder`` parse and make sense; return the metrics."""
    metrics: dict[str, Any] = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == METRICS
    assert all(0 <= metrics[k] <= 1 for k in METRICS - {"loss"})
    roc = json.loads((folder / "plots" / "roc.json").read_text(encoding="utf-8"))
    assert roc[0]["fpr"] == 0
    assert roc[-1] == {**roc[-1], "fpr": 1.0, "tpr": 1.0}
    assert all(a["fpr"] <= b["fpr"] and a["tpr"] <= b["tpr"] for a, b in itertools.pairwise(roc))
    prc = json.loads((folder / "plots" / "prc.json").read_text(encoding="utf-8"))
    assert 2 <= len(prc) <= 200
    assert all(set(r) == {"recall", "precision", "threshold"} for r in prc)
    train = json.loads((folder / "plots" / "train.json").read_text(encoding="utf-8"))
    assert [r["epoch"] for r in train] == list(range(1, len(train) + 1))
    with (folder / "plots" / "confusion.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["actual", "predicted"]
    hits = sum(r["actual"] == r["predicted"] for r in rows)
    assert hits / len(rows) == pytest.approx(metrics["accuracy"], abs=1e-4)
    return metrics


def test_committed_outputs_and_baseline_parse() -> None:
    head = check_outputs(EXAMPLE)
    base = check_outputs(EXAMPLE / "baseline")
    assert head["accuracy"] != base["accuracy"]  # the first report has deltas
    params = yaml.safe_load((EXAMPLE / "params.yaml").read_text(encoding="utf-8"))
    base_params = yaml.safe_load((EXAMPLE / "baseline" / "params.yaml").read_text(encoding="utf-8"))
    assert params["train"] != base_params["train"]
    assert params["prepare"] == base_params["prepare"]


def test_dvc_yaml_stages_are_plain_python_scripts() -> None:
    stages = yaml.safe_load((EXAMPLE / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    assert list(stages) == ["prepare", "train", "evaluate"]
    for name, stage in stages.items():
        assert stage["cmd"] == f"python src/{name}.py"
        assert (EXAMPLE / "src" / f"{name}.py").is_file()
        assert set(stage.get("params", [])) <= set(yaml.safe_load((EXAMPLE / "params.yaml").read_text()))
    plots = [next(iter(p)) for p in stages["evaluate"]["plots"]]
    assert plots == ["plots/roc.json", "plots/prc.json", "plots/confusion.csv"]


def _stage_env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_stages_run_end_to_end_without_dvc(tmp_path: Path) -> None:
    project = tmp_path / "digits"
    shutil.copytree(EXAMPLE / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(EXAMPLE / "params.yaml", project / "params.yaml")
    for stage in ("prepare", "train", "evaluate"):
        done = subprocess.run(
            [sys.executable, f"src/{stage}.py"],
            cwd=project,
            env=_stage_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.startswith(f"{stage}:")
    metrics = check_outputs(project)
    assert metrics["accuracy"] > 0.9
    assert (project / "model" / "model.keras").is_file()
    assert (project / "model" / "saved_model" / "saved_model.pb").is_file()
    # fixed seeds: the same params give the committed numbers (same library versions, same CPU kind)
    committed = json.loads((EXAMPLE / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] == pytest.approx(committed["accuracy"], abs=0.03)


@pytest.mark.slow
def test_a_stage_names_a_missing_params_section(tmp_path: Path) -> None:
    project = tmp_path / "digits"
    shutil.copytree(EXAMPLE / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "params.yaml").write_text("train: {epochs: 1}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "src/prepare.py"],
        cwd=project,
        env=_stage_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "params.yaml has no 'prepare' section" in done.stderr


@pytest.mark.slow
def test_demo_trains_reports_and_prints_the_preview(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--workdir", str(workdir)],
        cwd=ROOT,
        env=_stage_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("report preview: ")
    preview = Path(last.removeprefix("report preview: "))
    assert preview.parent == workdir / ".cml" / "preview"
    html = preview.read_text(encoding="utf-8")
    assert "accuracy" in html
    base = json.loads((EXAMPLE / "baseline" / "metrics.json").read_text(encoding="utf-8"))
    assert str(base["accuracy"]) in html  # compared with the baseline commit
    assert "Confusion matrix</h3>" in html  # per-class precision / recall / F1
    images = [part.split('"')[0] for part in html.split('<img src="')[1:]]
    # Training, ROC (and its log-FPR view: the digits ROC is near AUC 1), PR, and the confusion
    # matrices of base and head side by side, all rendered.
    assert len(images) == 6
    assert all((preview.parent / src).read_bytes()[:4] == b"\x89PNG" for src in images)
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=workdir, capture_output=True, text=True, check=True
    )
    assert len(log.stdout.splitlines()) == 2


def test_demo_refuses_a_non_empty_workdir(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--workdir", str(tmp_path)],
        cwd=ROOT,
        env=_stage_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "is not empty" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
