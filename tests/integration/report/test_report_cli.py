from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cml.errors import ConfigError
from cml.forges import Target
from cml.forges.local import LocalForge
from cml.report.snapshot import decode_block
from tests.conftest import git
from tests.fakes import plots as standin
from tests.integration.report.conftest import Cml, commit_all, write

FLAGS = ("--metrics", "metrics.json", "--params", "params.yaml")


def _comments(root: Path) -> list[Path]:
    return sorted((root / ".cml" / "comments").glob("*.json")) if (root / ".cml").exists() else []


def test_report_against_merge_base_posts_then_fails_the_gate(project: Path, cml: Cml) -> None:
    code, out, err = cml(
        *FLAGS, "--fail-on", "accuracy < -0.01", "--warn-on", "loss > +5%", "--post", "--json"
    )
    assert code == 8
    assert err.strip() == "cml: error: gate failed: accuracy < -0.01"
    summary = json.loads(out)
    assert summary["gate"] == "failure"
    assert summary["failed"] == ["accuracy < -0.01"]
    assert summary["warned"] == []
    assert summary["baseline"] == git(project, "rev-parse", "main")
    assert summary["metrics_changed"] == 2
    assert summary["params_changed"] == 3
    assert summary["posted"]["action"] == "created"
    report = (project / "cml-report" / "report.md").read_text()
    assert "❌ **Gate failed:** `accuracy < -0.01` (Δ -0.03)" in report
    assert "| accuracy | 0.9    | 0.87   | ↓ -0.03 🔴 | -3.33% |" in report
    assert "| lr          | 0.1 → 0.01    |" in report
    assert "eval.f1" not in report  # unchanged rows are left out
    head = git(project, "rev-parse", "HEAD")
    body = _body(project)
    assert '<!-- cml:sticky title="CML report"' in body
    sha, stored = decode_block(body) or ("", None)
    assert sha == head
    assert stored is not None
    assert stored.metrics["accuracy"] == 0.87


def _body(root: Path) -> str:
    """The one comment the local forge holds on HEAD."""
    target = Target(kind="commit", ref=git(root, "rev-parse", "HEAD"))
    (only,) = LocalForge(root, "Ada").comments(target)
    return only.body


def test_second_run_updates_the_sticky_comment(project: Path, cml: Cml) -> None:
    assert cml(*FLAGS, "--post")[0] == 0
    write(project, {"metrics.json": json.dumps({"accuracy": 0.95, "loss": 0.25, "eval": {"f1": 0.8}})})
    code, out, _ = cml(*FLAGS, "--post", "--json")
    assert code == 0
    assert json.loads(out)["posted"]["action"] == "updated"
    assert "| accuracy | 0.9    | 0.95   |" in _body(project)


def test_all_lists_unchanged_rows_and_no_post_writes_nothing_to_the_forge(project: Path, cml: Cml) -> None:
    code, out, _ = cml(*FLAGS, "--all", "--output", "out")
    assert code == 0
    assert out.strip() == str(project / "out" / "report.md")
    rows = [
        [c.strip() for c in line.split("|")[1:-1]]
        for line in (project / "out" / "report.md").read_text().splitlines()
    ]
    assert ["eval.f1", "0.8", "0.8", "0", "0%"] in rows
    assert _comments(project) == []


def test_no_baseline_shows_head_values(repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, {"metrics.json": '{"acc": 0.5}'})
    commit_all(repo, "only")
    git(repo, "checkout", "-q", "--orphan", "fresh")
    commit_all(repo, "orphan")
    monkeypatch.chdir(repo)
    code, _, _ = cml("--metrics", "metrics.json", "--fail-on", "acc < -0.1", "--fail-on", "acc < 0.9")
    assert code == 8
    report = (repo / "cml-report" / "report.md").read_text()
    assert "No baseline found for" in report
    assert "| acc      | 0.5    |" in report
    assert "⏭️ Not checked (no baseline value): `acc < -0.1`" in report


def test_explicit_base(project: Path, cml: Cml) -> None:
    write(project, {"metrics.json": json.dumps({"accuracy": 0.5, "loss": 0.25, "eval": {"f1": 0.8}})})
    commit_all(project, "head2")
    code, out, _ = cml(*FLAGS, "--base", "HEAD~1", "--json")
    assert code == 0
    assert json.loads(out)["baseline"] == git(project, "rev-parse", "HEAD~1")
    assert "| accuracy | 0.87   | 0.5    |" in (project / "cml-report" / "report.md").read_text()


def test_stored_baseline_when_metrics_are_not_committed(
    repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".gitignore").write_text(".cml/\ncml-report/\nmetrics.json\n")
    commit_all(repo, "ignore build outputs")
    monkeypatch.chdir(repo)
    write(repo, {"metrics.json": '{"acc": 0.8, "loss": 0.4}'})
    assert cml("--metrics", "metrics.json", "--post")[0] == 0  # the run on main stores its metrics
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "train.py").write_text("print(1)\n")
    commit_all(repo, "change")
    write(repo, {"metrics.json": '{"acc": 0.85, "loss": 0.4}'})
    code, out, _ = cml("--metrics", "metrics.json", "--json")
    assert code == 0
    assert json.loads(out)["baseline"] == base
    report = (repo / "cml-report" / "report.md").read_text()
    assert (
        f"with `{base[:7]}`, the merge-base with main (metrics from the report stored on that commit)"
        in report
    )
    assert "| acc      | 0.8    | 0.85   | ↑ +0.05 🟢 | +6.25% |" in report


@pytest.mark.parametrize(
    ("files", "argv", "message"),
    [
        (
            {"metrics.json": '{"accuracy": 0.9,\n "loss": }'},
            FLAGS,
            "metrics.json: line 2 column 10: invalid JSON",
        ),
        ({"params.yaml": "lr: [1,\n"}, FLAGS, "params.yaml: line 2 column 1: invalid YAML"),
        ({"train.csv": "epoch,acc\n1\n"}, ("--plot", "train.csv:epoch:acc"), "train.csv: line 2: 1 fields"),
        ({}, ("--plot", "train.csv:step:acc"), "train.csv: record 0: no column 'step' (columns: epoch, acc)"),
        (
            {"train.csv": "epoch,acc\n1,high\n"},
            ("--plot", "train.csv:epoch:acc"),
            "train.csv: record 0: column 'acc'",
        ),
        ({}, ("--confusion", "preds.csv:truth:predicted"), "preds.csv: record 0: no column 'truth'"),
        (
            {},
            (*FLAGS, "--fail-on", "acuracy < -0.01"),
            "--fail-on 'acuracy < -0.01': unknown metric 'acuracy'",
        ),
        ({}, (*FLAGS, "--warn-on", "accuracy drops"), "--warn-on 'accuracy drops': expected METRIC OP VALUE"),
        ({}, ("--metrics", "nope.json"), "nope.json: no such file"),
        ({}, ("--plot", "train.csv:epoch"), "--plot 'train.csv:epoch': expected FILE:X:Y[:KIND]"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_posted(
    project: Path,
    cml: Cml,
    files: dict[str, str],
    argv: tuple[str, ...],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin.install(monkeypatch)
    write(project, files)
    code, out, err = cml(*argv, "--post")
    assert code == 2
    assert err.startswith(f"cml: error: {message}")
    assert err.count("\n") == 1
    assert out == ""
    assert _comments(project) == []
    assert not (project / "cml-report").exists()


def test_nothing_to_report(repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, _, err = cml()
    assert code == 2
    assert "nothing to report" in err


def test_dvc_yaml_is_read_without_dvc(project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    standin.install(monkeypatch)
    dvc_yaml = (
        "stages:\n  train:\n    cmd: python train.py\n    params: [lr]\n    metrics: [metrics.json]\n"
        "    plots:\n      - train.csv:\n          x: epoch\n          y: acc\n          template: scatter\n"
        "      - preds.csv:\n          template: confusion\n          x: actual\n          y: predicted\n"
    )
    write(project, {"dvc.yaml": dvc_yaml})
    code, out, _ = cml("--json")
    assert code == 0
    assert json.loads(out)["plots"] == 1
    report = (project / "cml-report" / "report.md").read_text()
    assert "| accuracy | 0.9    | 0.87   |" in report
    assert "### Confusion matrix\n\nAccuracy **1** (base 0.6667, ↑ +0.3333) over 3 samples." in report
    assert "![acc by epoch](plot-1.png)" in report
    # Base and head confusion matrices side by side.
    assert (
        '<img src="plot-2.png" alt="confusion matrix (base)" width="49%">'
        ' <img src="plot-3.png" alt="confusion matrix (head)" width="49%">'
    ) in report
    fig = standin.read(project / "cml-report" / "plot-1.png")
    assert fig["kind"] == "scatter"
    assert [s["name"] for s in fig["series"]] == ["head", "base"]
    assert fig["series"][1]["y"] == [0.5, 0.7, 0.9]


def test_a_broken_plot_in_dvc_yaml_is_a_note_under_plots_not_an_abort(
    project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    dvc_yaml = (
        "stages:\n  train:\n    cmd: python train.py\n    metrics: [metrics.json]\n"
        "    plots:\n      - train.csv:\n          x: step\n          y: acc\n"
        "      - preds.csv:\n          template: confusion\n          x: truth\n          y: predicted\n"
        "plots:\n  - train.csv:\n      x: epoch\n      y: acc\n"
    )
    write(project, {"dvc.yaml": dvc_yaml})
    code, out, err = cml("--json", "--post")
    assert code == 0, err
    assert json.loads(out)["plots"] == 1  # the good plot is drawn
    report = (project / "cml-report" / "report.md").read_text()
    plots = report[report.index("### Plots") :]
    assert "> Not drawn: train.csv: record 0: no column 'step' (columns: epoch, acc)" in plots
    assert "> Not drawn: preds.csv: record 0: no column 'truth'" in plots
    assert "![acc by epoch](plot-1.png)" in plots
    assert "| accuracy | 0.9    | 0.87   |" in report  # the rest of the report is all there
    assert "cml: warning: plot not drawn: train.csv: record 0: no column 'step'" in err
    assert "Not drawn: train.csv" in _body(project)  # and posted


def test_plots_are_uploaded_with_the_comment(
    project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    code, _, _ = cml(*FLAGS, "--plot", "train.csv:epoch:acc:step", "--post")
    assert code == 0
    body = _body(project)
    assert "![acc by epoch](../assets/" in body
    assert len(list((project / ".cml" / "assets").glob("*.png"))) == 1


def test_without_a_renderer_the_report_says_so(
    project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cml.report.plots", None)
    code, _, err = cml(*FLAGS, "--plot", "train.csv:epoch:acc")
    assert code == 0
    assert "plots not rendered" in err
    assert (
        "> Plots not rendered: plot rendering is not available"
        in (project / "cml-report/report.md").read_text()
    )


def test_size_budget_drops_plots_first(project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    standin.install(monkeypatch)
    monkeypatch.setattr(LocalForge, "max_comment_chars", 1800)
    columns = [f"c{i}" for i in range(20)]
    rows = [",".join(["epoch", *columns])] + [
        ",".join(map(str, [e, *(e * i for i in range(20))])) for e in (1, 2)
    ]
    write(project, {"wide.csv": "\n".join(rows) + "\n"})
    plots = [arg for c in columns for arg in ("--plot", f"wide.csv:epoch:{c}")]
    code, out, _ = cml(*FLAGS, *plots, "--confusion", "preds.csv:actual:predicted", "--post", "--json")
    assert code == 0
    assert json.loads(out)["dropped"] == ["Plots"]
    body = _body(project)
    assert len(body) <= 1800
    assert "was cut by" not in body  # whole sections went, nothing was cut mid-way
    assert "### Metrics" in body
    assert "### Confusion matrix" in body
    assert "![c0 by epoch]" not in body
    assert "> Dropped to fit the size limit: Plots (see " in body
    assert (project / "cml-report" / "report.md").read_text().count(" by epoch](plot-") == 20


def test_github_actions_job_summary(
    project: Path, cml: Cml, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_SHA": git(project, "rev-parse", "HEAD"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(project),
    }
    standin.install(monkeypatch)
    code, _, _ = cml(*FLAGS, "--plot", "train.csv:epoch:acc", "--warn-on", "accuracy < 0.95", env=env)
    assert code == 0
    text = summary.read_text()
    assert "*acc by epoch: `cml-report/plot-1.png` in the report folder*" in text
    assert "](plot-1.png)" not in text
    assert text.startswith("earlier step\n<!-- cml:data v1 ")
    assert "⚠️ **Warning:** `accuracy < 0.95` (value 0.87)" in text


def test_runs_table(project: Path, cml: Cml) -> None:
    for name, lr, acc in (("run-a", 0.1, 0.8), ("run-b", 0.01, 0.9)):
        write(project, {f"runs/{name}/params.yaml": f"lr: {lr}\nepochs: 3\n"})
        write(project, {f"runs/{name}/dvclive/metrics.json": json.dumps({"accuracy": acc, "loss": 1 - acc})})
    code, _, _ = cml("--runs", "runs/run-a", "runs/run-b", "--sort-by", "loss")
    assert code == 0
    report = (project / "cml-report" / "report.md").read_text()
    assert "### Experiments" in report
    assert "| 1 🏆 | run-b | 0.01 |" in report
    assert "epochs" not in report
    code, _, err = cml("--runs", "runs/run-a", "--sort-by", "f2")
    assert (code, err.strip()) == (2, "cml: error: --sort-by 'f2': no run has this metric")


def test_github_pull_request_compares_with_the_merge_base(project: Path, cml: Cml, tmp_path: Path) -> None:
    base = git(project, "rev-parse", "main")
    git(project, "checkout", "-q", "main")
    write(project, {"metrics.json": json.dumps({"accuracy": 0.99, "loss": 0.1, "eval": {"f1": 0.8}})})
    main_tip = commit_all(project, "main moves on")
    git(project, "checkout", "-q", "feature")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "pull_request": {
                    "number": 3,
                    "head": {"sha": git(project, "rev-parse", "HEAD"), "repo": {"full_name": "o/r"}},
                    "base": {"ref": "main", "sha": main_tip},
                }
            }
        )
    )
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_WORKSPACE": str(project),
    }
    code, out, _ = cml(*FLAGS, "--json", env=env)
    assert code == 0
    assert json.loads(out)["baseline"] == base
    assert (
        f"with `{base[:7]}`, the merge-base with main." in (project / "cml-report" / "report.md").read_text()
    )


def test_a_failing_renderer_keeps_the_tables(
    project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)

    def no_browser(figures: object, out_dir: Path) -> list[Path]:
        raise ConfigError("no Chromium found", hint="apt-get install chromium-headless-shell")

    monkeypatch.setattr(sys.modules["cml.report.plots"], "render", no_browser)
    code, _, err = cml(*FLAGS, "--plot", "train.csv:epoch:acc", "--confusion", "preds.csv:actual:predicted")
    assert code == 0
    assert "plots not rendered: no Chromium found" in err
    report = (project / "cml-report" / "report.md").read_text()
    assert "> Plots not rendered: no Chromium found" in report
    assert "### Confusion matrix\n\nAccuracy **1** (base 0.6667, ↑ +0.3333) over 3 samples." in report
    assert "![" not in report


def test_stored_metrics_with_committed_params(repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".gitignore").write_text(".cml/\ncml-report/\nmetrics.json\n")
    write(repo, {"params.yaml": "lr: 0.1\n"})
    commit_all(repo, "params committed, metrics built")
    monkeypatch.chdir(repo)
    write(repo, {"metrics.json": '{"acc": 0.8}'})
    assert cml("--metrics", "metrics.json", "--params", "params.yaml", "--post")[0] == 0
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"params.yaml": "lr: 0.2\n", "metrics.json": '{"acc": 0.7}'})
    commit_all(repo, "change lr")
    code, _, _ = cml("--metrics", "metrics.json", "--params", "params.yaml", "--fail-on", "acc < -0.05")
    assert code == 8
    report = (repo / "cml-report" / "report.md").read_text()
    assert "(metrics from the report stored on that commit)" in report
    assert "| acc      | 0.8    | 0.7    | ↓ -0.1 🔴 | -12.5% |" in report
    assert "| lr      | 0.1 → 0.2     |" in report


def test_a_base_that_is_the_head_commit_is_no_comparison(project: Path, cml: Cml) -> None:
    head = git(project, "rev-parse", "HEAD")[:7]
    code, out, _ = cml(*FLAGS, "--base", "HEAD", "--json")
    assert code == 0
    assert json.loads(out)["baseline"] is None
    report = (project / "cml-report" / "report.md").read_text()
    assert f"No baseline: the base is this commit (`{head}`), so there is nothing to compare with." in report
    assert "Comparing" not in report
    # A work tree that differs from its commit is compared with it, and says so.
    write(project, {"metrics.json": json.dumps({"accuracy": 0.5, "loss": 0.25, "eval": {"f1": 0.8}})})
    assert cml(*FLAGS, "--base", "HEAD")[0] == 0
    report = (project / "cml-report" / "report.md").read_text()
    assert f"Comparing the work tree with its own commit `{head}`, --base HEAD." in report
    assert "| accuracy | 0.87   | 0.5    |" in report
