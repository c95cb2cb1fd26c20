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
from collections.abc import Iterator, Mapping
from typing import TextIO

from cml.errors import InputError

REDACTED = "***"
_MIN_SECRET = 6
#: The shortest encoded form worth looking for; shorter ones would match ordinary text.
_MIN_FORM = 8

_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=")


class _Registry:
    """The registered secrets, their plain forms and their encoded forms, longest first."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.plain: list[str] = []
        self.encoded: list[str] = []

    def add(self, plain: set[str], encoded: set[str]) -> None:
        self.plain = sorted({*self.plain, *plain}, key=len, reverse=True)
        self.encoded = sorted({*self.encoded, *encoded}, key=len, reverse=True)


_registry = _Registry()

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


def encoded_forms(secret: str) -> set[str]:
    """The forms of ``secret`` that encode it: hex (both cases) and its base64 forms."""
    raw = secret.encode("utf-8")
    return {raw.hex(), raw.hex().upper(), *base64_forms(raw)}


def forms(secret: str) -> set[str]:
    """Every form of ``secret`` worth hiding: itself and :func:`encoded_forms`."""
    return {secret, *encoded_forms(secret)}


def register_secret(value: str, env: Mapping[str, str] | None = None, out: TextIO | None = None) -> None:
    """Remember ``value`` so it is redacted; on GitHub Actions also ask the runner to mask it.

    Values shorter than 6 characters are ignored (they would redact ordinary words).
    """
    if len(value) < _MIN_SECRET or value in _registry.secrets:
        return
    _registry.secrets.add(value)
    lines = [line.strip() for line in value.splitlines() if len(line.strip()) >= _MIN_SECRET]
    _registry.add({value, *lines}, encoded_forms(value).union(*map(encoded_forms, lines)))
    if env is not None and env.get("GITHUB_ACTIONS") == "true":
        # The runner swallows these lines (it reads commands on stdout and stderr alike) and masks
        # each value, and by itself its base64 forms, in every later log line; a mask is one line, so
        # a multi-line secret is masked line by line. stderr keeps stdout clean for --json.
        for line in lines if len(value.splitlines()) > 1 else [value]:
            print(f"::add-mask::{line}", file=out or sys.stderr, flush=True)


def forget_secrets() -> None:
    """Drop every registered secret (tests)."""
    global _registry  # noqa: PLW0603 -- one registry per process; tests start from an empty one
    _registry = _Registry()


def redact(text: str) -> str:
    """Return ``text`` with every form of every registered secret and anything shaped like a token
    replaced by ``***``."""
    for form in _registry.plain:
        text = text.replace(form, REDACTED)
    for start, end in reversed(_runs(text, sorted(_occurrences(text, _registry.encoded)))):
        text = text[:start] + REDACTED + text[end:]
    return _TOKEN_SHAPES.sub(REDACTED, text)


def _occurrences(text: str, forms: list[str]) -> Iterator[tuple[int, int]]:
    """Each (start, end) where a form occurs in ``text`` (plain substring search: linear, no regex)."""
    for form in forms:
        at = text.find(form)
        while at >= 0:
            yield at, at + len(form)
            at = text.find(form, at + len(form))


def _runs(text: str, hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The whole base64/hex runs holding the sorted ``hits``, each scanned once: the characters next
    to an encoded form's stable middle still carry a byte or two of the secret."""
    runs: list[tuple[int, int]] = []
    for at, stop in hits:
        if runs and at < runs[-1][1]:
            runs[-1] = (runs[-1][0], max(stop, runs[-1][1]))
            continue
        start, end = at, stop
        while start > 0 and text[start - 1] in _B64_CHARS and not (runs and start <= runs[-1][1]):
            start -= 1
        while end < len(text) and text[end] in _B64_CHARS:
            end += 1
        runs.append((start, end))
    return runs


def find(text: str) -> int | None:
    """The 1-based line of the first registered secret (any form) or token-shaped string, else None."""
    hits = [text.find(form) for form in (*_registry.plain, *_registry.encoded)]
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
