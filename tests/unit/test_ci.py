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


def _minimal_pr(number: int, head_sha: str, base_repo: str) -> dict[str, object]:
    """A ``workflow_run.pull_requests`` entry (pull-request-minimal) into ``base_repo``."""
    repo = {"id": 1, "url": f"https://api.github.com/repos/{base_repo}", "name": base_repo.split("/")[1]}
    return {
        "id": number + 100,
        "number": number,
        "url": f"https://api.github.com/repos/{base_repo}/pulls/{number}",
        "head": {"ref": "feature", "sha": head_sha, "repo": repo},
        "base": {"ref": "main", "sha": "0" * 40, "repo": repo},
    }


def _workflow_run_env(tmp_path: Path, run: dict[str, object]) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_SHA": "9" * 40,  # the default branch's last commit, never the one reported on
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": _event(tmp_path, {"action": "completed", "workflow_run": run}),
    }


def test_github_workflow_run_takes_pr_from_event(tmp_path: Path) -> None:
    run = {
        "head_sha": "e" * 40,
        "head_branch": "feature",
        "pull_requests": [_minimal_pr(12, "e" * 40, "acme/models")],
        "head_repository": {"full_name": "acme/models", "owner": {"login": "acme"}},
    }
    ctx = ci.detect(_workflow_run_env(tmp_path, run), tmp_path)
    assert (ctx.pr, ctx.sha, ctx.base_ref, ctx.head_ref) == (12, "e" * 40, "main", "feature")
    assert not ctx.is_fork_pr  # the posting workflow runs in the base repo with its own token


def test_github_workflow_run_from_a_fork_leaves_the_pr_to_the_forge(tmp_path: Path) -> None:
    """GitHub sends ``pull_requests: []`` for a fork; its head repository and branch find the PR."""
    run = {
        "head_sha": "e" * 40,
        "head_branch": "feat/x",
        "pull_requests": [],
        "head_repository": {"full_name": "eve/models", "owner": {"login": "eve"}},
    }
    ctx = ci.detect(_workflow_run_env(tmp_path, run), tmp_path)
    assert (ctx.pr, ctx.sha, ctx.head_repo, ctx.head_ref) == (None, "e" * 40, "eve/models", "feat/x")
    assert not ctx.is_fork_pr  # no read-only token here: the base repository's token posts


@pytest.mark.parametrize(
    "entry",
    [
        _minimal_pr(3, "e" * 40, "eve/models"),  # the fork's own PR into the fork, same head
        _minimal_pr(4, "1" * 40, "acme/models"),  # a same-named branch here with another head
        _minimal_pr(5, "e" * 40, "xacme/models"),  # an owner whose name only ends alike
        {"number": 6, "head": {"sha": "e" * 40}},  # no base at all
    ],
)
def test_github_workflow_run_ignores_pull_requests_of_other_repos_or_heads(
    tmp_path: Path, entry: dict[str, object]
) -> None:
    run = {
        "head_sha": "e" * 40,
        "head_branch": "feature",
        "pull_requests": [entry],
        "head_repository": {"full_name": "eve/models"},
    }
    ctx = ci.detect(_workflow_run_env(tmp_path, run), tmp_path)
    assert (ctx.pr, ctx.sha, ctx.head_repo) == (None, "e" * 40, "eve/models")


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


_FORK_MR = {
    "GITLAB_CI": "true",
    "CI_SERVER_URL": "https://gitlab.com",
    "CI_PROJECT_ID": "77",  # the fork: its MR pipelines run there
    "CI_PROJECT_PATH": "eve/digits",
    "CI_COMMIT_SHA": "f" * 40,
    "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_IID": "3",
    "CI_MERGE_REQUEST_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_PROJECT_PATH": "ml/digits",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "77",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH": "eve/digits",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "fix-loss",
}


def test_gitlab_fork_mr_pipeline_writes_to_the_mr_project(tmp_path: Path) -> None:
    ctx = ci.detect(_FORK_MR, tmp_path)
    assert (ctx.repo, ctx.project_id, ctx.pr) == ("ml/digits", "42", 3)
    assert (ctx.head_repo, ctx.head_ref, ctx.is_fork_pr) == ("eve/digits", "fix-loss", True)


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("CI_MERGE_REQUEST_PROJECT_PATH", ("42", "42")),  # the MR project's id alone, never the fork's path
        ("CI_MERGE_REQUEST_PROJECT_ID", ("ml/digits", None)),  # its path alone, never the fork's id
    ],
)
def test_gitlab_mr_project_id_and_path_come_from_one_source(
    tmp_path: Path, drop: str, expected: tuple[str, str | None]
) -> None:
    env = {k: v for k, v in _FORK_MR.items() if k != drop}
    ctx = ci.detect(env, tmp_path)
    assert (ctx.repo, ctx.project_id) == expected


def test_gitlab_branch_pipeline_writes_to_its_own_project(tmp_path: Path) -> None:
    env = {k: v for k, v in _FORK_MR.items() if not k.startswith("CI_MERGE_REQUEST_")}
    ctx = ci.detect(env, tmp_path)
    assert (ctx.repo, ctx.project_id, ctx.pr, ctx.is_fork_pr) == ("eve/digits", "77", None, False)


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
    assert "not protected" in str(err.value)  # merge request pipelines get no protected variables


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"REPO_TOKEN": "  tok-1\n", "GITHUB_TOKEN": "g"}, ("tok-1", "REPO_TOKEN")),
        ({"REPO_TOKEN": " \n", "GITHUB_TOKEN": "\tg-2\r\n"}, ("g-2", "GITHUB_TOKEN")),  # blank is unset
    ],
)
def test_pasted_whitespace_is_stripped(env: dict[str, str], expected: tuple[str, str]) -> None:
    assert ci.resolve_token("github", env) == expected


@pytest.mark.parametrize("inner", ["\n", "\r", " ", "\x1b", "\x7f", "é"])
def test_a_character_no_token_has_is_refused_without_echoing_it(inner: str) -> None:
    with pytest.raises(ConfigError) as err:
        ci.resolve_token("gitlab", {"GITLAB_TOKEN": f"glpat-abc{inner}def123"})
    assert str(err.value) == (
        "GITLAB_TOKEN: the token holds a line break, space or other character no token has "
        "(set GITLAB_TOKEN to the token alone, on one line)"
    )
    assert not isinstance(err.value, ci.NoToken)


def test_a_blank_flag_falls_back_to_the_variables() -> None:
    assert ci.resolve_token("github", {"GITHUB_TOKEN": "g"}, "  ") == ("g", "GITHUB_TOKEN")
    with pytest.raises(ci.NoToken):
        ci.resolve_token("github", {"GITHUB_TOKEN": "\n"}, " ")


@pytest.mark.parametrize(
    ("forge", "origin", "env", "expected"),
    [
        (
            "github",
            "git@github.com:acme/models.git",
            {},
            ("acme/models", "https://github.com", "https://api.github.com"),
        ),
        (
            "github",
            "https://ghe.example.com/acme/models",
            {"GITHUB_SERVER_URL": "https://ghe.example.com"},
            ("acme/models", "https://ghe.example.com", "https://ghe.example.com/api/v3"),
        ),
        (
            "github",
            None,
            {"GITHUB_REPOSITORY": "a/b", "GITHUB_API_URL": "http://127.0.0.1:9/"},
            ("a/b", "https://github.com", "http://127.0.0.1:9"),
        ),
        (
            "gitlab",
            "https://gitlab.com/g/sub/p.git",
            {},
            ("g/sub/p", "https://gitlab.com", "https://gitlab.com/api/v4"),
        ),
        (
            "gitlab",
            "https://host.example/gitlab/g/p.git",
            {"CI_SERVER_URL": "https://host.example/gitlab"},
            ("g/p", "https://host.example/gitlab", "https://host.example/gitlab/api/v4"),
        ),
    ],
)
def test_forge_override_outside_its_ci_reads_its_variables_or_origin(
    repo: Path, forge: ci.ForgeName, origin: str | None, env: dict[str, str], expected: tuple[str, str, str]
) -> None:
    if origin:
        git(repo, "remote", "add", "origin", origin)
    ctx = ci.with_forge(ci.detect(env, repo), forge, env)
    assert (ctx.forge, ctx.repo, ctx.server_url, ctx.api_url) == (forge, *expected)
    assert ctx.sha == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("forge", "origin", "env", "names"),
    [
        ("github", None, {}, ("GITHUB_REPOSITORY", "GITHUB_API_URL", "origin remote on github.com")),
        ("github", "git@gitlab.com:a/b.git", {}, ("GITHUB_REPOSITORY", "origin remote on github.com")),
        (
            "github",
            "https://github.com/a/b",
            {"GITHUB_SERVER_URL": "https://ghe.example.com"},
            ("GITHUB_REPOSITORY", "origin remote on ghe.example.com"),
        ),
        ("gitlab", None, {}, ("CI_PROJECT_PATH", "CI_SERVER_URL", "origin remote on gitlab.com")),
        (
            "gitlab",
            "https://host.example/other/g/p.git",
            {"CI_SERVER_URL": "https://host.example/gitlab"},
            ("CI_PROJECT_PATH", "origin remote on host.example"),
        ),
    ],
)
def test_forge_override_without_a_repository_names_what_is_missing(
    repo: Path, forge: ci.ForgeName, origin: str | None, env: dict[str, str], names: tuple[str, ...]
) -> None:
    if origin:
        git(repo, "remote", "add", "origin", origin)
    with pytest.raises(ConfigError) as err:
        ci.with_forge(ci.detect(env, repo), forge, env)
    message = str(err.value)
    assert message.startswith(f"--forge {forge}: cannot tell which repository to use")
    assert "\n" not in message
    assert all(name in message for name in names)


def test_the_detected_forge_is_kept(repo: Path) -> None:
    ctx = ci.detect({}, repo)
    assert ci.with_forge(ctx, "local", {}) is ctx


def test_a_repository_without_commits_is_a_clear_error(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(ConfigError) as err:
        ci.detect({}, tmp_path)
    assert str(err.value) == f"{tmp_path}: no commits yet: commit first (cml reports on a commit)"


def test_job_summary_is_redacted(tmp_path: Path) -> None:
    """The job summary shows on the run's page: a token in the report (plain or base64) is hidden."""
    import base64

    from cml.secrets import register_secret

    token = "ghp_" + "S3cr3tT0ken" * 3
    register_secret(token)
    summary = tmp_path / "summary.md"
    ctx = ci.CIContext(
        provider="github_actions", forge="github", repo="o/r", sha="a" * 40, step_summary=summary
    )
    encoded = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    ci.append_summary(ctx, f"# report\nleaked {token} and {encoded}\n")
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("# report\nleaked ")
    assert token not in written
    assert "S3cr3tT0ken" not in written
    assert encoded not in written
    assert encoded[20:40] not in written
    ci.append_summary(ci.CIContext(provider="local", forge="local", repo="r", sha="b" * 40), "ignored")
    assert summary.read_text(encoding="utf-8") == written
