"""Which revision is the head: ``--head REV`` reads nothing from the work tree; a work tree whose
tracked inputs differ from its commit is a workspace, labelled so and never stored as the commit's
data, while changed outputs (metrics, DVC outs, dvc.lock, dvclive/) are the commit's own data.

Posting goes to the fake GitHub (push runs comment on the commit, PR runs on the PR); the assertions
are on the comment bodies it received.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cml.cli import main
from cml.report.snapshot import decode_block
from tests.conftest import git
from tests.fakes import plots as standin
from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import _check, openapi_checker  # noqa: F401 (a fixture)
from tests.integration.github.openapi import Checker
from tests.integration.report.conftest import Cml, commit_all, write

REPO = "acme/app"
TOKEN = "tok-ada-5f1e9c0b7d2a4e6f"
PR = 7
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def gh(openapi_checker: Checker | None) -> Iterator[FakeGitHub]:  # noqa: F811
    """A fake GitHub with ``acme/app`` and a user token (``ada``); OpenAPI-checked after the test."""
    with FakeGitHub() as server:
        server.add_repo(REPO)
        server.add_token(TOKEN, "ada")
        yield server
    _check(openapi_checker, server)


def gh_env(fake: FakeGitHub, tmp: Path, *, head: str, base: str | None = None) -> dict[str, str]:
    """GitHub Actions variables for a push of ``head`` (``base`` None) or PR #7 from ``head`` to ``base``."""
    pull = {"number": PR, "head": {"sha": head, "ref": "feature", "repo": {"full_name": REPO}}}
    pull["base"] = {"sha": base, "ref": "main", "repo": {"full_name": REPO}}
    payload = {"after": head} if base is None else {"number": PR, "pull_request": pull}
    event = tmp / f"event-{head[:7]}.json"
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.url,
        "GITHUB_SERVER_URL": fake.html_root,
        "GITHUB_EVENT_NAME": "push" if base is None else "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": head,
        "REPO_TOKEN": TOKEN,
    }


def _report(root: Path) -> str:
    return (root / "cml-report" / "report.md").read_text()


def _rows(report: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.split("|")[1:-1]] for line in report.splitlines() if line.startswith("|")
    ]


# ---- --head REV --------------------------------------------------------------------------------------


def test_head_and_base_read_nothing_from_the_work_tree(
    project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    write(
        project,
        {"dvc.yaml": "metrics: [metrics.json]\nparams: [params.yaml]\nplots:\n- train.csv:\n    x: epoch\n"},
    )
    write(project, {"pyproject.toml": '[tool.cml]\nlower-is-better = ["accuracy"]\n'})
    head = commit_all(project, "dvc.yaml")
    base = git(project, "rev-parse", "main")
    # The work tree is wrecked: no dvc.yaml, unreadable data, broken config, a folder for a file.
    (project / "dvc.yaml").unlink()
    (project / "train.csv").unlink()
    (project / "train.csv").mkdir()
    write(project, {"metrics.json": "{not json", "params.yaml": "lr: [", "pyproject.toml": "[tool.cml\n"})
    code, out, err = cml("--head", "feature", "--base", "main", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["head"], summary["baseline"], summary["uncommitted"]) == (head, base, [])
    report = _report(project)
    assert f"Comparing `{head[:7]}` with `{base[:7]}`, --base main." in report
    assert ["accuracy", "0.9", "0.87", "↓ -0.03 🟢", "-3.33%"] in _rows(
        report
    )  # lower is better, as committed
    assert ["model.depth", "3 → 4"] in _rows(report)
    figure = standin.read(project / "cml-report" / "plot-1.png")
    assert [s["y"] for s in figure["series"]] == [[0.6, 0.8, 0.87], [0.5, 0.7, 0.9]]
    assert decode_block(report) is not None  # HEAD is the commit read: its data may be stored


def test_head_finds_a_dvclive_folder_in_the_commit(
    repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    live = {"dvclive/metrics.json": '{"acc": 0.5}', "dvclive/plots/metrics/acc.tsv": "step\tacc\n0\t0.5\n"}
    write(repo, {**live, "dvclive/params.yaml": "lr: 0.1\n", "train.py": "0\n"})
    base = commit_all(repo, "base")
    write(
        repo,
        {"dvclive/metrics.json": '{"acc": 0.75}', "dvclive/plots/metrics/acc.tsv": "step\tacc\n0\t0.75\n"},
    )
    commit_all(repo, "head")
    git(repo, "rm", "-q", "-r", "dvclive")  # gone from the work tree (and the index)
    monkeypatch.chdir(repo)
    code, out, err = cml("--head", "HEAD", "--base", base, "--json")
    assert code == 0, err
    assert json.loads(out)["diff"]["metrics"] == {
        "dvclive/metrics.json": {"acc": {"old": 0.5, "new": 0.75, "diff": 0.25}}
    }
    assert "![acc by step](plot-1.png)" in _report(repo)


def test_head_other_than_the_checked_out_commit_stores_nothing(
    project: Path, gh: FakeGitHub, tmp_path: Path
) -> None:
    older = git(project, "rev-parse", "HEAD")
    write(project, {"metrics.json": json.dumps({"accuracy": 0.99, "loss": 0.2, "eval": {"f1": 0.8}})})
    newer = commit_all(project, "newer")
    env = gh_env(gh, tmp_path, head=newer)
    assert main(["report", "--metrics", "metrics.json", "--head", "HEAD~1", "--post"], env) == 0
    [comment] = gh.repos[REPO].commit_comments
    assert comment["_sha"] == newer  # posted where the run is, but it reports HEAD~1 ...
    assert f"Comparing `{older[:7]}` with `{git(project, 'rev-parse', 'main')[:7]}`" in comment["body"]
    assert "0.87" in comment["body"]
    assert decode_block(comment["body"]) is None  # ... so HEAD~1's values are not stored on newer


def test_head_is_resolved_or_refused(project: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = cml("--metrics", "metrics.json", "--head", "nope")
    assert code == 2
    assert err.splitlines() == [
        "fetching nope from origin for the head",  # no origin here: git fails, quietly
        "cml: error: --head 'nope': no such commit here or on origin",
    ]
    code, _, err = cml("--metrics", "gone.json", "--head", "main")
    main_sha = git(project, "rev-parse", "main")[:7]
    assert (code, err) == (2, f"cml: error: {main_sha}:gone.json: no such file in commit {main_sha}\n")
    elsewhere = project.parent / "not-git"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = cml("--metrics", "m.json", "--head", "main")
    assert code == 2
    assert err.startswith("cml: error: --head: ")


def test_head_without_base_takes_the_baseline_of_that_commit(project: Path, cml: Cml) -> None:
    write(project, {"metrics.json": json.dumps({"accuracy": 0.5, "loss": 0.25, "eval": {"f1": 0.8}})})
    commit_all(project, "later")
    git(project, "checkout", "-q", "main")  # HEAD is main, whose baseline would be its parent
    code, out, _ = cml("--metrics", "metrics.json", "--head", "feature", "--json")
    assert code == 0
    assert json.loads(out)["baseline"] == git(project, "rev-parse", "main")
    assert ["accuracy", "0.9", "0.5", "↓ -0.4 🔴", "-44.4%"] in _rows(_report(project))


def test_work_tree_against_its_own_commit_is_named_so(project: Path, cml: Cml) -> None:
    head = git(project, "rev-parse", "HEAD")[:7]
    write(project, {"metrics.json": json.dumps({"accuracy": 0.95, "loss": 0.25, "eval": {"f1": 0.8}})})
    assert cml("--metrics", "metrics.json", "--base", "HEAD")[0] == 0
    assert f"Comparing the work tree with its own commit `{head}`, --base HEAD." in _report(project)
    write(project, {"params.yaml": "lr: 1\n"})
    assert cml("--metrics", "metrics.json", "--base", "HEAD")[0] == 0
    assert (
        f"Comparing workspace (uncommitted, on `{head}`) with its own commit `{head}`, --base HEAD."
        in _report(project)
    )


# ---- work tree: workspace or the commit's own data ---------------------------------------------------

DVC_YAML = """stages:
  train:
    cmd: python train.py
    deps: [train.py, data/raw.csv]
    params: [lr]
    outs: [model]
    metrics: [metrics.json]
"""
PROJECT = {
    ".gitignore": "cml-report/\n",
    "dvc.yaml": DVC_YAML,
    "dvc.lock": "schema: '2.0'\n",
    "train.py": "print('train')\n",
    "data/raw.csv": "x\n1\n",
    "params.yaml": "lr: 0.1\n",
    "metrics.json": '{"acc": 0.8}',
    "model/weights.txt": "0\n",
    "dvclive/params.yaml": "lr: 0.1\n",
}
CHANGED = {
    ".gitignore": "cml-report/\n/model\n",
    "dvc.lock": "schema: '2.0'\nstages: {}\n",
    "train.py": "print('train harder')\n",
    "data/raw.csv": "x\n2\n",
    "params.yaml": "lr: 0.2\n",
    "metrics.json": '{"acc": 0.9}',
    "model/weights.txt": "1\n",
    "dvclive/params.yaml": "lr: 0.2\n",
}


@pytest.mark.parametrize(
    ("changed", "inputs"),
    [
        (["params.yaml"], ["params.yaml"]),
        (["train.py", "metrics.json"], ["train.py"]),
        (["data/raw.csv", "dvc.lock", "model/weights.txt"], ["data/raw.csv"]),
        (["metrics.json", "model/weights.txt", "dvc.lock", ".gitignore", "dvclive/params.yaml"], []),
    ],
    ids=["params", "code", "dvc-dep", "outputs-only"],
)
def test_push_run_stores_only_the_commits_own_data(
    repo: Path,
    gh: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    changed: list[str],
    inputs: list[str],
) -> None:
    write(repo, {**PROJECT, "metrics.json": '{"acc": 0.7}'})
    before = commit_all(repo, "first run")
    write(repo, PROJECT)
    sha = commit_all(repo, "second run")
    write(repo, {name: CHANGED[name] for name in changed})
    (repo / "dvclive" / "metrics.json").write_text("{}")  # untracked: never an input
    monkeypatch.chdir(repo)
    capsys.readouterr()
    assert main(["report", "--post", "--json"], gh_env(gh, tmp_path, head=sha)) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["uncommitted"] == inputs
    [comment] = gh.repos[REPO].commit_comments
    assert comment["_sha"] == sha
    block = decode_block(comment["body"])
    head = f"workspace (uncommitted, on `{sha[:7]}`)" if inputs else f"`{sha[:7]}`"
    assert f"Comparing {head} with `{before[:7]}`, the previous commit." in comment["body"]
    if inputs:
        assert block is None
        names = ", ".join(f"`{p}`" for p in inputs)
        note = f"Uncommitted changes to {names}: the head is the workspace, so its values are not stored"
        assert f"> {note}" in comment["body"]
        assert note in err
    else:
        assert block is not None
        assert block[0] == sha
        assert block[1].metrics["acc"] == (0.9 if "metrics.json" in changed else 0.8)
        assert "Uncommitted" not in comment["body"]


def test_a_workspace_run_on_main_is_no_baseline_later(
    repo: Path, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metrics are a build output (gitignored); main's run had a params edit nobody committed."""
    write(repo, {".gitignore": "cml-report/\nmetrics.json\n", "params.yaml": "lr: 0.1\n"})
    base = commit_all(repo, "main")
    monkeypatch.chdir(repo)
    write(repo, {"params.yaml": "lr: 0.3\n", "metrics.json": '{"acc": 0.95}'})
    flags = ["--metrics", "metrics.json", "--params", "params.yaml"]
    assert main(["report", *flags, "--post"], gh_env(gh, tmp_path, head=base)) == 0
    [stored] = gh.repos[REPO].commit_comments
    assert decode_block(stored["body"]) is None
    git(repo, "checkout", "-q", "params.yaml")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"train.py": "print(1)\n"})
    head = commit_all(repo, "feature")
    write(repo, {"metrics.json": '{"acc": 0.9}'})
    gh.add_pr(REPO, PR, head)
    assert main(["report", *flags, "--post"], gh_env(gh, tmp_path, head=head, base=base)) == 0
    report = _report(repo)
    assert "metrics from the report stored on that commit" not in report
    assert ["acc", "0.9"] in _rows(report)  # head only: the workspace's 0.95 was never a baseline


# ---- golden markdown ---------------------------------------------------------------------------------


def test_golden_report_of_a_dirty_work_tree(project: Path, cml: Cml) -> None:
    write(project, {"params.yaml": "lr: 0.05\nbatch: 64\nmodel:\n  depth: 4\nopt: adam\n", "train.py": "1\n"})
    write(project, {"metrics.json": json.dumps({"accuracy": 0.91, "loss": 0.2, "eval": {"f1": 0.8}})})
    code, _, _ = cml("--metrics", "metrics.json", "--params", "params.yaml", "--fail-on", "accuracy < 0.5")
    assert code == 0
    text = _report(project)
    for name, sha in (
        ("HEAD", git(project, "rev-parse", "HEAD")),
        ("BASE", git(project, "rev-parse", "main")),
    ):
        text = text.replace(sha[:7], f"<{name}>")
    path = GOLDEN / "dirty_work_tree.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"
