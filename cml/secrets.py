"""The secrets cml knows, every form they can take in text, and the scan that keeps them out of posts.

A token is registered once (:func:`register_secret`) before it is used. From then on :func:`redact`
replaces it in every log line, error and traceback, and :func:`refuse_if_found` stops a comment or
check body that holds it from being sent. Both look for the token itself, its hex, and its base64
in both alphabets at each of the three byte offsets it can sit at inside a longer encoded string
(``Authorization: basic base64(x-access-token:TOKEN)`` holds the token at offset 15 = 0 mod 3).
"""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Mapping
from typing import TextIO

from cml.errors import InputError

REDACTED = "***"
_MIN_SECRET = 6
#: The shortest encoded form worth looking for; shorter ones would match ordinary text.
_MIN_FORM = 8

_secrets: set[str] = set()
_forms: list[str] = []  # every form of every secret, longest first

# Well-known token prefixes: GitHub (ghp_, gho_, ghs_, ghu_, github_pat_), GitLab (glpat-, glrt-, ...).
_TOKEN_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|gl(?:pat|rt|cbt|ptt|dt)-[\w-]{16,})"
)


def base64_forms(raw: bytes) -> set[str]:
    """The base64 text ``raw`` produces wherever it sits in a longer string, in both alphabets.

    For each offset 0, 1, 2 (mod 3) the bytes are encoded behind that many filler bytes and only
    the characters that come from ``raw``'s bytes alone are kept: the stable middle, which appears
    in the encoding of any string holding ``raw`` at that offset, padded or not.
    """
    found: set[str] = set()
    for skip in range(3):
        encoded = base64.b64encode(b"\0" * skip + raw).decode("ascii")
        middle = encoded[4 if skip else 0 : (skip + len(raw)) // 3 * 4]
        if len(middle) >= _MIN_FORM:
            found |= {middle, middle.replace("+", "-").replace("/", "_")}
    return found


def forms(secret: str) -> set[str]:
    """Every form of ``secret`` worth hiding: itself, hex (both cases) and its base64 forms."""
    raw = secret.encode("utf-8")
    return {secret, raw.hex(), raw.hex().upper(), *base64_forms(raw)}


def register_secret(value: str, env: Mapping[str, str] | None = None, out: TextIO | None = None) -> None:
    """Remember ``value`` so it is redacted; on GitHub Actions also ask the runner to mask it.

    Values shorter than 6 characters are ignored (they would redact ordinary words).
    """
    if len(value) < _MIN_SECRET or value in _secrets:
        return
    _secrets.add(value)
    lines = [line.strip() for line in value.splitlines() if len(line.strip()) >= _MIN_SECRET]
    every = forms(value).union(*(forms(line) for line in lines if line != value))
    _forms[:] = sorted({*_forms, *every}, key=len, reverse=True)
    if env is not None and env.get("GITHUB_ACTIONS") == "true":
        # The runner swallows these lines (it reads commands on stdout and stderr alike) and masks
        # each value, and by itself its base64 forms, in every later log line; a mask is one line, so
        # a multi-line secret is masked line by line. stderr keeps stdout clean for --json.
        for line in lines if len(value.splitlines()) > 1 else [value]:
            print(f"::add-mask::{line}", file=out or sys.stderr, flush=True)


def forget_secrets() -> None:
    """Drop every registered secret (tests)."""
    _secrets.clear()
    _forms.clear()


def redact(text: str) -> str:
    """Return ``text`` with every form of every registered secret and anything shaped like a token
    replaced by ``***``."""
    for form in _forms:
        text = text.replace(form, REDACTED)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def find(text: str) -> int | None:
    """The 1-based line of the first registered secret (any form) or token-shaped string, else None."""
    hits = [text.find(form) for form in _forms]
    shaped = _TOKEN_SHAPES.search(text)
    first = min([at for at in hits if at >= 0] + ([shaped.start()] if shaped else []), default=-1)
    return None if first < 0 else text.count("\n", 0, first) + 1


class SecretInBody(InputError):
    """A body about to be posted holds a token (exit 2: the report given to cml is unfit to post)."""


def refuse_if_found(text: str, what: str) -> None:
    """Raise :class:`SecretInBody` (naming the line, never the secret) when ``text`` holds a secret."""
    line = find(text)
    if line is not None:
        raise SecretInBody(
            f"refusing to post {what}: its line {line} holds a token (or its base64 or hex form)",
            hint="remove it from the report; `--dry-run` shows the body with it redacted",
        )
