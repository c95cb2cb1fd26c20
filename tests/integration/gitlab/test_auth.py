"""Tokens: which one is used, what GitLab's refusals turn into, and that none ever reaches output."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID, OTHER_TOKEN, TOKEN

MR = ("merge_requests", MR_IID)


def report(repo: Path) -> Path:
    path = repo / "report.md"
    path.write_text("# Report\n")
    return path


def error_lines(capfd: pytest.CaptureFixture[str]) -> list[str]:
    captured = capfd.readouterr()
    assert TOKEN not in captured.out + captured.err
    return [line for line in captured.err.splitlines() if line.startswith("cml:")]


def test_only_the_job_token_is_refused_before_any_request(
    fake: FakeGitLab, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    del env["REPO_TOKEN"]
    env["CI_JOB_TOKEN"] = "glcbt-64_JobTokenJobTokenJob"
    assert main(["comment", "update", str(report(repo))], env) == 3
    [line] = error_lines(capfd)
    assert "CI_JOB_TOKEN cannot write merge request notes" in line
    assert "project access token with the api scope" in line
    assert "REPO_TOKEN" in line
    assert fake.requests == []


def test_the_fake_refuses_a_job_token_on_notes_like_gitlab(fake: FakeGitLab, project: Project) -> None:
    import requests

    fake.job_tokens.add("job")
    url = f"{fake.api}/projects/42/merge_requests/{MR_IID}/notes"
    answer = requests.post(url, json={"body": "x"}, headers={"JOB-TOKEN": "job"}, timeout=5)
    assert (answer.status_code, answer.json()) == (403, {"message": "403 Forbidden"})


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_revoked_token_is_one_line_auth_error_without_the_token(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    repo: Path,
    capfd: pytest.CaptureFixture[str],
    debug: list[str],
) -> None:
    fake.revoke(TOKEN)
    assert main([*debug, "comment", "update", str(report(repo))], env) == 5
    [line] = error_lines(capfd)
    assert (
        line == f"cml: error: {fake.api}: GitLab rejected the token (revoked or expired?) (create a new "
        "project access token and update the REPO_TOKEN variable)"
    )
    assert fake.notes(project, *MR) == []


def test_token_without_api_scope_names_the_fix(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.add_user("reader", "glpat-ReadOnlyReadOnlyRead", scopes=("read_api",))
    env["REPO_TOKEN"] = "glpat-ReadOnlyReadOnlyRead"
    assert main(["comment", "update", str(report(repo))], env) == 5
    [line] = error_lines(capfd)
    assert "403" in line
    assert "insufficient_scope" in line
    assert "project access token with the api scope and the Reporter role or above" in line
    assert "ReadOnly" not in line
    assert fake.notes(project, *MR) == []


def test_unknown_project_names_project_and_api_url(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env.update(CI_PROJECT_ID="999", CI_PROJECT_PATH="nope/nothing")
    assert main(["comment", "update", str(report(repo))], env) == 4
    [line] = error_lines(capfd)
    assert f"project 'nope/nothing' not found at {fake.api}" in line


def test_editing_someone_elses_note_is_refused_not_retried(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from cml import ci
    from cml.forges import Target, make_forge

    theirs = fake.add_note(project, *MR, "mine", "alice")
    forge = make_forge(ci.detect(env, repo), TOKEN)
    [comment] = forge.comments(Target(kind="pr", ref=str(MR_IID)))
    from cml.errors import AuthError

    with pytest.raises(AuthError) as caught:
        forge.update_comment(Target(kind="pr", ref=str(MR_IID)), comment, "hijack")
    assert caught.value.status == 403
    assert '"403 Forbidden"' in caught.value.body
    assert theirs["body"] == "mine"
    assert len(fake.calls("PUT")) == 1


def test_token_never_reaches_output_even_with_debug(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    image = repo / "plot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (repo / "report.md").write_text("# R\n\n![plot](plot.png)\n")
    fake.faults.add("status", method="POST", path=r"/notes$", status=502)
    fake.faults.add("reset_after", method="PUT")
    for _ in range(2):
        assert main(["--debug", "comment", "update", "report.md"], env) == 0
    fake.revoke(TOKEN)
    assert main(["--debug", "comment", "update", "report.md", "--token", OTHER_TOKEN], env) == 0
    assert main(["--debug", "publish", "plot.png"], env) == 5
    captured = capfd.readouterr()
    text = captured.out + captured.err
    assert "Traceback" in text
    assert "retrying" in text
    assert TOKEN not in text
    assert OTHER_TOKEN not in text
    assert "glpat-" not in text
