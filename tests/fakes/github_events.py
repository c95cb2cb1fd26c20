"""Event payloads as GitHub writes them to ``GITHUB_EVENT_PATH``, built from a fake GitHub's state.

``workflow_run`` (docs.github.com/webhooks/webhook-events-and-payloads#workflow_run; the run object is
the REST ``workflow-run`` schema): the posting workflow of the fork-safe pattern runs on it, in the
base repository, after the ``pull_request`` run it follows.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.github import PR, FakeGitHub, Repo
from tests.fakes.github_routes import repository

_NOW = "2026-01-01T00:00:00Z"


def workflow_run(
    fake: FakeGitHub,
    full_name: str,
    *,
    head_repo: str,
    head_branch: str,
    head_sha: str,
    event: str = "pull_request",
    conclusion: str = "success",
) -> dict[str, Any]:
    """A ``workflow_run`` ``completed`` payload for a run of ``event`` on ``head_repo``'s ``head_branch``.

    ``pull_requests`` is what GitHub puts there: "pull requests that are open with a ``head_sha`` or
    ``head_branch`` that matches the workflow run" (REST ``workflow-run`` schema), each a
    pull-request-minimal -- and none at all for a run from a fork (github/docs#22501: "not reported
    for workflow runs associated with forked-repository pull requests"). A same-named branch of the
    base repository may therefore show up with another head sha.
    """
    base, head = fake.repos[full_name], fake.repos.get(head_repo) or fake.repos[full_name]
    run_id = fake.next_id()
    api = f"{fake.url}/repos/{full_name}"
    prs = [] if head_repo != full_name else _matching(base, head_branch, head_sha)
    run = {
        "id": run_id, "name": "cml fork-safe build", "node_id": f"WFR_{run_id}", "check_suite_id": run_id + 1,
        "check_suite_node_id": f"CS_{run_id}", "head_branch": head_branch, "head_sha": head_sha,
        "path": ".github/workflows/fork-safe-build.yml", "display_title": "a change", "run_number": 3,
        "event": event, "status": "completed", "conclusion": conclusion, "workflow_id": 42,
        "url": f"{api}/actions/runs/{run_id}", "html_url": f"{fake.root}/{full_name}/actions/runs/{run_id}",
        "pull_requests": [_minimal(fake, base, pr) for pr in prs],
        "created_at": _NOW, "updated_at": _NOW, "run_attempt": 1, "run_started_at": _NOW,
        "actor": fake.user(head_repo.partition("/")[0]), "triggering_actor": fake.user(head_repo.partition("/")[0]),
        "jobs_url": f"{api}/actions/runs/{run_id}/jobs", "logs_url": f"{api}/actions/runs/{run_id}/logs",
        "check_suite_url": f"{api}/check-suites/{run_id + 1}", "artifacts_url": f"{api}/actions/runs/{run_id}/artifacts",
        "cancel_url": f"{api}/actions/runs/{run_id}/cancel", "rerun_url": f"{api}/actions/runs/{run_id}/rerun",
        "previous_attempt_url": None, "workflow_url": f"{api}/actions/workflows/42", "referenced_workflows": [],
        "head_commit": {
            "id": head_sha, "tree_id": "d" * 40, "message": "a change", "timestamp": _NOW,
            "author": {"name": "Eve", "email": "eve@example.com"}, "committer": {"name": "Eve", "email": "eve@example.com"},
        },
        "repository": repository(fake, base),
        "head_repository": repository(fake, head),
    }  # fmt: skip
    return {
        "action": "completed",
        "workflow_run": run,
        "workflow": {"id": 42, "name": "cml fork-safe build", "path": run["path"], "state": "active"},
        "repository": repository(fake, base),
        "sender": fake.user(head_repo.partition("/")[0]),
    }


def _matching(base: Repo, branch: str, sha: str) -> list[PR]:
    """Open PRs of ``base`` from its own branches whose head branch or head sha is the run's."""
    return [
        pr
        for pr in base.prs.values()
        if pr.state == "open"
        and pr.head_repo == base.full_name
        and (pr.head_ref == branch or pr.head_sha == sha)
    ]


def _minimal(fake: FakeGitHub, base: Repo, pr: PR) -> dict[str, Any]:
    """A pull-request-minimal: ``id``, ``number``, ``url``, ``head``/``base`` with ``ref``, ``sha``, ``repo``."""
    repo = {"id": base.id, "url": f"{fake.url}/repos/{base.full_name}", "name": base.full_name.split("/")[1]}
    return {
        "id": pr.number + 7_000_000,
        "number": pr.number,
        "url": f"{fake.url}/repos/{base.full_name}/pulls/{pr.number}",
        "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": repo},
        "base": {"ref": pr.base_ref, "sha": "0" * 40, "repo": repo},
    }
