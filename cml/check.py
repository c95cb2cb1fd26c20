"""``cml check create`` as a library call: :func:`check` reports a result on this commit as a
GitHub check run or a GitLab commit status and returns a :class:`Checked`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cml import session, uploads
from cml.forges import Conclusion

#: GitHub check runs keep 65,535 characters of summary.
SUMMARY_LIMIT = 65_535


@dataclass(frozen=True, kw_only=True)
class CheckRequest:
    """A markdown summary, its outcome, and the check's name (the same name replaces it)."""

    report: Path
    conclusion: Conclusion
    title: str | None = None  # one line (default: the report's first heading)
    name: str = "cml"
    access: session.Access = field(default_factory=session.Access)


@dataclass(frozen=True, kw_only=True)
class Checked:
    """The check as the forge shows it."""

    url: str
    name: str
    conclusion: Conclusion
    title: str


def title_of(report: str, conclusion: str) -> str:
    """The first heading (or non-empty line, markup stripped), else ``cml: CONCLUSION``; cut to what a
    commit status description holds (:data:`cml.forges.STATUS_DESCRIPTION_CHARS`)."""
    from cml.forges import STATUS_DESCRIPTION_CHARS

    for line in report.splitlines():
        text = re.sub(r"<!--.*?-->|^\s*#+\s*|[*_`>]", "", line).strip()
        if text:
            return text[:STATUS_DESCRIPTION_CHARS]
    return f"cml: {conclusion}"


def check(request: CheckRequest, env: Mapping[str, str]) -> Checked:
    """Read the report and set the check on this commit (``forge.set_status``: GitHub's check-runs
    endpoint, GitLab's commit statuses); a summary over :data:`SUMMARY_LIMIT` is cut with a note.

    Raises InputError (2) for a bad report, SecretInBody (2) when the title or summary holds a
    registered secret, ConfigError (3) without a token, ForgeError (4) / AuthError (5) from the forge.
    """
    from cml.forges import STATUS_DESCRIPTION_CHARS, Status
    from cml.markdown import fit
    from cml.secrets import refuse_if_found

    report = uploads.read_report(request.report)
    opened = session.open_forge(env, request.access)
    summary, _cut = fit(report, SUMMARY_LIMIT, lambda n: f"> Cut by {n:,} characters; see the job summary.")
    status = Status(
        name=request.name,
        conclusion=request.conclusion,
        title=(request.title or title_of(report, request.conclusion)).splitlines()[0][
            :STATUS_DESCRIPTION_CHARS
        ],
        summary=summary,
    )
    refuse_if_found(f"{status.title}\n{status.summary}", "the check")
    url = opened.forge.set_status(opened.ctx.sha, status)
    return Checked(url=url, name=status.name, conclusion=status.conclusion, title=status.title)
