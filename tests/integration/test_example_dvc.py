"""The digits example under real DVC 3: its dvc.yaml passes ``dvc dag``, ``dvc repro --dry`` and
``dvc plots show``, and both report readers draw the same plots from it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import git
from tests.integration.report.dvc_projects import compute, run

pytest.importorskip("dvc.repo", reason="the dvc extra is not installed")
#: DVC 3.67's pipeline graph still calls pygtrie's deprecated ``_NoneStep.value``.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:_NoneStep.value:DeprecationWarning")]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits"
PLOTS = {"loss", "plots/roc.json", "plots/prc.json", "plots/confusion.csv"}


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's committed files in a git repository of their own, ``dvc init``-ed."""
    root = tmp_path_factory.mktemp("digits") / "digits"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "baseline", "data", "model"))
    git(root, "init", "-q", "-b", "main")
    run(root, "dvc", "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "digits")
    return root


def test_dvc_reads_the_pipeline(digits: Path) -> None:
    dag = run(digits, "dvc", "dag", "--md")
    assert all(stage in dag for stage in ("prepare", "train", "evaluate"))
    dry = run(digits, "dvc", "repro", "--dry", "prepare")  # later stages need prepare's data to exist
    assert "Running stage 'prepare'" in dry


def test_dvc_plots_show_draws_every_plot(digits: Path) -> None:
    shown = json.loads(run(digits, "dvc", "plots", "show", "--json"))
    assert "errors" not in shown
    assert set(shown["data"]) == PLOTS
    loss = shown["data"]["loss"][0]["content"]
    assert loss["title"]["text"] == "Loss per epoch"
    assert {v["field"] for v in loss["data"]["values"]} == {"loss", "val_loss"}


def test_both_readers_draw_the_same_plots(digits: Path) -> None:
    dvc, builtin = compute(digits, "dvc", "HEAD"), compute(digits, "builtin", "HEAD")
    assert dvc.sources.reader == "dvc"
    assert dvc.sources.plots == builtin.sources.plots
    assert dvc.sources.confusions == builtin.sources.confusions
    loss = next(p for p in dvc.sources.plots if p.title == "Loss per epoch")
    assert loss.series == (("plots/train.json", "epoch", "loss"), ("plots/train.json", "epoch", "val_loss"))
    assert len(dvc.sources.plots) + len(dvc.sources.confusions) == len(PLOTS)
    assert [(r.name, r.head) for r in dvc.data.metrics] == [(r.name, r.head) for r in builtin.data.metrics]
    assert dvc.data.notes == builtin.data.notes == ()
