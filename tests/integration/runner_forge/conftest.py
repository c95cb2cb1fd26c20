"""Fake GitHub and GitLab with runner state, a release host, and the contexts the runner APIs take."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cml.ci import CIContext
from cml.errors import CmlError
from cml.log import redact
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.releases import FakeReleases
from tests.integration.github import openapi
from tests.integration.github.openapi import Checker

REPO = "acme/app"
ORG = "acme"
ADMIN = "tok-runner-admin-7c1d9e2f4a6b"  # a fine-grained token with Administration: write
BOT = "ghs_DefaultGithubTokenOfTheJob0001"  # the job's GITHUB_TOKEN (an installation token)
GL_API = "glpat-RunnerAdminApiScope000001"
GL_CREATE = "glpat-CreateRunnerScopeOnly001"
GL_READ = "glpat-ReadApiScopeOnly00000001"
PROJECT_ID = 42
GROUP_ID = 77


@pytest.fixture(scope="session")
def openapi_checker() -> Checker | None:
    """GitHub's OpenAPI description (None, and the check skipped, without npm)."""
    spec = openapi.fetch()
    return openapi.Checker(spec) if spec else None


@pytest.fixture
def gh(openapi_checker: Checker | None) -> Iterator[FakeGitHub]:
    """A fake GitHub with ``acme/app``, organisation ``acme``, an admin token and a job token.

    After the test every exchange must match GitHub's OpenAPI description.
    """
    with FakeGitHub() as server:
        server.add_repo(REPO)
        server.runners.add_org(ORG)
        server.add_token(ADMIN, "ada")
        server.add_token(BOT, "", kind="installation")
        yield server
    if openapi_checker is not None:
        violations = openapi_checker.violations(server)
        assert not violations, "the fake or cml broke GitHub's OpenAPI description:\n" + "\n".join(violations)


@pytest.fixture
def gh_ctx(gh: FakeGitHub) -> CIContext:
    return CIContext(
        provider="github_actions",
        forge="github",
        repo=REPO,
        sha="a" * 40,
        server_url=gh.html_root,
        api_url=gh.url,
    )


@pytest.fixture
def gl() -> Iterator[FakeGitLab]:
    """A fake GitLab under ``/gitlab``: project ``group/project`` (42) in group ``group`` (77)."""
    with FakeGitLab() as server:
        server.add_user("runner_admin", GL_API, scopes=("api",))
        server.add_user("creator", GL_CREATE, scopes=("create_runner",))
        server.add_user("reader", GL_READ, scopes=("read_api",))
        server.add_project("group/project", PROJECT_ID)
        server.runners.add_group("group", GROUP_ID)
        yield server


@pytest.fixture
def gl_ctx(gl: FakeGitLab) -> CIContext:
    return CIContext(
        provider="gitlab_ci",
        forge="gitlab",
        repo="group/project",
        project_id=str(PROJECT_ID),
        sha="b" * 40,
        server_url=gl.url,
        api_url=gl.api,
    )


@pytest.fixture
def releases() -> Iterator[FakeReleases]:
    with FakeReleases() as server:
        yield server


def line(exc: CmlError) -> str:
    """What ``cml`` prints for ``exc``: one line, redacted."""
    text = f"cml: error: {redact(str(exc))}"
    assert "\n" not in text, text
    return text
