"""GitHub App installation tokens (``GET /user`` is 403) find their own sticky comment via GraphQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import BOT_TOKEN, PR, REPO, Cml, actions_env
from tests.integration.race import leaks

APP_TOKEN = "ghs_AcmeReportsAppInstallation0042"
APP = "acme-reports[bot]"


def _ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [
        c for c in fake.repos[REPO].issue_comments if c["_issue"] == PR and "cml:sticky" in str(c["body"])
    ]


@pytest.mark.parametrize("ghe", [False, True], ids=["github.com", "enterprise"])
def test_an_app_edits_its_own_comment_and_not_the_actions_bots(
    fake: FakeGitHub,
    fake_ghe: FakeGitHub,
    tmp_path: Path,
    cml: Cml,
    report: Path,
    capfd: pytest.CaptureFixture[str],
    ghe: bool,
) -> None:
    server = fake_ghe if ghe else fake
    server.add_token(APP_TOKEN, APP, kind="installation")
    assert cml("comment", "update", str(report), env=actions_env(server, tmp_path, token=BOT_TOKEN)) == 0
    [bots] = _ours(server)
    bot_body = bots["body"]
    app = actions_env(server, tmp_path, token=APP_TOKEN)
    for text in ("acc 0.91", "acc 0.95"):
        report.write_text(f"# Metrics\n\n{text}\n")
        assert cml("comment", "update", str(report), env=app) == 0
    assert [(c["user"]["login"], c["user"]["type"]) for c in _ours(server)] == [  # type: ignore[index]
        ("github-actions[bot]", "Bot"),
        (APP, "Bot"),
    ]
    bots_now, mine = _ours(server)
    assert bots_now["body"] == bot_body
    assert "acc 0.95" in str(mine["body"])
    assert server.calls("PATCH", rf"/issues/comments/{mine['id']}$")
    assert not server.calls("PATCH", rf"/issues/comments/{bots['id']}$")
    graphql = "/api/graphql" if ghe else "/graphql"
    assert server.calls("POST", rf"^{graphql}$")  # ghe: outside /api/v3, as GitHub Enterprise serves it
    assert all(r.json == {"query": "query { viewer { login } }"} for r in server.calls("POST", "graphql$"))
    assert not leaks(APP_TOKEN, capfd.readouterr().err)


def test_the_actions_token_is_still_the_actions_bot(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path
) -> None:
    env = actions_env(fake, tmp_path, token=BOT_TOKEN)
    for _ in range(2):
        assert cml("comment", "update", str(report), env=env) == 0
    [ours] = _ours(fake)
    assert ours["user"]["login"] == "github-actions[bot]"  # type: ignore[index]
    assert len(fake.calls("POST", "graphql$")) == 2  # asked, not assumed


def test_graphql_failing_is_one_line(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.faults.add(
        "status", method="POST", path="graphql$", status=200, body={"errors": [{"message": "boom"}]}
    )
    assert cml("comment", "update", str(report), env=actions_env(fake, tmp_path, token=BOT_TOKEN)) == 4
    err = capfd.readouterr().err
    [line] = [line for line in err.splitlines() if line.startswith("cml: ")]
    assert "did not say whom the token belongs to (boom)" in line
    assert not fake.repos[REPO].issue_comments
