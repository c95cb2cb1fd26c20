"""Every error a user can see, each with its own exit code.

A fatal error prints one line (``cml: error: ...``) naming the file, field or host and the fix;
the traceback is shown only with ``--debug``.
"""

from __future__ import annotations


class CmlError(Exception):
    """Base of the errors cml reports without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(CmlError):
    """Bad flags or arguments."""

    exit_code = 2


class InputError(CmlError):
    """A file the user gave us is missing or malformed."""

    exit_code = 2


class ConfigError(CmlError):
    """The environment lacks something cml needs (a token, a binary, a CI variable)."""

    exit_code = 3


class ForgeError(CmlError):
    """The forge answered with an error, or could not be reached after retries."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.body = body


class StoreMoved(ForgeError):
    """Assets changed between reading and pruning them (an upload landed); nothing was removed."""


class AuthError(ForgeError):
    """The token is missing, revoked, or lacks the permission for this call."""

    exit_code = 5


class GateFailed(CmlError):
    """A regression gate (``--fail-on``) tripped."""

    exit_code = 8


class HostError(CmlError):
    """A machine reached over SSH (or adb) failed: unreachable, refused us, or a command on it failed."""

    exit_code = 4


class Interrupted(CmlError):
    """Ctrl-C reached cml while it worked (on a runner host: that host's work was rolled back)."""

    exit_code = 130
