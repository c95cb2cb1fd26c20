"""The OpenAPI check itself must be able to fail."""

from __future__ import annotations

import pytest

from tests.fakes.github import FakeGitHub
from tests.fakes.http import Reply, Request
from tests.integration.github.conftest import PR, REPO
from tests.integration.github.openapi import Checker


def _get(path: str) -> Request:
    return Request(method="GET", path=path, query={}, headers={}, body=b"")


def test_checker_flags_a_bad_body_and_an_unknown_path(openapi_checker: Checker | None) -> None:
    if openapi_checker is None:
        pytest.skip("npm is not installed: GitHub's OpenAPI description cannot be fetched")
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_pr(REPO, PR, "a" * 40)
        good = fake.public(fake.add_issue_comment(REPO, PR, "hi", "ada"))
        bad = {k: v for k, v in good.items() if k != "node_id"}
        fake.exchanges += [
            (_get(f"/repos/{REPO}/issues/{PR}/comments"), Reply(200, [good])),
            (_get(f"/repos/{REPO}/issues/{PR}/comments"), Reply(200, [bad])),
            (_get(f"/repos/{REPO}/no-such-thing"), Reply(200, {})),
        ]
        found = openapi_checker.violations(fake)
    assert len([v for v in found if "node_id" in v]) == 1
    assert any("no-such-thing" in v for v in found)
    assert not any(
        v.startswith(f"GET /repos/{REPO}/issues/{PR}/comments -> 200") and "node_id" not in v for v in found
    )
