"""The transport's judgement of origins and redirects, without a server (https cases included)."""

from __future__ import annotations

import pytest
import requests

from cml.forges import errors, transport
from cml.forges.retry import MaybeWritten, Transient
from cml.forges.transport import Guard, Refused, Rules, origin, where

RULES = Rules(forge="GitLab", api_url="https://gitlab.example.com/gitlab/api/v4", setting="CI_SERVER_URL")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://GitLab.example.com/x", ("https", "gitlab.example.com", 443)),
        ("https://gitlab.example.com:443/x", ("https", "gitlab.example.com", 443)),
        ("http://gitlab.example.com/x", ("http", "gitlab.example.com", 80)),
        ("https://gitlab.example.com:8443/x", ("https", "gitlab.example.com", 8443)),
        ("https://user:pw@gitlab.example.com/x", ("https", "gitlab.example.com", 443)),
    ],
)
def test_origin_is_scheme_host_and_port(url: str, expected: tuple[str, str, int]) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:secret@evil.example:443/p?token=abc", "https://evil.example"),
        ("http://127.0.0.2:8080/steal?x=1", "http://127.0.0.2:8080"),
        ("https://[::1]:9/x", "https://[::1]:9"),
        ("https://evil.example:99999/x", "https://evil.example:?"),
        ("http://evil.example:port/x", "http://evil.example:?"),
    ],
)
def test_where_names_only_the_origin(url: str, shown: str) -> None:
    assert where(url) == shown


def answer(
    status: int, location: str, method: str = "GET", url: str = RULES.api_url + "/user"
) -> tuple[requests.PreparedRequest, requests.Response]:
    request = requests.Request(method, url).prepare()
    response = requests.Response()
    response.status_code = status
    response.headers["Location"] = location
    response._content = b""
    return request, response


def test_a_downgrade_to_http_on_the_same_host_is_another_origin() -> None:
    guard = Guard(RULES)
    with pytest.raises(Refused) as caught:
        guard._judge(*answer(301, "http://gitlab.example.com/gitlab/api/v4/user"))
    assert "a redirect to another host (http://gitlab.example.com)" in caught.value.message
    assert caught.value.exit_code == 4


def test_a_location_with_a_broken_port_is_refused_not_a_crash() -> None:
    with pytest.raises(Refused, match=r"another host \(https://gitlab.example.com:\?\)"):
        Guard(RULES)._judge(*answer(302, "https://gitlab.example.com:99999/gitlab/api/v4/user"))


def test_a_location_that_is_not_a_url_is_refused_not_a_crash() -> None:
    with pytest.raises(Refused, match="and a Location that is not a URL"):
        Guard(RULES)._judge(*answer(302, "http://[::1/x"))


def test_another_port_is_another_origin() -> None:
    with pytest.raises(Refused, match=r"another host \(https://gitlab.example.com:444\)"):
        Guard(RULES)._judge(*answer(302, "https://gitlab.example.com:444/gitlab/api/v4/user"))


def test_a_relative_redirect_of_a_read_on_the_same_origin_passes() -> None:
    guard = Guard(RULES)
    guard._judge(*answer(301, "/gitlab/api/v4/users/1"))
    assert guard._state.hops == ["/gitlab/api/v4/user", "/gitlab/api/v4/users/1"]


def test_a_redirect_without_location_is_not_the_api() -> None:
    with pytest.raises(Refused, match="and no Location: it did not answer like GitLab's API"):
        Guard(RULES)._judge(*answer(302, ""))


def test_a_request_to_another_origin_is_never_sent() -> None:
    session = transport.guard(requests.Session(), RULES)
    with pytest.raises(Refused, match=r"refused to send a request to http://127\.0\.0\.9:1"):
        session.get("http://127.0.0.9:1/anything", headers={"PRIVATE-TOKEN": "glpat-never-sent-0000000000"})


def test_binary_answers_pass_and_text_that_is_not_json_does_not() -> None:
    guard = Guard(RULES)
    request = requests.Request("GET", RULES.api_url + "/projects/1/uploads/abc/x.png").prepare()
    png = requests.Response()
    png.status_code, png._content = 200, b"\x89PNG\r\n"
    png.headers["Content-Type"] = "image/png"
    guard._judge(request, png)
    text = requests.Response()
    text.status_code, text._content = 200, b"Access denied by policy"
    text.headers["Content-Type"] = "text/plain"
    with pytest.raises(Refused, match=r"\(200 text/plain, not JSON\)"):
        guard._judge(request, text)


@pytest.mark.parametrize(
    ("exc", "method", "kind"),
    [
        (transport.Expired("no complete answer within 0.3 s"), "POST", MaybeWritten),
        (transport.Expired("no complete answer within 0.3 s"), "GET", Transient),
        (transport.ExpiredUnsent("no complete answer within 0.3 s"), "POST", Transient),
    ],
)
def test_the_deadline_keeps_never_sent_apart_from_maybe_written(
    exc: Exception, method: str, kind: type
) -> None:
    """Both forges' clients surface the deadline the same way: GitLab's through its error guard."""
    api = "https://gl.example/api/v4"

    def fail() -> None:
        raise exc

    with pytest.raises(Transient) as caught:
        errors.GitLabErrors(api_url=api, project="g/p").guard(fail, what="x", method=method)
    direct = errors.lost(exc, write=method == "POST", api_url=api)
    assert type(caught.value) is type(direct) is kind
    assert caught.value.message == direct.message == f"{api}: no complete answer within 0.3 s"
