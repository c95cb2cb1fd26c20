"""``cml report`` reading real DVC projects with DVC itself (``--reader dvc``) and without it
(``--reader builtin``), compared with ``dvc metrics diff --json`` / ``dvc params diff --json`` on the
same revisions: same names, same values, same deltas."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from cml.report.diff import MetricRow, ParamRow
from cml.report.pipeline import Computed
from cml.report.snapshot import Snapshot
from tests.conftest import git
from tests.fakes import plots as standin
from tests.integration.report.conftest import Cml, commit_all, write
from tests.integration.report.dvc_projects import (
    compute,
    dvc_diff,
    dvclive_project,
    expected,
    pipeline_project,
    run,
)

pytest.importorskip("dvc.repo", reason="the dvc extra is not installed")
#: DVC 3.67's pipeline graph still calls pygtrie's deprecated ``_NoneStep.value``.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:_NoneStep.value:DeprecationWarning")]


def _repo(tmp: Path) -> Path:
    root = tmp / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ada")
    git(root, "config", "user.email", "ada@example.com")
    return root


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A dvclive project trained at two commits: (root, base sha)."""
    root = _repo(tmp_path_factory.mktemp("live"))
    base, _ = dvclive_project(root)
    return root, base


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A DVC pipeline run at two commits: (root, base sha, its remote)."""
    tmp = tmp_path_factory.mktemp("pipe")
    root, remote = _repo(tmp), tmp / "remote"
    base, _ = pipeline_project(root, remote)
    return root, base, remote


def _as_dvc(value: Any) -> Any:
    """A value as ``dvc ... diff --json`` writes it: a list as its text, a number as a float."""
    if isinstance(value, list):
        return str(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _same_metrics(rows: list[MetricRow], diff: dict[str, dict[str, Any]]) -> None:
    want = expected(diff)
    assert {r.name for r in rows} == set(want)
    for row in rows:
        dvc = want[row.name]
        assert (_as_dvc(row.base), _as_dvc(row.head)) == (_as_dvc(dvc["old"]), _as_dvc(dvc["new"])), row.name
        assert row.delta == dvc.get("diff"), row.name


def _same_params(rows: list[ParamRow], diff: dict[str, dict[str, Any]]) -> None:
    want = expected(diff)
    assert {r.name for r in rows} == set(want)
    for row in rows:
        dvc = want[row.name]
        assert (_as_dvc(row.base), _as_dvc(row.head)) == (_as_dvc(dvc["old"]), _as_dvc(dvc["new"])), row.name
        assert (row.change == "same") == (dvc["old"] == dvc["new"]), row.name


def _rows(done: Computed) -> tuple[Any, ...]:
    return (
        [(r.name, r.base, r.head, r.delta, r.verdict) for r in done.data.metrics],
        [(r.name, r.base, r.head, r.change) for r in done.data.params],
    )


def test_dvclive_project_agrees_with_dvc_diff(live: tuple[Path, str]) -> None:
    root, base = live
    done = compute(root, "dvc", base)
    assert done.sources.reader == "dvc"
    _same_metrics(list(done.data.metrics), dvc_diff(root, "metrics", base))
    _same_params(list(done.data.params), dvc_diff(root, "params", base))
    assert [r.name for r in done.data.metrics] == ["train.loss", "acc", "step"]
    assert next(r for r in done.data.params if r.name == "layers").head == [128, 64, 32]
    assert done.data.notes == ()


def test_both_readers_give_the_same_report_on_a_dvclive_project(live: tuple[Path, str]) -> None:
    root, base = live
    dvc, builtin = compute(root, "dvc", base), compute(root, "builtin", base)
    assert builtin.sources.reader == "builtin"
    assert _rows(dvc) == _rows(builtin)
    assert dvc.sources.plots == builtin.sources.plots
    assert dvc.sources.confusions == builtin.sources.confusions
    assert len(dvc.sources.plots) == 3  # acc, train/loss, roc; the confusion matrix beside them
    assert dvc.head.records == builtin.head.records
    assert dvc.base is not None
    assert builtin.base is not None
    assert dvc.base.records == builtin.base.records
    assert dvc.base.records["dvclive/plots/metrics/acc.tsv"][-1] == {"step": 2, "acc": 0.7}


def test_a_file_dvc_cannot_read_is_a_note_not_an_abort(
    live: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, base = live
    metrics = root / "dvclive" / "metrics.json"
    try:
        metrics.write_text("{not json")
        done = compute(root, "dvc", base)
    finally:
        git(root, "checkout", "--", "dvclive/metrics.json")
    note = [
        n
        for n in done.data.notes
        if n.startswith("dvclive/metrics.json: DVC could not read it in the work tree")
    ]
    assert len(note) == 1, done.data.notes
    assert note[0] in caplog.text
    assert {r.name: r.verdict for r in done.data.metrics}["acc"] == "gone"
    assert {r.name for r in done.data.params} == {"lr", "layers", "optimizer"}  # the rest is read


def test_a_dangling_link_is_a_note_too(live: tuple[Path, str]) -> None:
    root, base = live
    metrics = root / "dvclive" / "metrics.json"
    try:
        metrics.unlink()
        metrics.symlink_to(root / "gone.json")  # DVC's symlink cache after a gc, say
        done = compute(root, "dvc", base)
    finally:
        metrics.unlink()
        git(root, "checkout", "--", "dvclive/metrics.json")
    assert "dvclive/metrics.json: DVC could not read it in the work tree: no such file" in done.data.notes


def test_cli_reads_with_dvc_and_writes_the_report(
    live: tuple[Path, str], cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, base = live
    standin.install(monkeypatch)
    monkeypatch.chdir(root)
    code, out, err = cml("--reader", "dvc", "--base", base, "--json", "--output", "cml-report")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["metrics"], summary["metrics_changed"]) == (3, 2)
    # acc, train/loss, ROC and its log-FPR view (AUC >= 0.9); the confusion matrix's base and head
    assert (summary["plots"], summary["images"]) == (4, 6)
    report = (root / "cml-report" / "report.md").read_text()
    assert "| acc " in report
    assert "[64, 32] → [128, 64, 32]" in report
    # TODO(i12-head): compare the per-metric old/new/delta of --json with dvc metrics diff --json too


def test_pipeline_agrees_with_dvc_diff(pipe: tuple[Path, str, Path]) -> None:
    root, base, _ = pipe
    done = compute(root, "dvc", base)
    metrics, params = dvc_diff(root, "metrics", base), dvc_diff(root, "params", base)
    # foreach stages with ${} paths, the nested dvc.yaml and the cached file are all there
    assert set(metrics) == {"results/small.json", "results/big.json", "cached/score.json", "sub/eval.json"}
    assert set(params) == {"params.yaml", "train.yaml"}
    _same_metrics(list(done.data.metrics), metrics)
    _same_params(list(done.data.params), params)
    names = {r.name for r in done.data.params}
    assert "train.yaml:epochs" not in names  # the stage only takes lr and batch from train.yaml
    assert {r.name: r.delta for r in done.data.metrics}["cached/score.json:score"] == pytest.approx(-1.6)


def test_builtin_reader_says_what_it_cannot_read_and_agrees_on_the_rest(pipe: tuple[Path, str, Path]) -> None:
    root, base, _ = pipe
    dvc, builtin = compute(root, "dvc", base), compute(root, "builtin", base)
    assert builtin.data.notes == (
        "dvc.yaml: stages.train: a foreach stage, expanded by DVC only "
        "(DVC reads it: pip install 'cml-suite[dvc]'); not read",
    )
    by_dvc = {r.name: (r.base, r.head, r.delta) for r in dvc.data.metrics}
    read = {r.name: (r.base, r.head, r.delta) for r in builtin.data.metrics}
    assert read["sub/eval.json:auc"] == by_dvc["sub/eval.json:auc"]
    assert read["cached/score.json:score"] == (None, *by_dvc["cached/score.json:score"][1:2], None)
    assert {r.name: r.head for r in builtin.data.params} == {"lr": 0.05, "batch": 32}


def test_cached_base_metrics_from_the_cache_the_remote_or_the_stored_report(
    pipe: tuple[Path, str, Path], tmp_path: Path
) -> None:
    root, base, remote = pipe
    note = f"Base `cached/score.json` at `{base[:7]}` (kept in the DVC cache):"
    done = compute(root, "dvc", base)
    assert f"{note} read from the local DVC cache." in done.data.notes
    score = {r.name: r.base for r in done.data.metrics}["cached/score.json:score"]
    assert score == pytest.approx(3.2)

    run(root, "dvc", "gc", "-w", "-f", "-q")  # the local cache keeps the work tree's objects only
    done = compute(root, "dvc", base)
    assert f"{note} fetched from the DVC remote." in done.data.notes
    assert {r.name: r.base for r in done.data.metrics}["cached/score.json:score"] == score

    run(root, "dvc", "gc", "-w", "-f", "-q")
    shutil.move(remote, tmp_path / "gone")
    try:
        done = compute(root, "dvc", base)
        assert (
            f"{note} neither the local cache nor a remote has it; no base values for it." in done.data.notes
        )
        assert {r.name: r.base for r in done.data.metrics}["cached/score.json:score"] is None
        kept = Snapshot(metrics={"cached/score.json:score": 3.2, "cached/score.json:nested.f1": 0.1})

        def stored(sha: str) -> Snapshot | None:
            return (
                Snapshot(metrics=kept.metrics, origin=f"stored report on {sha[:7]}") if sha == base else None
            )

        done = compute(root, "dvc", base, stored)
        assert (
            f"{note} neither the local cache nor a remote has it; taken from the report stored on that commit."
            in (done.data.notes)
        )
        rows = {r.name: r for r in done.data.metrics}
        assert rows["cached/score.json:score"].base == 3.2
        assert rows["sub/eval.json:auc"].base == 0.7  # the files DVC read stay as read
    finally:
        shutil.move(tmp_path / "gone", remote)


def test_reader_dvc_outside_a_dvc_repository_is_a_config_error(
    repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "metrics.json").write_text('{"acc": 1}')
    (repo / "dvc.yaml").write_text("metrics: [metrics.json]\n")
    monkeypatch.chdir(repo)
    code, _out, err = cml("--reader", "dvc")
    assert code == 3
    assert "is not a DVC repository (no .dvc folder)" in err
    code, _out, err = cml("--reader", "auto", "--output", "out")  # auto: the built-in reader
    assert code == 0, err


def test_a_dvc_yaml_dvc_rejects_falls_back_to_the_builtin_reader(
    repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    run(repo, "dvc", "init", "-q")
    stage = "stages:\n  train:\n    cmd: python train.py\n    metrics: [m.json]\n"
    plots = "    plots:\n      - curve.json:\n          x: epoch\n          y: [loss, val_loss]\n"
    write(
        repo,
        {
            "dvc.yaml": stage + plots,
            "m.json": '{"acc": 0.5}',
            "curve.json": '[{"epoch": 1, "loss": 1, "val_loss": 2}]',
        },
    )
    commit_all(repo, "a stage plot of two columns, which DVC 3 rejects")
    monkeypatch.chdir(repo)
    code, _out, err = cml("--output", "out")
    assert code == 0, err
    why = f"DVC cannot read this project ({repo}): './dvc.yaml' validation failed: expected str"
    note = next(line for line in (repo / "out" / "report.md").read_text().splitlines() if why in line)
    assert note.endswith("; read with the built-in reader instead")
    assert why in err
    code, _out, err = cml("--reader", "dvc", "--output", "out")
    assert code == 2
    assert f"cml: error: {why}" in err


@pytest.mark.parametrize(
    ("reader", "dvc_yaml", "hostile", "make", "why"),
    [
        ("dvc", "metrics: [m.json]\n", "m.json", "git-config", "inside a git directory"),
        (
            "auto",
            "metrics: [m.json]\n",
            "params.yaml",
            "fifo",
            "is a FIFO (named pipe), expected a regular file",
        ),
        ("dvc", "metrics: [m.json]\nplots: [curve.csv]\n", "curve.csv", "fifo", "is a FIFO (named pipe)"),
        ("auto", "", "dvc.yaml", "git-config", "inside a git directory"),
        ("dvc", "vars: [v.yaml]\nmetrics: [m.json]\n", "v.yaml", "fifo", "is a FIFO (named pipe)"),
    ],
)
def test_dvc_reads_no_file_cml_would_refuse(
    repo: Path,
    cml: Cml,
    monkeypatch: pytest.MonkeyPatch,
    reader: str,
    dvc_yaml: str,
    hostile: str,
    make: str,
    why: str,
) -> None:
    """What DVC would read in the work tree passes cml's own checks first: a link into .git (which can
    hold the checkout's token) or a FIFO (reading it hangs) is exit 2 naming the file, read by no one."""
    run(repo, "dvc", "init", "-q")
    write(repo, {"dvc.yaml": dvc_yaml, "m.json": '{"acc": 1}', "curve.csv": "x,y\n1,2\n"})
    path = repo / hostile
    path.unlink(missing_ok=True)
    if make == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(repo / ".git" / "config")
    monkeypatch.chdir(repo)
    code, _out, err = cml("--reader", reader, "--output", "out")
    assert code == 2
    assert "built-in reader instead" not in err  # refused, not read by the other reader
    assert err.startswith(f"cml: error: {hostile}: ") or f"\ncml: error: {hostile}: " in err, err
    assert why in err
    assert "repositoryformatversion" not in err
