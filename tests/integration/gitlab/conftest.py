"""A running fake GitLab under ``/gitlab`` with one project, one MR on the repo's HEAD and a bot token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git
from tests.fakes.gitlab import FakeGitLab, Project

TOKEN = "glpat-Zq8sK2vXw9LmN4pR7tYb"  # shaped like a real one: redaction must catch it anyway
OTHER_TOKEN = "glpat-OtherUser000000000000"
MR_IID = 7


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    """The fake instance, users ``project_42_bot`` (TOKEN) and ``alice`` (OTHER_TOKEN)."""
    with FakeGitLab() as server:
        server.add_user("project_42_bot", TOKEN, bot=True)
        server.add_user("alice", OTHER_TOKEN)
        yield server


@pytest.fixture
def sha(repo: Path) -> str:
    """The repo's HEAD commit."""
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def project(fake: FakeGitLab, sha: str) -> Project:
    """``group/project`` (id 42) with MR !7 whose head is the repo's HEAD."""
    proj = fake.add_project("group/project", 42)
    fake.add_mr(proj, MR_IID, sha)
    return proj


@pytest.fixture
def env(
    fake: FakeGitLab, project: Project, sha: str, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """GitLab CI variables of an MR pipeline on a self-managed instance under ``/gitlab``; cwd = repo."""
    monkeypatch.chdir(repo)
    return {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": fake.url,
        "CI_API_V4_URL": fake.api,
        "CI_PROJECT_ID": str(project.id),
        "CI_PROJECT_PATH": project.path,
        "CI_COMMIT_SHA": sha,
        "CI_MERGE_REQUEST_IID": str(MR_IID),
        "CI_JOB_NAME": "report",
        "REPO_TOKEN": TOKEN,
    }
