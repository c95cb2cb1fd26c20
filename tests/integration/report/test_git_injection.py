"""No value from a user or a CI event reaches git as an option: ``--base``, the event's base sha and
ref, and data file paths. The repository has an ``origin`` on the local file transport, so a fetch
that took ``--upload-pack=CMD`` as an option would run CMD.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git
from tests.integration.report.conftest import Cml, commit_all, write

FLAGS = ("--metrics", "metrics.json", "--params", "params.yaml")


@pytest.fixture
def origin(project: Path, tmp_path: Path) -> Path:
    """A bare clone of ``project`` set as its ``origin`` (git runs upload-pack itself for it)."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(bare))
    git(project, "remote", "add", "origin", str(bare))
    return bare


@pytest.mark.parametrize("option", ["--upload-pack=touch {marker}", "--output={marker}", "-o{marker}"])
def test_an_option_as_base_runs_and_writes_nothing(
    project: Path, origin: Path, tmp_path: Path, cml: Cml, option: str
) -> None:
    marker = tmp_path / "pwned"
    base = option.format(marker=marker)
    code, out, err = cml(*FLAGS, f"--base={base}")
    assert (code, out) == (2, "")
    assert err == (
        f"cml: error: --base {base!r}: no such commit here (and it is no branch, tag or sha to fetch)\n"
    )
    assert not marker.exists()
    assert not (project / "cml-report").exists()


def test_a_refspec_as_base_creates_no_ref(project: Path, origin: Path, cml: Cml) -> None:
    code, _out, err = cml(*FLAGS, "--base=main:refs/heads/evil")
    assert code == 2
    assert err.startswith("cml: error: --base 'main:refs/heads/evil': no such commit here")
    assert "refs/heads/evil" not in git(project, "show-ref")


def test_a_missing_branch_is_looked_for_on_origin(project: Path, origin: Path, cml: Cml) -> None:
    code, _out, err = cml(*FLAGS, "--base=nope")
    assert code == 2
    assert err.splitlines() == [
        "fetching nope from origin for the baseline",
        "cml: error: --base 'nope': no such commit here or on origin",
    ]


def test_a_base_fetched_from_origin_is_used(project: Path, origin: Path, tmp_path: Path, cml: Cml) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(other))
    write(other, {"metrics.json": json.dumps({"accuracy": 0.5, "loss": 0.3, "eval": {"f1": 0.8}})})
    older = commit_all(other, "on origin only")
    git(other, "push", "-q", "origin", "HEAD:refs/heads/old")
    assert subprocess.run(["git", "cat-file", "-e", older], cwd=project, check=False).returncode != 0
    code, out, err = cml(*FLAGS, "--base=old", "--json")
    assert (code, err) == (0, "fetching old from origin for the baseline\n")
    assert json.loads(out)["baseline"] == older


def test_a_head_fetched_from_origin_is_read_from_git(
    project: Path, origin: Path, tmp_path: Path, cml: Cml
) -> None:
    """`--head` on a commit this clone lacks (a shallow CI checkout) is fetched as `--base` is."""
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "main", str(origin), str(other))
    write(other, {"metrics.json": json.dumps({"accuracy": 0.99, "loss": 0.1, "eval": {"f1": 0.8}})})
    newer = commit_all(other, "on origin only")
    git(other, "push", "-q", "origin", "HEAD:refs/heads/candidate")
    code, out, err = cml(*FLAGS, "--head=candidate", "--base=main", "--json")
    assert (code, err) == (0, "fetching candidate from origin for the head\n")
    summary = json.loads(out)
    assert summary["head"] == newer
    assert summary["diff"]["metrics"]["metrics.json"]["accuracy"]["new"] == 0.99


@pytest.mark.parametrize("option", ["--upload-pack=touch {marker}", "-o{marker}"])
def test_an_option_as_head_runs_and_writes_nothing(
    project: Path, origin: Path, tmp_path: Path, cml: Cml, option: str
) -> None:
    marker = tmp_path / "pwned"
    head = option.format(marker=marker)
    code, out, err = cml(*FLAGS, f"--head={head}")
    assert (code, out) == (2, "")
    assert (
        err
        == f"cml: error: --head {head!r}: no such commit here (and it is no branch, tag or sha to fetch)\n"
    )
    assert not marker.exists()


def _actions_env(tmp_path: Path, head: str, base_sha: str, base_ref: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    pull = {"number": 3, "head": {"sha": head, "repo": {"full_name": "a/b"}}}
    pull["base"] = {"sha": base_sha, "ref": base_ref, "repo": {"full_name": "a/b"}}
    event.write_text(json.dumps({"pull_request": pull}))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "a/b",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": head,
    }


def test_an_option_in_the_event_payload_runs_nothing(
    project: Path, origin: Path, tmp_path: Path, cml: Cml
) -> None:
    marker = tmp_path / "pwned"
    head = git(project, "rev-parse", "HEAD")
    env = _actions_env(tmp_path, head, f"--upload-pack=touch {marker}", f"--upload-pack=touch {marker}")
    code, out, err = cml(*FLAGS, "--json", env=env)
    assert (code, err) == (0, "")
    assert not marker.exists()
    # Neither names a commit: the baseline falls back to the merge-base with the default branch.
    assert json.loads(out)["baseline"] == git(project, "rev-parse", "main")


def test_a_data_file_named_like_an_option_is_read_at_the_base(project: Path, cml: Cml) -> None:
    name = "--output=pwned.json"
    git(project, "checkout", "-q", "main")
    write(project, {name: json.dumps({"accuracy": 0.5})})
    commit_all(project, "odd name")
    git(project, "checkout", "-q", "feature")
    git(project, "merge", "-q", "main", "-m", "merge")
    write(project, {name: json.dumps({"accuracy": 0.75})})
    code, out, err = cml(f"--metrics={name}", "--base=main", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["metrics_changed"] == 1  # 0.5 at main, read through `git show main:NAME`
    assert not (project / "pwned.json").exists()


def test_a_repository_without_commits_is_one_line(
    tmp_path: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, {"metrics.json": '{"accuracy": 1}'})
    monkeypatch.chdir(root)
    code, out, err = cml("--metrics", "metrics.json")
    assert (code, out) == (3, "")
    assert err == f"cml: error: {root}: no commits yet: commit first (cml reports on a commit)\n"
