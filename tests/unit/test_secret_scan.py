"""cml.secrets: every form of a registered token is redacted in logs and refused in a body to post."""

from __future__ import annotations

import base64
import io
import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cml import secrets
from cml.errors import InputError
from tests.leaks import leaks

TOKEN = "tok-ada-5f1e9c0b7d2a4e6f"

_TOKENS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=12, max_size=60)
_BYTES = st.binary(max_size=7)


def _encodings(prefix: bytes, token: str, suffix: bytes) -> list[str]:
    raw = prefix + token.encode() + suffix
    std = base64.b64encode(raw).decode()
    return [std, std.rstrip("="), base64.urlsafe_b64encode(raw).decode(), raw.hex(), raw.hex().upper()]


@given(token=_TOKENS, prefix=_BYTES, suffix=_BYTES)
def test_every_encoding_at_every_offset_is_found_and_redacted(
    token: str, prefix: bytes, suffix: bytes
) -> None:
    secrets.forget_secrets()
    secrets.register_secret(token)
    for encoded in _encodings(prefix, token, suffix):
        text = f"# Report\n\nsee {encoded} here\n"
        assert secrets.find(text) == 3, encoded
        assert not leaks(secrets.redact(text), token), encoded


def test_the_basic_auth_header_git_would_send_is_found() -> None:
    secrets.register_secret(TOKEN)
    header = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    with pytest.raises(InputError) as caught:
        secrets.refuse_if_found(f"ok\nAUTHORIZATION: basic {header}\n", "the comment")
    message = str(caught.value)
    assert message.startswith("refusing to post the comment: its line 2 holds a token")
    assert caught.value.exit_code == 2
    assert not leaks(message, TOKEN)


@pytest.mark.parametrize(
    "text",
    [
        "nothing here",
        base64.b64encode(b"tok-ada-5f1e9c0b7d2a4e6").decode(),  # one byte short of the token
        "tok-ada-5f1e9c0b7d2a4e6",
        "| acc | 0.91 |",
    ],
)
def test_text_without_the_token_passes(text: str) -> None:
    secrets.register_secret(TOKEN)
    assert secrets.find(text) is None
    secrets.refuse_if_found(text, "the comment")


def test_an_unregistered_token_shaped_string_is_refused_too() -> None:
    shaped = "ghp_" + "A1b2C3d4" * 5
    assert secrets.find(f"line one\nleaked {shaped}") == 2
    assert secrets.redact(shaped) == "***"


def test_short_values_are_not_registered() -> None:
    secrets.register_secret("abc12")
    assert secrets.redact("abc12 and YWJjMTI=") == "abc12 and YWJjMTI="
    assert secrets.find("abc12") is None


def test_a_multi_line_secret_is_masked_line_by_line() -> None:
    out = io.StringIO()
    secrets.register_secret("first-line-secret\nsecond-line-secret\n", {"GITHUB_ACTIONS": "true"}, out)
    assert out.getvalue().splitlines() == ["::add-mask::first-line-secret", "::add-mask::second-line-secret"]
    assert secrets.redact("a second-line-secret b") == "a *** b"


def test_forms_of_short_secrets_skip_encodings_that_would_match_ordinary_text() -> None:
    assert all(len(form) >= 6 for form in secrets.forms("abcdef"))
    assert all(len(form) >= 8 for form in secrets.base64_forms(b"abcdefgh"))


def test_redaction_hides_the_whole_encoded_run_not_just_its_stable_middle() -> None:
    secrets.register_secret(TOKEN)
    header = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert secrets.redact(f"AUTHORIZATION: basic {header}\nnext") == "AUTHORIZATION: basic ***\nnext"
    assert secrets.redact(f"{TOKEN.encode().hex()} {TOKEN}") == "*** ***"


def test_a_two_megabyte_body_is_scanned_and_redacted_in_linear_time() -> None:
    secrets.register_secret(TOKEN)
    blob = base64.b64encode(os.urandom(1_500_000)).decode()
    hidden = blob[:1000] + base64.b64encode(b"ab" + TOKEN.encode()).decode() + blob[1000:]
    started = time.monotonic()
    assert secrets.find(blob) is None
    assert secrets.find(hidden) == 1
    assert secrets.redact(hidden) == "***"
    assert time.monotonic() - started < 2
