"""GitLab reuses an upload it already holds instead of uploading the same image on every run."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.gitlab import FakeGitLab, Project
from tests.fakes.http import token_forms
from tests.integration.gitlab.conftest import MR_IID, TOKEN

MR = ("merge_requests", MR_IID)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
REPORT = "# R\n\n![loss](loss.png)\n"


def run(env: dict[str, str], capfd: pytest.CaptureFixture[str]) -> int:
    """``cml comment update report.md``; its output carries no error and no form of the token."""
    code = main(["comment", "update", "report.md"], env)
    out, err = capfd.readouterr()
    assert all(form not in out + err for form in token_forms(TOKEN))
    assert "cml: error" not in err
    return code


def linked(fake: FakeGitLab, project: Project) -> list[str]:
    """The upload links in the one note on the MR."""
    [note] = fake.notes(project, *MR)
    return re.findall(r"\]\((/uploads/[^)]+)\)", note["body"])


@pytest.fixture
def plot(repo: Path) -> Path:
    """``loss.png`` and a report showing it."""
    (repo / "report.md").write_text(REPORT)
    path = repo / "loss.png"
    path.write_bytes(PNG)
    return path


def test_an_unchanged_image_is_not_uploaded_again(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(env, capfd) == 0
    [upload] = project.uploads
    assert upload["url"].endswith(f"/loss-{hashlib.sha256(PNG).hexdigest()[:32]}.png")
    assert run(env, capfd) == 0
    assert run(env, capfd) == 0
    assert len(project.uploads) == 1
    assert linked(fake, project) == [upload["url"]]
    assert len(fake.calls("GET", r"/uploads/[0-9a-f]{32}/")) == 2  # verified on each later run


def test_a_changed_image_is_uploaded(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(env, capfd) == 0
    plot.write_bytes(PNG + b"new")
    assert run(env, capfd) == 0
    assert [u["content"] for u in project.uploads] == [PNG, PNG + b"new"]
    assert linked(fake, project) == [project.uploads[1]["url"]]
    assert fake.calls("GET", r"/uploads/[0-9a-f]{32}/") == []  # nothing to verify: no earlier copy


def test_a_deleted_upload_is_uploaded_again(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(env, capfd) == 0
    project.uploads.clear()  # a maintainer deleted it (DELETE /projects/:id/uploads/:secret/:filename)
    assert run(env, capfd) == 0
    [upload] = project.uploads
    assert linked(fake, project) == [upload["url"]]


def test_before_gitlab_17_4_every_run_uploads(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.uploads_api = (17, 3)  # no download by secret: nothing can be verified
    assert run(env, capfd) == 0
    assert run(env, capfd) == 0
    assert [u["content"] for u in project.uploads] == [PNG, PNG]
    assert linked(fake, project) == [project.uploads[1]["url"]]


def test_a_link_in_someone_elses_note_is_not_trusted(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # alice uploads other bytes under the name our image would get, and links it in her note
    name = f"loss-{hashlib.sha256(PNG).hexdigest()[:32]}.png"
    url = f"/uploads/{'b' * 32}/{name}"
    project.uploads.append({"id": 1, "url": url, "content": b"not the plot"})
    fake.add_note(project, *MR, f"![x]({url})", "alice")
    assert run(env, capfd) == 0
    assert [u["content"] for u in project.uploads] == [b"not the plot", PNG]
    ours = [n for n in fake.notes(project, *MR) if n["author"]["username"] == "project_42_bot"]
    assert url not in ours[0]["body"]
    assert fake.calls("GET", r"/uploads/[0-9a-f]{32}/") == []


def test_an_earlier_link_with_other_content_is_not_reused(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert run(env, capfd) == 0
    [upload] = project.uploads
    upload["content"] = b"swapped"  # whatever the reason, the bytes behind the link changed
    assert run(env, capfd) == 0
    assert [u["content"] for u in project.uploads] == [b"swapped", PNG]
    assert linked(fake, project) == [project.uploads[1]["url"]]


def test_publish_outside_a_merge_request_uploads_without_looking(
    fake: FakeGitLab, project: Project, env: dict[str, str], plot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del env["CI_MERGE_REQUEST_IID"]
    assert main(["publish", "loss.png"], env) == 0
    assert main(["publish", "loss.png"], env) == 0
    assert len(project.uploads) == 2
    assert fake.calls("GET", r"/notes$") == []
    assert capsys.readouterr().out.split() == [u["url"] for u in project.uploads]
