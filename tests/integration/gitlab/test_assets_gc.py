"""``cml assets gc`` on GitLab: old uploads that no recently updated note links are deleted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cml import ci
from cml.assets import gc
from cml.cli import main
from cml.errors import ForgeError
from cml.forges import Forge, Target, make_forge
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID, TOKEN

OLD, RECENT = "2026-06-01T00:00:00.000Z", "2026-06-19T00:00:00.000Z"
NOW = datetime(2026, 6, 20, tzinfo=UTC)


def _forge(env: dict[str, str]) -> Forge:
    return make_forge(ci.detect(env), TOKEN)


def _names(project: Project) -> set[str]:
    return {u["filename"] for u in project.uploads}


@pytest.fixture
def names(fake: FakeGitLab, project: Project, env: dict[str, str], sha: str, repo: Path) -> dict[str, str]:
    """Uploads a..d made on June 1, e on June 19; links:

    a: an MR note of June 1 edited on June 19; b: an MR note of June 1 only; c: an issue note of
    June 1; d: a commit thread note of June 19; e: none (but uploaded recently).
    """
    forge = _forge(env)
    files = {}
    for i, n in enumerate("abcde"):
        files[n] = repo / f"{n}.png"
        files[n].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([i]) * 50)
    fake.now = OLD
    links = {p.stem: link for p, link in forge.upload_assets([files[n] for n in "abcd"]).items()}
    mr = Target(kind="pr", ref=str(MR_IID))
    sticky = forge.create_comment(mr, f"![a]({links['a']}) ![b]({links['b']})")
    forge.create_comment(mr, f"![b]({links['b']})")
    fake.add_note(project, "issues", 3, f"![c]({links['c']})", "alice")
    fake.now = RECENT
    links["e"] = forge.upload_assets([files["e"]])[files["e"]]
    forge.update_comment(mr, sticky, f"![a]({links['a']})")  # the sticky comment, updated
    forge.create_comment(Target(kind="commit", ref=sha), f"![d]({links['d']})")
    return {n: link.rsplit("/", 1)[-1] for n, link in links.items()}


def test_gc_deletes_only_old_unlinked_uploads(
    fake: FakeGitLab, project: Project, env: dict[str, str], names: dict[str, str]
) -> None:
    ids = {u["filename"]: u["id"] for u in project.uploads}
    fake.requests.clear()
    result = gc(_forge(env), keep_days=7, now=NOW)
    assert set(result.removed) == {names["b"], names["c"]}
    assert _names(project) == {names[n] for n in "ade"}
    deleted = sorted(r.path.rsplit("/", 1)[-1] for r in fake.calls("DELETE"))
    assert deleted == sorted(str(ids[names[n]]) for n in "bc")
    [mrs] = fake.calls("GET", r"/merge_requests$")
    assert datetime.fromisoformat(mrs.arg("updated_after") or "") == datetime(2026, 6, 13, tzinfo=UTC)


def test_dry_run_deletes_nothing(
    fake: FakeGitLab, project: Project, env: dict[str, str], names: dict[str, str]
) -> None:
    before = _names(project)
    result = gc(_forge(env), keep_days=7, now=NOW, dry_run=True)
    assert set(result.removed) == {names["b"], names["c"]}
    assert _names(project) == before
    assert not fake.calls("DELETE")


def test_below_maintainer_is_refused_with_the_role_named(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    names: dict[str, str],
    capfd: pytest.CaptureFixture[str],
) -> None:
    fake.below_maintainer.add("project_42_bot")
    before = _names(project)
    assert main(["assets", "gc", "--keep-days", "7"], env) == 4
    err = capfd.readouterr().err
    assert "Maintainer" in err
    assert "uploads" in err
    assert _names(project) == before


def test_a_gitlab_without_the_uploads_list_is_named(
    fake: FakeGitLab, project: Project, env: dict[str, str], names: dict[str, str]
) -> None:
    fake.uploads_api = (17, 1)
    with pytest.raises(ForgeError, match=r"17\.2"):
        gc(_forge(env), keep_days=7, now=NOW)


def test_a_failed_delete_stops_and_keeps_every_linked_upload(
    fake: FakeGitLab, project: Project, env: dict[str, str], names: dict[str, str]
) -> None:
    fake.faults.add(
        "status", method="DELETE", path="/uploads/", status=403, body={"message": "403 Forbidden"}
    )
    with pytest.raises(ForgeError):
        gc(_forge(env), keep_days=7, now=NOW)
    assert {names[n] for n in "ade"} <= _names(project)


def test_cli_json(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    names: dict[str, str],
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert main(["assets", "gc", "--keep-days", "3650", "--json"], env) == 0
    out = json.loads(capfd.readouterr().out)
    assert out["where"] == "uploads of group/project"
    assert out["removed"] == []
    assert sorted(out["kept"]) == sorted(names.values())


def test_issues_turned_off_are_skipped(
    fake: FakeGitLab, project: Project, env: dict[str, str], names: dict[str, str]
) -> None:
    fake.features_off.add("issues")
    result = gc(_forge(env), keep_days=7, now=NOW)
    assert set(result.removed) == {names["b"], names["c"]}
    assert fake.calls("GET", r"/issues$")  # asked, refused (403), skipped
