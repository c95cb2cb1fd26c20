"""GitHub Actions: the repository, the commit under test and the PR from the event payload."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cml.ci import CIContext
from cml.errors import ConfigError

_PR_EVENTS = {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"GITHUB_EVENT_PATH {path}: cannot read the event payload: {exc}") from exc
    return data if isinstance(data, dict) else {}


def context(env: Mapping[str, str], cwd: Path) -> CIContext:
    """Read GITHUB_* variables; on PR events take the PR number and head sha from the payload."""
    repo = env.get("GITHUB_REPOSITORY")
    if not repo:
        raise ConfigError("GITHUB_REPOSITORY is not set although GITHUB_ACTIONS=true")
    event_name = env.get("GITHUB_EVENT_NAME")
    event = _event(env)
    sha = env.get("GITHUB_SHA", "")
    pr = base_ref = base_sha = head_repo = None
    pull = event.get("pull_request") if event_name in _PR_EVENTS else None
    if isinstance(pull, dict):
        pr = int(pull["number"])
        sha = pull.get("head", {}).get("sha") or sha
        base_ref = pull.get("base", {}).get("ref")
        base_sha = pull.get("base", {}).get("sha")
        head_repo = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
    elif event_name == "workflow_run":
        run = event.get("workflow_run") or {}
        sha = run.get("head_sha") or sha
        prs = run.get("pull_requests") or []
        if prs:
            pr = int(prs[0]["number"])
            base_ref = prs[0].get("base", {}).get("ref")
        head_repo = (run.get("head_repository") or {}).get("full_name")
        if head_repo != repo:
            head_repo = None  # fork-safe pattern: we run in the base repo with its own token
    summary = env.get("GITHUB_STEP_SUMMARY")
    return CIContext(
        provider="github_actions",
        forge="github",
        repo=repo,
        sha=sha,
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        pr=pr,
        event_name=event_name,
        base_ref=base_ref or env.get("GITHUB_BASE_REF") or None,
        base_sha=base_sha,
        head_repo=head_repo,
        workflow=env.get("GITHUB_WORKFLOW") or "cml",
        actor=env.get("GITHUB_ACTOR"),
        step_summary=Path(summary) if summary else None,
        workdir=Path(env.get("GITHUB_WORKSPACE") or cwd),
    )
