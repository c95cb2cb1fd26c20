"""GitLab CI, self-managed instances under a subpath included."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cml.ci import CIContext
from cml.errors import ConfigError


def context(env: Mapping[str, str], cwd: Path) -> CIContext:
    """Read CI_* variables. ``CI_SERVER_URL`` keeps its subpath (``https://host/gitlab``)."""
    server = env.get("CI_SERVER_URL", "").rstrip("/")
    if not server:
        raise ConfigError("CI_SERVER_URL is not set although GITLAB_CI=true")
    project = env.get("CI_PROJECT_PATH") or env.get("CI_PROJECT_ID")
    if not project:
        raise ConfigError("neither CI_PROJECT_PATH nor CI_PROJECT_ID is set although GITLAB_CI=true")
    iid = env.get("CI_MERGE_REQUEST_IID")
    return CIContext(
        provider="gitlab_ci",
        forge="gitlab",
        repo=project,
        project_id=env.get("CI_PROJECT_ID"),
        sha=env.get("CI_COMMIT_SHA", ""),
        server_url=server,
        api_url=(env.get("CI_API_V4_URL") or f"{server}/api/v4").rstrip("/"),
        pr=int(iid) if iid else None,
        event_name=env.get("CI_PIPELINE_SOURCE"),
        base_ref=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
        base_sha=env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"),
        head_repo=env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"),
        workflow=env.get("CI_JOB_NAME") or "cml",
        actor=env.get("GITLAB_USER_LOGIN"),
        workdir=Path(env.get("CI_PROJECT_DIR") or cwd),
    )
