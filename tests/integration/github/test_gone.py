"""A sticky comment deleted between the listing and the edit: cml posts a new one (fake GitHub)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub
from tests.fakes.http import Reply, Request
from tests.integration.github.conftest import PR, REPO, USER_TOKEN, Cml


def _ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [
        c for c in fake.repos[REPO].issue_comments if c["_issue"] == PR and "cml:sticky" in str(c["body"])
    ]


def before_first(fake: FakeGitHub, method: str, act: Callable[[], None]) -> None:
    """Run ``act`` (someone deleting the comment in the web UI) just before the first ``method``."""
    dispatch, fired = fake.dispatch, []

    def racing(req: Request) -> Reply:
        if req.method == method and not fired:
            fired.append(req)
            act()
        return dispatch(req)

    fake.dispatch = racing  # type: ignore[method-assign]


def test_deleted_before_the_edit_is_posted_again(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert cml("comment", "update", str(report), env=env) == 0
    [old] = _ours(fake)
    before_first(fake, "PATCH", lambda: fake.repos[REPO].issue_comments.remove(old))
    report.write_text("# Metrics\n\nacc 0.97\n")
    assert cml("comment", "update", str(report), "--json", env=env) == 0
    captured = capfd.readouterr()
    posted = json.loads(captured.out.strip().splitlines()[-1])
    [new] = _ours(fake)
    assert new["id"] != old["id"]
    assert "acc 0.97" in str(new["body"])
    assert posted == {"action": "created", "url": new["html_url"], "id": str(new["id"])}
    assert [r.method for r in fake.writes()][-2:] == ["PATCH", "POST"]
    assert "cml: error" not in captured.err
    assert USER_TOKEN not in captured.out


def test_a_commit_comment_deleted_before_the_edit(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    assert cml("comment", "update", str(report), "--target", "commit", env=env) == 0
    [old] = fake.repos[REPO].commit_comments
    before_first(fake, "PATCH", lambda: fake.repos[REPO].commit_comments.remove(old))
    assert cml("comment", "update", str(report), "--target", "commit", env=env) == 0
    [new] = fake.repos[REPO].commit_comments
    assert new["id"] != old["id"]
    assert fake.calls("PATCH", rf"/comments/{old['id']}$")
