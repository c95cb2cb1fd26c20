"""Logging with secrets redacted everywhere cml writes.

Every token cml learns of is registered (:mod:`cml.secrets`, re-exported here) before it is used;
from then on the log handler, error messages and ``--debug`` tracebacks pass through :func:`redact`,
which also catches the token's base64 and hex forms.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from cml.secrets import REDACTED, forget_secrets, redact, register_secret

__all__ = ["REDACTED", "forget_secrets", "logger", "redact", "register_secret", "setup"]

logger = logging.getLogger("cml")


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
