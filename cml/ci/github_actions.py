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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pull_request(pull: dict[str, Any]) -> dict[str, Any]:
    """The PR fields of a ``pull_request*`` event: its number, head sha, base and head."""
    head, base = _dict(pull.get("head")), _dict(pull.get("base"))
    return {
        "pr": int(pull["number"]),
        "sha": head.get("sha"),
        "base_ref": base.get("ref"),
        "base_sha": base.get("sha"),
        "head_repo": _dict(head.get("repo")).get("full_name"),
        "head_ref": head.get("ref"),
    }


def _workflow_run(run: dict[str, Any], repo: str) -> dict[str, Any]:
    """The fields of a ``workflow_run`` event (the fork-safe post workflow, in the base repository).

    ``pull_requests`` lists open PRs whose head branch *or* head sha matches the run, any of them
    possibly in another repository, and is empty for a PR from a fork: only an entry whose base is
    ``repo`` and whose head is the run's ``head_sha`` is taken. Otherwise the PR stays unknown and the
    forge finds it from ``head_repo`` and ``head_ref`` (on GitHub: ``GET pulls?head=owner:branch``).
    """
    sha = run.get("head_sha")
    mine = [
        p
        for p in run.get("pull_requests") or []
        if isinstance(p, dict)
        and _dict(p.get("head")).get("sha") == sha
        and _is_repo(_dict(_dict(p.get("base")).get("repo")).get("url"), repo)
    ]
    fields: dict[str, Any] = {
        "sha": sha,
        "head_repo": _dict(run.get("head_repository")).get("full_name"),
        "head_ref": run.get("head_branch"),
    }
    if mine:
        fields.update(pr=int(mine[0]["number"]), base_ref=_dict(mine[0].get("base")).get("ref"))
    return fields


def _is_repo(api_url: Any, repo: str) -> bool:
    """True when ``api_url`` (``https://api.github.com/repos/o/r``, GHES ``.../api/v3/repos/o/r``) names ``repo``."""
    return isinstance(api_url, str) and api_url.lower().endswith(f"/repos/{repo}".lower())


def context(env: Mapping[str, str], cwd: Path) -> CIContext:
    """Read GITHUB_* variables; on PR events take the PR number and head sha from the payload.

    On ``workflow_run`` the commit is the triggering run's head and the PR is taken only from an
    entry of ``pull_requests`` that belongs to this repository (see :func:`_workflow_run`).
    """
    repo = env.get("GITHUB_REPOSITORY")
    if not repo:
        raise ConfigError("GITHUB_REPOSITORY is not set although GITHUB_ACTIONS=true")
    event_name = env.get("GITHUB_EVENT_NAME")
    event = _event(env)
    fields: dict[str, Any] = {}
    pull = event.get("pull_request") if event_name in _PR_EVENTS else None
    if isinstance(pull, dict):
        fields = _pull_request(pull)
    elif event_name == "workflow_run":
        fields = _workflow_run(_dict(event.get("workflow_run")), repo)
    summary = env.get("GITHUB_STEP_SUMMARY")
    return CIContext(
        provider="github_actions",
        forge="github",
        repo=repo,
        sha=fields.get("sha") or env.get("GITHUB_SHA", ""),
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        pr=fields.get("pr"),
        event_name=event_name,
        base_ref=fields.get("base_ref") or env.get("GITHUB_BASE_REF") or None,
        base_sha=fields.get("base_sha"),
        head_repo=fields.get("head_repo"),
        head_ref=fields.get("head_ref"),
        workflow=env.get("GITHUB_WORKFLOW") or "cml",
        actor=env.get("GITHUB_ACTOR"),
        step_summary=Path(summary) if summary else None,
        workdir=Path(env.get("GITHUB_WORKSPACE") or cwd),
    )
