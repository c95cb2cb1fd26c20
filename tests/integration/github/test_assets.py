"""Images committed by content hash to the assets branch; check runs and commit statuses."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from pathlib import Path

import pytest

from cml import ci
from cml.forges import Status, make_forge
from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import (
    BOT_TOKEN,
    HEAD_SHA,
    MERGE_SHA,
    REPO,
    USER_TOKEN,
    Cml,
    actions_env,
)


def png(path: Path, seed: int) -> Path:
    """A real 1x1 PNG whose colour depends on ``seed``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\0" + bytes([seed % 256, 0, 0])
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    path.write_bytes(data + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def _links(fake: FakeGitHub, body: str) -> list[str]:
    return re.findall(
        rf"{re.escape(fake.html_root)}/{REPO}/blob/cml-assets/[0-9a-f]{{64}}\.png\?raw=true", body
    )


def test_images_go_to_the_assets_branch_in_one_commit(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, repo: Path
) -> None:
    a, b = png(repo / "a.png", 1), png(repo / "b.png", 2)
    (repo / "r.md").write_text('# plots\n\n![a](a.png)\n<img src="b.png" width=300>\n![a again](a.png)\n')
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    state = fake.repos[REPO]
    head = state.refs["heads/cml-assets"]
    assert state.commits[head]["parents"] == []
    assert len(fake.calls("POST", "/git/blobs$")) == 2
    assert len(fake.calls("POST", "/git/commits$")) == 1
    files = state.trees[state.commits[head]["tree"]]
    for path in (a, b):
        name = hashlib.sha256(path.read_bytes()).hexdigest() + ".png"
        assert state.blobs[files[name]] == path.read_bytes()
    [posted] = state.issue_comments
    links = _links(fake, str(posted["body"]))
    assert len(links) == 3
    assert all("/blob/cml-assets/" in link for link in links)  # the branch, not commit {head}
    assert "a.png)" not in str(posted["body"])


def test_rerun_uploads_nothing_and_new_images_build_on_the_head(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, repo: Path
) -> None:
    png(repo / "a.png", 1)
    (repo / "r.md").write_text("![a](a.png)\n")
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    first = fake.repos[REPO].refs["heads/cml-assets"]
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    assert len(fake.calls("POST", "/git/blobs$")) == 1
    assert fake.repos[REPO].refs["heads/cml-assets"] == first
    png(repo / "c.png", 3)
    (repo / "r.md").write_text("![a](a.png) ![c](c.png)\n")
    fake.faults.add(
        "status",
        method="PATCH",
        path="/git/refs/",
        status=422,
        body={"message": "Update is not a fast forward"},
    )
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    second = fake.repos[REPO].refs["heads/cml-assets"]
    assert fake.repos[REPO].commits[second]["parents"] == [first]
    assert len(fake.repos[REPO].trees[fake.repos[REPO].commits[second]["tree"]]) == 2


def test_publish_md_and_branch_option(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, CML_ASSETS_BRANCH="plots")
    png(repo / "a.png", 9)
    assert cml("publish", "a.png", "--md", "--title", "loss", env=env) == 0
    out = capfd.readouterr().out.strip().splitlines()[-1]
    head = fake.repos[REPO].refs["heads/plots"]
    assert head  # the branch was made
    assert out.startswith(f"![loss]({fake.html_root}/{REPO}/blob/plots/")
    assert out.endswith(".png?raw=true)")


def test_svg_is_refused_before_any_request(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "p.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert cml("publish", "p.svg", env=env) == 2
    assert "render PNG" in capfd.readouterr().err
    assert not fake.requests


def _forge(fake: FakeGitHub, tmp_path: Path, token: str):  # type: ignore[no-untyped-def]
    ctx = ci.detect(actions_env(fake, tmp_path, token=token))
    return ctx, make_forge(ctx, token)


def test_check_run_on_the_pr_head(fake: FakeGitHub, tmp_path: Path) -> None:
    ctx, forge = _forge(fake, tmp_path, BOT_TOKEN)
    assert ctx.sha == HEAD_SHA
    url = forge.set_status(
        ctx.sha, Status(name="cml/gate", conclusion="failure", title="acc fell", summary="y" * 70_000)
    )
    [run] = fake.repos[REPO].check_runs
    assert url == run["html_url"]
    assert run["head_sha"] == HEAD_SHA != MERGE_SHA
    assert run["conclusion"] == "failure"
    assert len(run["output"]["summary"]) <= 65_535
    assert "Cut by" in run["output"]["summary"]


def test_commit_status_when_check_runs_are_refused(fake: FakeGitHub, tmp_path: Path) -> None:
    ctx, forge = _forge(fake, tmp_path, USER_TOKEN)  # a PAT may not create check runs
    url = forge.set_status(ctx.sha, Status(name="cml/gate", conclusion="success", title="t" * 300))
    [status] = fake.repos[REPO].statuses
    assert status["sha"] == HEAD_SHA
    assert status["state"] == "success"
    assert status["context"] == "cml/gate"
    assert len(status["description"]) == 140
    assert url == status["target_url"]


def test_lost_answers_during_upload_leave_one_commit(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, repo: Path
) -> None:
    png(repo / "a.png", 5)
    (repo / "r.md").write_text("![a](a.png)\n")
    for path in ("/git/blobs$", "/git/trees$", "/git/commits$", "/git/refs$"):
        fake.faults.add("reset_after", method="POST", path=path)
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    state = fake.repos[REPO]
    head = state.refs["heads/cml-assets"]
    assert state.commits[head]["parents"] == []
    assert len(fake.faults.fired) == 4
    assert "/blob/cml-assets/" in str(state.issue_comments[0]["body"])
