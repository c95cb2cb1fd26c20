"""``Link: rel="next"`` that leaves the API or loops: one clean error, nothing sent elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.fakes.github import FakeGitHub
from tests.fakes.http import FakeServer, Request
from tests.integration.github.conftest import PR, REPO, USER_TOKEN, Cml, actions_env
from tests.integration.race import leaks

Links = list[tuple[str, str]]


@pytest.fixture
def foreign() -> Iterator[FakeServer]:
    """Another origin on this machine that logs whatever reaches it."""
    with FakeServer() as server:
        yield server


def _chatter(fake: FakeGitHub, n: int = 150) -> None:
    for i in range(n):
        fake.add_issue_comment(REPO, PR, f"chatter {i}", "bob")


def _fails(cml: Cml, report: Path, env: dict[str, str], capfd: pytest.CaptureFixture[str]) -> str:
    assert cml("comment", "update", str(report), env=env) == 4
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("cml: ")]
    assert len(lines) == 1, err
    assert not leaks(USER_TOKEN, err)
    for word in ("internal error", "AssertionError", "KeyError", "RecursionError", "Traceback"):
        assert word not in err
    return lines[0]


def _this_url(fake: FakeGitHub, req: Request) -> str:
    query = urlencode([(k, v) for k, vs in req.query.items() for v in vs])
    return f"{fake.url}{req.path}?{query}"


@pytest.mark.parametrize("where", ["other-port", "other-host-name", "https", "user-info"])
def test_a_next_link_to_another_origin_is_not_followed(
    fake: FakeGitHub,
    foreign: FakeServer,
    env: dict[str, str],
    cml: Cml,
    report: Path,
    capfd: pytest.CaptureFixture[str],
    where: str,
) -> None:
    _chatter(fake)
    port = fake.root.rsplit(":", 1)[1]
    origin = {
        "other-port": foreign.root,
        "other-host-name": f"http://localhost:{port}",  # the fake itself, under a name PyGithub rejects
        "https": f"https://127.0.0.1:{port}",
        "user-info": f"http://{USER_TOKEN}@127.0.0.1:{port}",
    }[where]

    def away(req: Request, links: Links) -> Links:
        return [(rel, url.replace(fake.root, origin)) for rel, url in links]

    fake.rewrite_links = away
    line = _fails(cml, report, env, capfd)
    assert "next-page link leads outside" in line
    assert fake.url in line
    assert not foreign.requests
    assert len(fake.calls("GET", r"/comments$")) == 1
    assert not fake.writes()


def test_a_next_link_outside_the_api_path_is_not_followed(
    fake_ghe: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake_ghe)
    env = actions_env(fake_ghe, tmp_path)

    def off_api(req: Request, links: Links) -> Links:  # same host, but not under /api/v3
        return [(rel, url.replace("/api/v3/", "/login/oauth/")) for rel, url in links]

    fake_ghe.rewrite_links = off_api
    assert "next-page link leads outside" in _fails(cml, report, env, capfd)
    assert len(fake_ghe.requests) == 2  # GET /user and the first page


def test_a_self_referencing_next_link_stops(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake, 3)
    fake.rewrite_links = lambda req, links: [("next", _this_url(fake, req))]
    line = _fails(cml, report, env, capfd)
    assert "points back to a page already read" in line
    assert len(fake.calls("GET", r"/comments$")) == 1  # refused on the answer: the page is not read again
    assert not fake.writes()


def test_next_links_that_cycle_stop(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake, 250)  # three pages; the third leads back to the first

    def cycle(req: Request, links: Links) -> Links:
        if req.arg("page") == "3":
            return [("next", f"{fake.url}{req.path}?per_page=100&page=1")]
        return links

    fake.rewrite_links = cycle
    line = _fails(cml, report, env, capfd)
    assert "points back to a page already read" in line
    assert len(fake.calls("GET", r"/comments$")) == 4
    assert not fake.writes()


def test_an_empty_page_that_names_itself_next_stops(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.rewrite_links = lambda req, links: [("next", f"{fake.url}{req.path}?per_page=100&page=2")]
    assert "points back to a page already read" in _fails(cml, report, env, capfd)
    assert len(fake.calls("GET", r"/comments$")) == 2


def test_a_next_link_with_a_broken_port_is_not_followed(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _chatter(fake)
    fake.rewrite_links = lambda req, links: [("next", "http://127.0.0.1:port/repos/x?page=2")]
    assert "next-page link leads outside" in _fails(cml, report, env, capfd)


def test_next_pages_that_repeat_the_same_comments_stop(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Each next URL is new (a growing query), but every page holds the first page's comments again."""
    _chatter(fake, 3)

    def again(req: Request, links: Links) -> Links:
        n = int(req.arg("n") or 0) + 1
        return [("next", f"{fake.url}{req.path}?per_page=100&n={n}")]

    fake.rewrite_links = again
    line = _fails(cml, report, env, capfd)
    assert "next page holds only comments already read" in line
    assert len(fake.calls("GET", r"/comments$")) == 2
    assert not fake.writes()
