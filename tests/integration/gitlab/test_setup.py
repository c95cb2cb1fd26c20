"""``--forge gitlab`` where GitLab's API URL cannot be formed: exit 3 at once, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.http import token_forms
from tests.integration.gitlab.conftest import TOKEN


def run(argv: list[str], env: dict[str, str], capfd: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Run cml; return its exit code and output lines, which carry no form of the token."""
    code = main(argv, env)
    out, err = capfd.readouterr()
    assert all(form not in out + err for form in token_forms(TOKEN))
    return code, (out + err).splitlines()


def test_outside_gitlab_ci_the_missing_server_url_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    monkeypatch.chdir(repo)
    (repo / "report.md").write_text("# R\n")
    code, lines = run(["comment", "update", "report.md", "--forge", "gitlab"], {"REPO_TOKEN": TOKEN}, capfd)
    assert code == 3
    assert lines == [
        "cml: error: --forge gitlab: cannot tell which repository to use: CI_PROJECT_PATH is not set and there "
        "is no origin remote on gitlab.com (set CI_PROJECT_PATH (and CI_SERVER_URL, CI_API_V4_URL off "
        "gitlab.com), or add an origin remote on gitlab.com)"
    ]
    assert sleeps == []  # no retries: nothing was sent


@pytest.mark.parametrize("server", ["gitlab.example.com", "file:///srv/gitlab", "https://"])
def test_a_server_url_that_is_not_http_is_named(
    server: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    sleeps: list[float],
) -> None:
    monkeypatch.chdir(repo)
    (repo / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    env = {"GITLAB_CI": "true", "CI_SERVER_URL": server, "CI_PROJECT_ID": "42", "REPO_TOKEN": TOKEN}
    code, [line] = run(["publish", "plot.png"], env, capfd)
    assert code == 3
    assert line.startswith(
        f"cml: error: GitLab's API URL {server.rstrip('/')!r} (from CI_API_V4_URL / CI_SERVER_URL)"
    )
    assert "is not an http(s) URL" in line
    assert sleeps == []
