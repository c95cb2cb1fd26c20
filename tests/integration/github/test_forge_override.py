"""``cml comment update --forge github`` outside GitHub Actions: the repository and API come from
``GITHUB_*`` variables or an ``origin`` on github.com; without either, one line and exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git
from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import REPO, USER_TOKEN, Cml
from tests.leaks import leaks


def test_no_origin_and_no_variables_is_one_line_naming_what_is_missing(
    fake: FakeGitHub, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = cml("comment", "update", str(report), "--forge", "github", env={"GITHUB_TOKEN": USER_TOKEN})
    out, err = capfd.readouterr()
    assert (code, out) == (3, "")
    assert err == (
        "cml: error: --forge github: cannot tell which repository to use: GITHUB_REPOSITORY is not set and "
        "there is no origin remote on github.com (set GITHUB_REPOSITORY (and GITHUB_SERVER_URL, GITHUB_API_URL "
        "off github.com), or add an origin remote on github.com)\n"
    )
    assert fake.requests == []


@pytest.mark.parametrize("origin", ["git@github.com:acme/app.git", "https://github.com/acme/app"])
def test_an_origin_on_github_names_the_repository(
    fake: FakeGitHub, cml: Cml, repo: Path, report: Path, origin: str, capfd: pytest.CaptureFixture[str]
) -> None:
    git(repo, "remote", "add", "origin", origin)
    env = {"GITHUB_TOKEN": f"{USER_TOKEN}\n", "GITHUB_API_URL": fake.url}
    code = cml("comment", "update", str(report), "--forge", "github", env=env)
    out, err = capfd.readouterr()
    head = git(repo, "rev-parse", "HEAD")
    assert (code, err) == (0, "")
    [comment] = fake.repos[REPO].commit_comments
    assert comment["commit_id"] == head
    assert "acc | 0.91" in str(comment["body"])
    assert out.strip() == f"created {comment['html_url']}"
    assert not leaks(out + err, USER_TOKEN)
