"""``cml assets gc`` on GitHub: the assets branch rewritten as one root commit of what recent comments link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cml import ci
from cml.assets import gc
from cml.errors import ForgeError
from cml.forges import Forge, make_forge
from cml.forges.github_assets import linked_names
from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import HEAD_SHA, PR, REPO, USER_TOKEN, Cml, actions_env
from tests.integration.github.test_assets import png

OLD, RECENT, NOW = "2026-06-01T00:00:00Z", "2026-06-19T00:00:00Z", datetime(2026, 6, 20, tzinfo=UTC)
BRANCH = "heads/cml-assets"


def _forge(fake: FakeGitHub, tmp_path: Path) -> Forge:
    ctx = ci.detect(actions_env(fake, tmp_path))
    return make_forge(ctx, USER_TOKEN)


@pytest.fixture
def links(fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    """Images a..e on the branch: a-d uploaded on June 1 (old), e on June 19; comments:

    a: an issue comment edited on June 19; b: only a comment of June 1; c: nothing;
    d: a commit comment of June 19; e: nothing (but uploaded recently).
    """
    forge = _forge(fake, tmp_path)
    fake.now = OLD
    old = forge.upload_assets([png(tmp_path / f"{n}.png", i) for i, n in enumerate("abcd")])
    fake.now = RECENT
    new = forge.upload_assets([png(tmp_path / "e.png", 9)])
    found = {p.stem: link for p, link in {**old, **new}.items()}
    fake.add_issue_comment(REPO, PR, f"old ![a]({found['a']}) ![b]({found['b']})", "ada", at=OLD)
    fake.add_issue_comment(REPO, PR, f"now ![a]({found['a']})", "ada", at=RECENT)
    fake.add_commit_comment(REPO, HEAD_SHA, f"![d]({found['d']})", "ada", at=RECENT)
    fake.add_commit_comment(REPO, HEAD_SHA, f"![c]({found['c']})", "ada", at=OLD)
    return found


def _name(link: str) -> str:
    return link.rsplit("/", maxsplit=1)[-1].split("?", maxsplit=1)[0]


def _files(fake: FakeGitHub) -> dict[str, str]:
    state = fake.repos[REPO]
    return state.trees[state.commits[state.refs[BRANCH]]["tree"]]


def test_gc_keeps_what_recent_comments_link_and_recent_uploads(
    fake: FakeGitHub, tmp_path: Path, links: dict[str, str]
) -> None:
    before = _files(fake)
    fake.requests.clear()
    result = gc(_forge(fake, tmp_path), keep_days=7, now=NOW)
    assert set(result.removed) == {_name(links["b"]), _name(links["c"])}
    assert set(result.kept) == {_name(links[n]) for n in "ade"}
    state = fake.repos[REPO]
    head = state.refs[BRANCH]
    assert state.commits[head]["parents"] == []  # a new root: the old history is no longer on the branch
    assert _files(fake) == {_name(links[n]): before[_name(links[n])] for n in "ade"}  # same blobs
    writes = [(r.method, r.path.rsplit("/git/", 1)[-1]) for r in fake.writes()]
    assert writes == [("POST", "trees"), ("POST", "commits"), ("PATCH", "refs/heads/cml-assets")]
    assert "base_tree" not in fake.writes()[0].json
    assert fake.writes()[-1].json == {"sha": head, "force": True}
    [listing] = fake.calls("GET", r"/issues/comments$")
    assert listing.arg("since") == "2026-06-13T00:00:00Z"
    assert listing.arg("sort") == "updated"
    assert not fake.calls("POST", "/git/blobs$")  # nothing uploaded again
    [older] = fake.calls("GET", r"/repos/acme/app/commits$")  # one request finds what is older
    assert older.arg("until") == "2026-06-13T00:00:00Z"
    assert older.arg("per_page") == "1"


def test_a_second_gc_builds_on_the_first_root(
    fake: FakeGitHub, tmp_path: Path, links: dict[str, str]
) -> None:
    fake.now = "2026-06-20T00:00:00Z"
    gc(_forge(fake, tmp_path), keep_days=7, now=NOW)
    fake.now = "2026-07-01T00:00:00Z"
    f = png(tmp_path / "f.png", 99)
    _forge(fake, tmp_path).upload_assets([f])  # on top of the root gc made on June 20
    result = gc(_forge(fake, tmp_path), keep_days=7, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert set(result.removed) == {_name(links[n]) for n in "ade"}  # their comments are old now
    assert len(result.kept) == 1
    assert set(_files(fake)) == set(result.kept)


def test_dry_run_changes_nothing(fake: FakeGitHub, tmp_path: Path, links: dict[str, str]) -> None:
    head = fake.repos[REPO].refs[BRANCH]
    fake.requests.clear()
    result = gc(_forge(fake, tmp_path), keep_days=7, now=NOW, dry_run=True)
    assert set(result.removed) == {_name(links["b"]), _name(links["c"])}
    assert fake.writes() == []
    assert fake.repos[REPO].refs[BRANCH] == head


def test_a_longer_window_keeps_what_older_comments_link(
    fake: FakeGitHub, tmp_path: Path, links: dict[str, str]
) -> None:
    writes = len(fake.writes())
    result = gc(_forge(fake, tmp_path), keep_days=30, now=NOW)
    assert result.removed == ()
    assert len(fake.writes()) == writes


def test_a_failure_mid_way_leaves_the_branch(fake: FakeGitHub, tmp_path: Path, links: dict[str, str]) -> None:
    head = fake.repos[REPO].refs[BRANCH]
    fake.requests.clear()
    fake.faults.add("status", method="POST", path="/git/commits$", status=422, body={"message": "nope"})
    with pytest.raises(ForgeError):
        gc(_forge(fake, tmp_path), keep_days=7, now=NOW)
    assert fake.repos[REPO].refs[BRANCH] == head
    assert not fake.calls("PATCH")


def test_an_upload_landing_meanwhile_is_kept(fake: FakeGitHub, tmp_path: Path, links: dict[str, str]) -> None:
    forge = _forge(fake, tmp_path)
    late = png(tmp_path / "late.png", 42)
    real = forge.bodies_since
    landed: list[str] = []

    def racing(since: datetime) -> Iterator[str]:
        if not landed:  # another job uploads while gc reads the comments
            landed.append(_name(forge.upload_assets([late])[late]))
        yield from real(since)

    forge.bodies_since = racing  # type: ignore[method-assign]
    fake.requests.clear()
    result = gc(forge, keep_days=7, now=NOW)
    assert landed[0] in result.kept
    assert landed[0] in _files(fake)
    assert [r.json["force"] for r in fake.calls("PATCH", "/git/refs/")] == [
        False,
        True,
    ]  # its upload, then gc


def test_nothing_kept_deletes_the_branch_and_an_upload_makes_it_again(
    fake: FakeGitHub, tmp_path: Path, links: dict[str, str]
) -> None:
    fake.repos[REPO].issue_comments.clear()
    fake.repos[REPO].commit_comments.clear()
    forge = _forge(fake, tmp_path)
    fake.faults.add("reset_after", method="DELETE", path="/git/refs/")
    result = gc(forge, keep_days=1, now=datetime(2026, 7, 1, tzinfo=UTC))
    assert len(result.removed) == 5
    assert result.kept == ()
    assert BRANCH not in fake.repos[REPO].refs
    assert [k for _, _, k in fake.faults.fired] == [
        "reset_after"
    ]  # its answer was lost, the retry found it gone
    f = png(tmp_path / "f.png", 77)
    forge.upload_assets([f])
    assert list(_files(fake)) == [_name(forge.upload_assets([f])[f])]


def test_a_protected_branch_is_a_clean_error(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, links: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake.protect(REPO, "cml-assets")
    head = fake.repos[REPO].refs[BRANCH]
    assert cml("assets", "gc", "--keep-days", "1", env=env) == 4
    [err] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cml:")]
    assert "branch cml-assets of acme/app is protected" in err
    assert fake.repos[REPO].refs[BRANCH] == head


def test_cli_json_and_text(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, links: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    writes = len(fake.writes())
    assert cml("assets", "gc", "--keep-days", "3650", "--dry-run", "--json", env=env) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True
    assert out["removed"] == []
    assert len(out["kept"]) == 5
    assert out["where"] == "branch cml-assets of acme/app"
    assert cml("assets", "gc", "--keep-days", "1", "--dry-run", env=env) == 0
    text = capsys.readouterr().out
    assert text.startswith("branch cml-assets of acme/app: would remove 5, kept 0")  # the clock is today
    assert len(fake.writes()) == writes


def test_keep_days_below_one_is_refused_before_any_request(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("0", "-3", "x"):
        with pytest.raises(SystemExit) as exit_:
            cml("assets", "gc", "--keep-days", bad, env=env)
        assert exit_.value.code == 2
        assert "--keep-days" in capsys.readouterr().err
    assert fake.requests == []


def test_links_are_recognised_as_cml_writes_them(fake: FakeGitHub, tmp_path: Path) -> None:
    forge = _forge(fake, tmp_path)
    link = forge.upload_assets([png(tmp_path / "z.png", 5)])[tmp_path / "z.png"]
    name = _name(link)
    root = fake.html_root
    assert forge.linked_assets(f"![x]({link})") == {name}
    assert linked_names(f'<img src="{root}/{REPO}/raw/cml-assets/{name}">') == {name}
    moved = f"{root}/old-owner/app/blob/{'1' * 40}/{name.upper()}?raw=true"  # renamed since: GitHub redirects
    assert linked_names(moved) == {name}
    assert linked_names(f"https://raw.githubusercontent.com/acme/app/{'1' * 40}/{name}") == {name}
    assert (
        linked_names(f"{name} /{name[1:]} /{name}_x") == set()
    )  # not after a slash, not 64 digits, not an end
