"""Fixtures for the GitHub forge: a fake GitHub with a repository, a PR and tokens, and an env."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.github import FakeGitHub
from tests.integration.github import openapi
from tests.integration.github.openapi import Checker

REPO = "acme/app"
USER_TOKEN = "tok-ada-5f1e9c0b7d2a4e6f"  # not shaped like a GitHub token: only registration redacts it
BOT_TOKEN = "ghs_InstallationTokenForActions0001"
READONLY_TOKEN = "ghs_ReadOnlyForkPullRequestToken01"
HEAD_SHA = "a" * 40
MERGE_SHA = "b" * 40
PR = 7

Cml = Callable[..., int]


@pytest.fixture(scope="session")
def openapi_checker() -> Checker | None:
    """GitHub's OpenAPI description, loaded once (None, and the check skipped, without npm)."""
    spec = openapi.fetch()
    return openapi.Checker(spec) if spec else None


@pytest.fixture
def fake(openapi_checker: Checker | None) -> Iterator[FakeGitHub]:
    """A started fake GitHub with ``acme/app``, PR #7 (head ``aaaa...``) and three kinds of token.

    After the test, every exchange must match GitHub's OpenAPI description.
    """
    with FakeGitHub() as server:
        _seed(server)
        yield server
    _check(openapi_checker, server)


@pytest.fixture
def fake_ghe(openapi_checker: Checker | None) -> Iterator[FakeGitHub]:
    """The same, served under ``/api/v3`` like GitHub Enterprise."""
    with FakeGitHub(prefix="/api/v3") as server:
        _seed(server)
        yield server
    _check(openapi_checker, server)


def _check(checker: Checker | None, server: FakeGitHub) -> None:
    if checker is not None:
        violations = checker.violations(server)
        assert not violations, "the fake or cml broke GitHub's OpenAPI description:\n" + "\n".join(violations)


def _seed(server: FakeGitHub) -> None:
    server.add_repo(REPO)
    server.add_pr(REPO, PR, HEAD_SHA)
    server.add_token(USER_TOKEN, "ada")
    server.add_token(BOT_TOKEN, "", kind="installation")
    server.add_token(READONLY_TOKEN, "", kind="readonly")


def event_file(tmp_path: Path, *, head_repo: str = REPO, number: int = PR) -> Path:
    """A ``pull_request`` event payload naming PR ``number``."""
    path = tmp_path / f"event-{number}-{head_repo.replace('/', '_')}.json"
    payload = {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": HEAD_SHA, "ref": "feature", "repo": {"full_name": head_repo}},
            "base": {"sha": "c" * 40, "ref": "main", "repo": {"full_name": REPO}},
        },
    }
    path.write_text(json.dumps(payload))
    return path


def actions_env(fake: FakeGitHub, tmp_path: Path, token: str = USER_TOKEN, **extra: str) -> dict[str, str]:
    """A GitHub Actions environment for a ``pull_request`` run against ``fake``."""
    summary = tmp_path / "step_summary.md"
    summary.touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.url,
        "GITHUB_SERVER_URL": fake.html_root,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_file(tmp_path)),
        "GITHUB_SHA": MERGE_SHA,
        "GITHUB_WORKFLOW": "train",
        "GITHUB_STEP_SUMMARY": str(summary),
        "REPO_TOKEN": token,
        **extra,
    }


@pytest.fixture
def env(fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    """The default Actions environment: a PR event, a user token."""
    return actions_env(fake, tmp_path)


@pytest.fixture
def cml(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Cml:
    """Run ``cml.cli.main(argv, env)`` inside the ``repo`` work tree."""
    monkeypatch.chdir(repo)

    def run(*argv: str, env: dict[str, str]) -> int:
        return main(list(argv), env)

    return run


@pytest.fixture
def report(repo: Path) -> Path:
    """A small markdown report in the work tree."""
    path = repo / "report.md"
    path.write_text("# Metrics\n\n| metric | value |\n|---|---|\n| acc | 0.91 |\n")
    return path
