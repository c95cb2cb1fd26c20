"""The GitLab forge object itself: network faults, time-outs, a project known only by id."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cml import ci
from cml.cli import main
from cml.errors import ForgeError
from cml.forges import Target, make_forge
from cml.forges.gitlab import GitLabForge, root_url
from cml.forges.retry import MaybeWritten
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID, TOKEN

MR = ("merge_requests", MR_IID)
TARGET = Target(kind="pr", ref=str(MR_IID))


def forge(env: dict[str, str], repo: Path, **options: str) -> GitLabForge:
    made = make_forge(ci.detect(env, repo), TOKEN, options)
    assert isinstance(made, GitLabForge)
    return made


def test_root_url_keeps_the_subpath(env: dict[str, str], repo: Path, fake: FakeGitLab) -> None:
    ctx = ci.detect(env, repo)
    assert root_url(ctx) == fake.url
    assert forge(env, repo).gl.api_url == fake.api


def test_read_timeout_on_a_get_is_retried(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sleeps: list[float]
) -> None:
    fake.add_note(project, *MR, "hello", "alice")
    fake.faults.add("slow", method="GET", path=r"/notes$", delay=1.0)
    got = list(forge(env, repo, timeout="0.3").comments(TARGET))
    assert [c.body for c in got] == ["hello"]
    assert len(sleeps) == 1


def test_read_timeout_on_a_post_may_have_written(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    fake.faults.add("slow", method="POST", path=r"/notes$", delay=1.0)
    with pytest.raises(MaybeWritten):
        forge(env, repo, timeout="0.3").create_comment(TARGET, "maybe")
    deadline = time.monotonic() + 5
    while not fake.notes(project, *MR) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [n["body"] for n in fake.notes(project, *MR)] == ["maybe"]


def test_unreachable_server_gives_up_naming_the_host(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sleeps: list[float]
) -> None:
    subject = forge(env, repo)
    api = fake.api
    fake.stop()
    with pytest.raises(ForgeError) as caught:
        subject.whoami()
    assert f"no answer from {api} (ConnectionError)" in str(caught.value)
    assert "gave up after 6 attempts" in str(caught.value)
    assert len(sleeps) == 5
    assert not isinstance(caught.value, MaybeWritten)


def test_refused_connection_on_a_post_is_not_maybe_written(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sleeps: list[float]
) -> None:
    subject = forge(env, repo)
    fake.stop()
    with pytest.raises(ForgeError) as caught:
        subject.create_comment(TARGET, "never sent")
    assert not isinstance(caught.value, MaybeWritten)  # nothing went out: plain retries, then give up
    assert len(sleeps) == 5


def test_lost_answer_on_a_commit_discussion_is_found(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sha: str
) -> None:
    (repo / "report.md").write_text("# on the commit\n")
    fake.faults.add("reset_after", method="POST", path=r"/discussions$")
    assert main(["comment", "update", "report.md", "--target", "commit"], env) == 0
    assert len(project.discussions[sha]) == 1
    assert [k for _, _, k in fake.faults.fired] == ["reset_after"]


def test_project_known_only_by_id_reads_its_web_url_once(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del env["CI_PROJECT_PATH"]
    (repo / "report.md").write_text("# R\n")
    assert main(["comment", "update", "report.md"], env) == 0
    [note] = fake.notes(project, *MR)
    assert (
        capsys.readouterr().out.strip()
        == f"created {project.web_url}/-/merge_requests/{MR_IID}#note_{note['id']}"
    )
    assert len(fake.calls("GET", r"^/api/v4/projects/42$")) == 1


def test_project_path_is_accepted_url_encoded(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    del env["CI_PROJECT_ID"]
    (repo / "report.md").write_text("# R\n")
    assert main(["comment", "update", "report.md"], env) == 0
    assert len(fake.notes(project, *MR)) == 1
    assert all(r.path.startswith("/api/v4/projects/group%2Fproject/") for r in fake.calls("POST"))


def test_a_url_that_is_not_the_api_is_named(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.fakes.http import Reply

    fake.route(
        "GET",
        "/wrong/api/v4/user",
        lambda req: Reply(200, b"<html>sign in</html>", {"Content-Type": "text/html"}),
    )
    env["CI_API_V4_URL"] = f"{fake.url}/wrong/api/v4"
    (repo / "report.md").write_text("# R\n")
    assert main(["comment", "update", "report.md"], env) == 4
    [line] = [x for x in capfd.readouterr().err.splitlines() if x.startswith("cml:")]
    assert line.startswith(f"cml: error: GET {fake.url}/wrong/api/v4/user did not answer like GitLab's API")
    assert "CI_API_V4_URL" in line
