"""CI detection: GitHub Actions payloads, GitLab under a subpath, local git, token order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml import ci
from cml.errors import ConfigError
from tests.conftest import git


def _event(tmp_path: Path, payload: dict[str, object]) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return str(path)


def test_github_pull_request_takes_head_sha_from_payload(tmp_path: Path) -> None:
    payload = {
        "pull_request": {
            "number": 7,
            "head": {"sha": "a" * 40, "repo": {"full_name": "ada/fork"}},
            "base": {"ref": "main", "sha": "b" * 40},
        }
    }
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_SHA": "c" * 40,  # the merge commit: never the one we report on
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": _event(tmp_path, payload),
        "GITHUB_API_URL": "https://ghe.example.com/api/v3",
        "GITHUB_SERVER_URL": "https://ghe.example.com",
        "GITHUB_WORKFLOW": "train",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    ctx = ci.detect(env, tmp_path)
    assert (ctx.forge, ctx.repo, ctx.pr, ctx.sha) == ("github", "acme/models", 7, "a" * 40)
    assert (ctx.base_ref, ctx.base_sha) == ("main", "b" * 40)
    assert ctx.api_url == "https://ghe.example.com/api/v3"
    assert ctx.workflow == "train"
    assert ctx.step_summary == tmp_path / "summary.md"
    assert ctx.is_fork_pr


def test_github_push_uses_github_sha(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/models", "GITHUB_SHA": "d" * 40}
    ctx = ci.detect(env, tmp_path)
    assert (ctx.pr, ctx.sha, ctx.api_url, ctx.is_fork_pr) == (None, "d" * 40, "https://api.github.com", False)


def test_github_workflow_run_takes_pr_from_event(tmp_path: Path) -> None:
    payload = {
        "workflow_run": {
            "head_sha": "e" * 40,
            "pull_requests": [{"number": 12, "base": {"ref": "main"}}],
            "head_repository": {"full_name": "ada/fork"},
        }
    }
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": _event(tmp_path, payload),
    }
    ctx = ci.detect(env, tmp_path)
    assert (ctx.pr, ctx.sha, ctx.base_ref) == (12, "e" * 40, "main")
    assert not ctx.is_fork_pr  # the posting workflow runs in the base repo with its own token


def test_github_bad_event_payload_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "a/b", "GITHUB_EVENT_PATH": str(bad)}
    with pytest.raises(ConfigError, match=r"GITHUB_EVENT_PATH .*event\.json"):
        ci.detect(env, tmp_path)


def test_gitlab_self_managed_under_subpath(tmp_path: Path) -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://git.example.com/gitlab",
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_PATH": "ml/digits",
        "CI_COMMIT_SHA": "f" * 40,
        "CI_MERGE_REQUEST_IID": "3",
        "CI_JOB_NAME": "report",
    }
    ctx = ci.detect(env, tmp_path)
    assert (ctx.forge, ctx.repo, ctx.project_id, ctx.pr) == ("gitlab", "ml/digits", "42", 3)
    assert ctx.api_url == "https://git.example.com/gitlab/api/v4"
    assert ctx.workflow == "report"


def test_local_reads_git(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:acme/models.git")
    ctx = ci.detect({}, repo)
    assert (ctx.forge, ctx.repo, ctx.sha, ctx.actor) == (
        "local",
        "acme/models",
        git(repo, "rev-parse", "HEAD"),
        "Ada",
    )


def test_local_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not inside a git repository"):
        ci.detect({}, tmp_path)


@pytest.mark.parametrize(
    ("env", "flag", "expected"),
    [
        ({"REPO_TOKEN": "r", "GITHUB_TOKEN": "g"}, "f", ("f", "--token")),
        ({"REPO_TOKEN": "r", "GITHUB_TOKEN": "g"}, None, ("r", "REPO_TOKEN")),
        ({"GITHUB_TOKEN": "g"}, None, ("g", "GITHUB_TOKEN")),
    ],
)
def test_token_order(env: dict[str, str], flag: str | None, expected: tuple[str, str]) -> None:
    assert ci.resolve_token("github", env, flag) == expected


def test_gitlab_job_token_cannot_write_notes() -> None:
    with pytest.raises(ConfigError, match="CI_JOB_TOKEN cannot write merge request notes") as err:
        ci.resolve_token("gitlab", {"CI_JOB_TOKEN": "x"})
    assert "project access token" in str(err.value)
