"""Which CI runs us, read once from an environment mapping into a frozen context.

Nothing else in cml reads ``GITHUB_*`` or ``CI_*`` variables: every command gets a
:class:`CIContext` from :func:`detect`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cml.errors import ConfigError

Provider = Literal["github_actions", "gitlab_ci", "local"]
ForgeName = Literal["github", "gitlab", "local"]


@dataclass(frozen=True, kw_only=True)
class CIContext:
    """Where this run happens: forge, repository, commit and (when any) its PR/MR."""

    provider: Provider
    forge: ForgeName
    repo: str  # "owner/name" on GitHub, the project path on GitLab, the work tree locally
    sha: str  # the commit under test: a PR's head, never GitHub's merge commit
    server_url: str = ""  # https://github.com, https://host/gitlab, ...
    api_url: str = ""  # https://api.github.com, https://host/gitlab/api/v4, ...
    project_id: str | None = None  # GitLab's numeric id
    pr: int | None = None  # PR number / MR iid of this pipeline
    event_name: str | None = None
    base_ref: str | None = None  # the PR/MR target branch
    base_sha: str | None = None
    head_repo: str | None = None  # the PR head's repository, differs on fork PRs
    head_ref: str | None = None  # the PR/MR head branch (in a fork-safe post, how its PR is found)
    workflow: str = "cml"  # default watermark title: workflow or job name
    actor: str | None = None
    step_summary: Path | None = None
    workdir: Path = field(default_factory=Path.cwd)

    @property
    def is_fork_pr(self) -> bool:
        """True when the PR comes from another repository (read-only token, no secrets)."""
        return self.pr is not None and self.head_repo is not None and self.head_repo != self.repo


def append_summary(ctx: CIContext, markdown: str) -> None:
    """Append ``markdown`` to the job summary (GitHub's ``$GITHUB_STEP_SUMMARY``), when the CI has one.

    The summary shows on the run's page, which anyone who can read the repository sees: every
    registered secret and its encoded forms are redacted first.
    """
    if ctx.step_summary is None:
        return
    from cml.secrets import redact

    with ctx.step_summary.open("a", encoding="utf-8") as summary:
        summary.write(redact(markdown) + "\n")


def detect(env: Mapping[str, str], cwd: Path | None = None) -> CIContext:
    """Build the context for the CI described by ``env`` (local when none is)."""
    from cml.ci import github_actions, gitlab_ci, local

    cwd = cwd or Path.cwd()
    if env.get("GITHUB_ACTIONS") == "true":
        return github_actions.context(env, cwd)
    if env.get("GITLAB_CI") == "true":
        return gitlab_ci.context(env, cwd)
    return local.context(env, cwd)


def with_forge(ctx: CIContext, forge: ForgeName, env: Mapping[str, str]) -> CIContext:
    """``ctx`` for ``--forge forge``: unchanged when it is the detected one, else with the repository
    and API URL of that forge (:func:`cml.ci.override.on_forge`; ConfigError naming what is missing)."""
    if forge == ctx.forge:
        return ctx
    from cml.ci import override

    return override.on_forge(ctx, forge, env)


TOKEN_VARS: dict[ForgeName, tuple[str, ...]] = {
    "github": ("REPO_TOKEN", "GITHUB_TOKEN"),
    "gitlab": ("REPO_TOKEN", "GITLAB_TOKEN"),
    "local": (),
}

#: The user name that goes with the token in HTTPS git's basic auth. GitHub: the name actions/checkout
#: uses for any token. GitLab: any non-blank name goes with a personal, project or group access token
#: ("oauth2" is the one its docs use for OAuth tokens; the token needs the api or read_repository scope).
GIT_USER: dict[ForgeName, str] = {"github": "x-access-token", "gitlab": "oauth2", "local": ""}


class NoToken(ConfigError):
    """No token is set for a forge that needs one."""


def resolve_token(forge: ForgeName, env: Mapping[str, str], flag: str | None = None) -> tuple[str, str]:
    """Return ``(token, where it came from)``: ``--token``, then ``REPO_TOKEN``, then the forge's own.

    Surrounding whitespace (a pasted secret's trailing newline) is stripped; a blank value counts
    as unset. Raises ConfigError naming the variable when the token holds a character no token has
    (a line break, a space, a control character), without echoing it, and NoToken (a ConfigError)
    naming the variables to set when there is none; on GitLab it explains that ``CI_JOB_TOKEN`` cannot write
    MR notes.
    """
    candidates = [("--token", flag or "")] + [(name, env.get(name, "")) for name in TOKEN_VARS[forge]]
    for where, value in candidates:
        if value.strip():
            return _clean(value, where), where
    if forge == "local":
        return "", "none"
    if forge == "gitlab":
        why = (
            "CI_JOB_TOKEN cannot write merge request notes" if env.get("CI_JOB_TOKEN") else "no token is set"
        )
        raise NoToken(
            f"GitLab needs a token: {why}",
            hint="create a project access token with the api scope (Reporter role or above; on GitLab.com "
            "Free, a bot user's personal access token) and expose it to the job as the CI/CD variable "
            "REPO_TOKEN, masked but not protected (merge request pipelines get no protected variables)",
        )
    raise NoToken(
        "GitHub needs a token: none of REPO_TOKEN, GITHUB_TOKEN is set",
        hint="add `env: {REPO_TOKEN: ${{ secrets.GITHUB_TOKEN }}}` to the step and "
        "`permissions: {pull-requests: write, contents: write}` to the job",
    )


_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))  # printable ASCII without the space


def _clean(value: str, where: str) -> str:
    """``value`` stripped; ConfigError naming ``where`` (never the value) if a character remains
    that no forge token has: HTTP header values cannot carry line breaks or control characters."""
    token = value.strip()
    if not set(token) <= _TOKEN_CHARS:
        raise ConfigError(
            f"{where}: the token holds a line break, space or other character no token has",
            hint=f"set {where} to the token alone, on one line",
        )
    return token
