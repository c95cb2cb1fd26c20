"""A sticky update reads GitHub's comment pages from the last one backwards and stops at ours.

GitHub's first page names the last with ``rel="last"`` and every later page its predecessor with
``rel="prev"`` (docs.github.com, "Using pagination in the REST API"); the fake sends them so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml.comment import marker
from tests.fakes.github import FakeGitHub
from tests.fakes.http import Request
from tests.integration.github.conftest import PR, REPO, USER_TOKEN, Cml
from tests.integration.race import leaks

CHATTER = 3_000  # 30 pages of 100


def _chatter(fake: FakeGitHub, n: int) -> None:
    for i in range(n):
        fake.add_issue_comment(REPO, PR, f"chatter {i}", "bob")


def _ours(fake: FakeGitHub) -> dict[str, object]:
    return fake.add_issue_comment(REPO, PR, marker("report", "abcdef") + "\nold report", "ada")


def _pages(fake: FakeGitHub) -> list[str | None]:
    return [r.arg("page") for r in fake.calls("GET", rf"/issues/{PR}/comments$")]


def _update(cml: Cml, report: Path, env: dict[str, str], capfd: pytest.CaptureFixture[str]) -> str:
    assert cml("comment", "update", str(report), "--watermark-title", "report", "--json", env=env) == 0
    out, err = capfd.readouterr()
    assert not leaks(USER_TOKEN, out + err)
    return str(json.loads(out.strip().splitlines()[-1])["action"])


def test_ours_newest_costs_the_first_and_the_last_page(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake, CHATTER - 1)
    ours = _ours(fake)
    assert _update(cml, report, env, capfd) == "updated"
    assert _pages(fake) == [None, "30"]  # the first page for its rel="last", then the last page
    assert "old report" not in str(ours["body"])
    assert [r.method for r in fake.writes()] == ["PATCH"]
    assert sum("cml:sticky" in str(c["body"]) for c in fake.repos[REPO].issue_comments) == 1


def test_ours_oldest_walks_back_without_reading_the_first_page_twice(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ours = _ours(fake)
    _chatter(fake, CHATTER - 1)
    assert _update(cml, report, env, capfd) == "updated"
    assert _pages(fake) == [None, *(str(n) for n in range(30, 1, -1))]  # 30, 29, ... 2; page 1 in hand
    assert "old report" not in str(ours["body"])
    assert [r.method for r in fake.writes()] == ["PATCH"]


def test_the_newest_of_two_copies_is_the_one_edited(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    older = _ours(fake)
    _chatter(fake, 250)
    newer = _ours(fake)
    _chatter(fake, 20)
    assert _update(cml, report, env, capfd) == "updated"
    assert "old report" in str(older["body"])
    assert "old report" not in str(newer["body"])
    assert _pages(fake) == [None, "3"]


def test_none_of_ours_reads_back_then_creates_and_converges_in_full(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake, 250)
    assert _update(cml, report, env, capfd) == "created"
    backwards, forwards = [None, "3", "2"], [None, "2", "3"]  # the search, then the full convergence read
    assert _pages(fake) == backwards + forwards
    assert [r.method for r in fake.writes()] == ["POST"]
    assert sum("cml:sticky" in str(c["body"]) for c in fake.repos[REPO].issue_comments) == 1


def test_a_single_page_is_read_once(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _ours(fake)
    _chatter(fake, 5)
    assert _update(cml, report, env, capfd) == "updated"
    assert _pages(fake) == [None]


def test_a_prev_link_off_the_api_is_not_followed(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake, 250)
    fake.rewrite_links = lambda req, links: [
        (rel, url.replace(fake.root, "http://127.0.0.2:9") if rel == "prev" else url) for rel, url in links
    ]
    assert cml("comment", "update", str(report), "--watermark-title", "report", env=env) == 4
    err = capfd.readouterr().err
    [line] = [x for x in err.splitlines() if x.startswith("cml: ")]
    assert "previous-page link leads outside" in line
    assert not leaks(USER_TOKEN, err)
    assert _pages(fake) == [None, "3"]
    assert not fake.writes()


def test_prev_links_that_cycle_stop(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake, 350)  # four pages; page 2's prev leads back to the last

    def cycle(req: Request, links: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if req.arg("page") == "2":
            return [(rel, url.replace("&page=1", "&page=4")) for rel, url in links if rel == "prev"]
        return links

    fake.rewrite_links = cycle
    assert cml("comment", "update", str(report), "--watermark-title", "report", env=env) == 4
    err = capfd.readouterr().err
    [line] = [x for x in err.splitlines() if x.startswith("cml: ")]
    assert "points back to a page already read" in line
    assert _pages(fake) == [None, "4", "3", "2"]
    assert not fake.writes()
