"""cml from Python: each command as one call that takes a typed request and returns a typed result.

The CLI (``cml.cli``) builds these requests from its arguments, calls these functions and prints
their results; the GitHub action reads its outputs from them. Every call takes the environment
(``os.environ`` or a mapping of your own) from which it detects the CI, the forge and the token; an
``access`` field overrides the forge or gives a token. Errors are :class:`CmlError` subclasses, each
with the ``exit_code`` the CLI exits with; a failed gate is in the result (``result.gate.failed``),
never raised. See ``docs/api.md``.
"""

from __future__ import annotations

from cml.assets import GcRequest, GcResult
from cml.assets import collect as assets_gc
from cml.bench.run import Options as BenchRequest
from cml.bench.run import Outcome as BenchResult
from cml.bench.run import measure as bench
from cml.check import Checked, CheckRequest, check
from cml.comment import Posted
from cml.container import RunRequest
from cml.container import run as run_container
from cml.errors import AuthError, CmlError, ConfigError, ForgeError, GateFailed, InputError, UsageError
from cml.posting import CommentRequest, DryRun, plan, post
from cml.publish import Published, PublishRequest, publish
from cml.report.run import ReportRequest, ReportResult, report
from cml.runner.command import RunnerRequest, RunnerResult
from cml.runner.command import run as runner
from cml.session import Access, Session, context, open_forge, resolve_target

__all__ = [
    "Access",
    "AuthError",
    "BenchRequest",
    "BenchResult",
    "CheckRequest",
    "Checked",
    "CmlError",
    "CommentRequest",
    "ConfigError",
    "DryRun",
    "ForgeError",
    "GateFailed",
    "GcRequest",
    "GcResult",
    "InputError",
    "Posted",
    "PublishRequest",
    "Published",
    "ReportRequest",
    "ReportResult",
    "RunRequest",
    "RunnerRequest",
    "RunnerResult",
    "Session",
    "UsageError",
    "assets_gc",
    "bench",
    "check",
    "context",
    "open_forge",
    "plan",
    "post",
    "publish",
    "report",
    "resolve_target",
    "run_container",
    "runner",
]
