"""GitLab CI, self-managed instances under a subpath included."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cml.ci import CIContext
from cml.errors import ConfigError


def _project(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(path or id, id)`` of the project cml writes to: the merge request's, else the pipeline's.

    A merge request pipeline from a fork runs in the fork (``CI_PROJECT_ID``/``_PATH`` name it) unless a
    parent project member runs it in the parent; the MR, and so its notes, statuses and the uploads
    its notes link, live in ``CI_MERGE_REQUEST_PROJECT_ID``/``_PATH`` either way (GitLab's predefined
    variables). The pair always comes from one source, never a fork's id with the parent's path.
    """
    mr_path, mr_id = env.get("CI_MERGE_REQUEST_PROJECT_PATH"), env.get("CI_MERGE_REQUEST_PROJECT_ID")
    if mr_path or mr_id:
        return mr_path or mr_id, mr_id or None
    return env.get("CI_PROJECT_PATH") or env.get("CI_PROJECT_ID"), env.get("CI_PROJECT_ID")


def context(env: Mapping[str, str], cwd: Path) -> CIContext:
    """Read CI_* variables. ``CI_SERVER_URL`` keeps its subpath (``https://host/gitlab``).

    In a merge request pipeline the project is the MR's (see :func:`_project`); the source project
    (a fork's path when the MR comes from one) is ``head_repo``.
    """
    server = env.get("CI_SERVER_URL", "").rstrip("/")
    if not server:
        raise ConfigError("CI_SERVER_URL is not set although GITLAB_CI=true")
    project, project_id = _project(env)
    if not project:
        raise ConfigError("neither CI_PROJECT_PATH nor CI_PROJECT_ID is set although GITLAB_CI=true")
    iid = env.get("CI_MERGE_REQUEST_IID")
    return CIContext(
        provider="gitlab_ci",
        forge="gitlab",
        repo=project,
        project_id=project_id,
        sha=env.get("CI_COMMIT_SHA", ""),
        server_url=server,
        api_url=(env.get("CI_API_V4_URL") or f"{server}/api/v4").rstrip("/"),
        pr=int(iid) if iid else None,
        event_name=env.get("CI_PIPELINE_SOURCE"),
        base_ref=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
        base_sha=env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"),
        head_repo=env.get("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH"),
        head_ref=env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
        workflow=env.get("CI_JOB_NAME") or "cml",
        actor=env.get("GITLAB_USER_LOGIN"),
        workdir=Path(env.get("CI_PROJECT_DIR") or cwd),
    )
