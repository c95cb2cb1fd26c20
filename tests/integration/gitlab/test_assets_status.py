"""Images through the uploads API, ``cml publish``, commit statuses, and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cml import ci
from cml.cli import main
from cml.forges import Status, make_forge
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID, TOKEN

MR = ("merge_requests", MR_IID)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def test_images_are_uploaded_and_relinked_relative(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    (repo / "plots").mkdir()
    (repo / "plots" / "loss.png").write_bytes(PNG)
    (repo / "plots" / "copy.png").write_bytes(PNG)  # same bytes: uploaded once
    (repo / "plots" / "acc.png").write_bytes(PNG + b"acc")
    (repo / "report.md").write_text(
        "# R\n\n![loss](plots/loss.png)\n![again](plots/loss.png)\n![copy](plots/copy.png)\n"
        "![acc](plots/acc.png)\n![web](https://example.com/x.png)\n"
    )
    assert main(["comment", "update", "report.md"], env) == 0
    assert [u["content"] for u in project.uploads] == [PNG + b"acc", PNG]
    [note] = fake.notes(project, *MR)
    links = re.findall(r"!\[(\w+)\]\(([^)]+)\)", note["body"])
    by_alt = dict(links)
    assert by_alt["loss"] == by_alt["again"] == by_alt["copy"] == project.uploads[1]["url"]
    assert by_alt["acc"] == project.uploads[0]["url"]
    assert re.fullmatch(r"/uploads/[0-9a-f]{32}/acc-[0-9a-f]{32}\.png", by_alt["acc"])  # named by content
    assert by_alt["web"] == "https://example.com/x.png"
    assert "127.0.0.1" not in note["body"]


def test_publish_prints_the_relative_upload_link(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "plot.png").write_bytes(PNG)
    assert main(["publish", "plot.png", "--md", "--title", "Loss"], env) == 0
    [upload] = project.uploads
    assert upload["content"] == PNG
    assert capsys.readouterr().out.strip() == f"![Loss]({upload['url']})"
    [post] = fake.calls("POST")
    assert post.path == "/api/v4/projects/42/uploads"
    assert post.headers["content-type"].startswith("multipart/form-data")


def test_upload_retries_a_lost_answer(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "data.csv").write_text("a,b\n1,2\n")
    fake.faults.add("reset_after", method="POST", path=r"/uploads$")
    assert main(["publish", "data.csv"], env) == 0
    assert len(project.uploads) == 2  # the first landed unseen; a spare upload harms nobody
    assert capsys.readouterr().out.strip() == project.uploads[1]["url"]


def test_status_on_the_mr_head(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sha: str
) -> None:
    forge = make_forge(ci.detect(env, repo), TOKEN)
    fake.faults.add("status", method="POST", path=r"/statuses/", status=503)
    url = forge.set_status(sha, Status(name="cml/gate", conclusion="failure", title="accuracy fell " * 20))
    assert url == f"{fake.url}/group/project/-/commit/{sha}"
    [status] = project.statuses[sha]
    assert (status["status"], status["name"], len(status["description"])) == ("failed", "cml/gate", 140)
    url = forge.set_status(
        sha, Status(name="cml/gate", conclusion="neutral", title="no change", details_url="https://ci/job/1")
    )
    assert url == "https://ci/job/1"
    [status] = project.statuses[sha]
    assert (status["status"], status["target_url"]) == ("success", "https://ci/job/1")


def test_status_on_an_unknown_commit_is_a_forge_error(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    from cml.errors import ForgeError

    forge = make_forge(ci.detect(env, repo), TOKEN)
    with pytest.raises(ForgeError) as caught:
        forge.set_status("0" * 40, Status(name="x", conclusion="success", title="t"))
    assert caught.value.status == 404
    assert "404 Commit Not Found" in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "setup", "needle"),
    [
        (["comment", "update", "missing.md"], None, "missing.md: no such file"),
        (["comment", "update", "model.bin"], b"\x00\x01weights", "model.bin: is a binary file"),
        (["comment", "update", "report.md", "--target", "wiki/3"], b"# ok\n", "--target 'wiki/3'"),
        (["comment", "update", "report.md", "--target", "pr/x"], b"# ok\n", "must be an integer"),
        (["comment", "create", "report.md"], b"![p](nope.png)\n", "image 'nope.png' not found"),
        (["publish", "absent.png"], None, "absent.png: no such file"),
    ],
)
def test_bad_input_is_one_line_and_sends_nothing(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    repo: Path,
    capfd: pytest.CaptureFixture[str],
    argv: list[str],
    setup: bytes | None,
    needle: str,
) -> None:
    if setup is not None:
        (repo / argv[2]).write_bytes(setup)
    assert main(argv, env) == 2
    err = [line for line in capfd.readouterr().err.splitlines() if line]
    assert len(err) == 1
    assert err[0].startswith("cml: error: ")
    assert needle in err[0]
    assert fake.requests == []
