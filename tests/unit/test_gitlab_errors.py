"""Reading GitLab's wait advice."""

from __future__ import annotations

import email.utils
import time

import pytest

from cml.forges.gitlab_errors import retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "-2"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_seconds(headers: dict[str, str] | None, expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_http_date_and_ratelimit_reset() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after({"Retry-After": later}) or 0) <= 31
    assert 55 <= (retry_after({"RateLimit-Reset": str(int(time.time()) + 60)}) or 0) <= 61
