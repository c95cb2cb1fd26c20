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
    workflow: str = "cml"  # default watermark title: workflow or job name
    actor: str | None = None
    step_summary: Path | None = None
    workdir: Path = field(default_factory=Path.cwd)

    @property
    def is_fork_pr(self) -> bool:
        """True when the PR comes from another repository (read-only token, no secrets)."""
        return self.pr is not None and self.head_repo is not None and self.head_repo != self.repo


def detect(env: Mapping[str, str], cwd: Path | None = None) -> CIContext:
    """Build the context for the CI described by ``env`` (local when none is)."""
    from cml.ci import github_actions, gitlab_ci, local

    cwd = cwd or Path.cwd()
    if env.get("GITHUB_ACTIONS") == "true":
        return github_actions.context(env, cwd)
    if env.get("GITLAB_CI") == "true":
        return gitlab_ci.context(env, cwd)
    return local.context(env, cwd)


TOKEN_VARS: dict[ForgeName, tuple[str, ...]] = {
    "github": ("REPO_TOKEN", "GITHUB_TOKEN"),
    "gitlab": ("REPO_TOKEN", "GITLAB_TOKEN"),
    "local": (),
}


def resolve_token(forge: ForgeName, env: Mapping[str, str], flag: str | None = None) -> tuple[str, str]:
    """Return ``(token, where it came from)``: ``--token``, then ``REPO_TOKEN``, then the forge's own.

    Raises ConfigError naming the variables to set; on GitLab it explains that ``CI_JOB_TOKEN``
    cannot write MR notes.
    """
    if flag:
        return flag, "--token"
    for name in TOKEN_VARS[forge]:
        if env.get(name):
            return env[name], name
    if forge == "local":
        return "", "none"
    if forge == "gitlab":
        why = (
            "CI_JOB_TOKEN cannot write merge request notes" if env.get("CI_JOB_TOKEN") else "no token is set"
        )
        raise ConfigError(
            f"GitLab needs a token: {why}",
            hint="create a project access token with the api scope (Reporter role or above) and "
            "expose it to the job as the masked CI/CD variable REPO_TOKEN",
        )
    raise ConfigError(
        "GitHub needs a token: none of REPO_TOKEN, GITHUB_TOKEN is set",
        hint="add `env: {REPO_TOKEN: ${{ secrets.GITHUB_TOKEN }}}` to the step and "
        "`permissions: {pull-requests: write, contents: write}` to the job",
    )
