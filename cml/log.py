"""Logging with secrets redacted everywhere cml writes.

Every token cml learns of is registered here before it is used; from then on the log handler,
error messages and ``--debug`` tracebacks pass through :func:`redact`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import TextIO

_secrets: set[str] = set()
_MIN_SECRET = 6
REDACTED = "***"

logger = logging.getLogger("cml")


def register_secret(value: str, env: Mapping[str, str] | None = None, out: TextIO | None = None) -> None:
    """Remember ``value`` so it is redacted; on GitHub Actions also ask the runner to mask it."""
    if len(value) < _MIN_SECRET or value in _secrets:
        return
    _secrets.add(value)
    if env is not None and env.get("GITHUB_ACTIONS") == "true":
        # The runner swallows this line and masks the value in every later log line.
        print(f"::add-mask::{value}", file=out or sys.stdout, flush=True)


def forget_secrets() -> None:
    """Drop every registered secret (tests)."""
    _secrets.clear()


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and anything shaped like a token replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _TOKEN_SHAPES.sub(REDACTED, text)


# Well-known token prefixes: GitHub (ghp_, gho_, ghs_, ghu_, github_pat_), GitLab (glpat-, glrt-, ...).
_TOKEN_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|gl(?:pat|rt|cbt|ptt|dt)-[\w-]{16,})"
)


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(debug: bool = False, stream: TextIO | None = None) -> None:
    """Send cml's log to stderr (INFO, or DEBUG with ``--debug``), redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_cml", False):
            root.removeHandler(old)
    handler._cml = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
