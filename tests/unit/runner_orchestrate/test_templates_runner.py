"""The GPU templates call the real ``cml runner launch`` and keep fork code off self-hosted machines."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from cml.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def _load(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def test_github_gpu_workflow_keeps_fork_prs_off_the_runner_and_the_admin_token() -> None:
    data = _load("workflow-templates/gpu-runner.yml")
    launch, train = data["jobs"]["launch"], data["jobs"]["train"]
    for job in (launch, train):
        condition = " ".join(job["if"].split())
        assert GUARD in condition
        assert "github.event_name == 'workflow_dispatch'" in condition
    assert launch["permissions"] == {}
    step = launch["steps"][0]
    assert step["uses"] == "OWNER/REPO/runner@v1"
    assert step["with"]["token"] == "${{ secrets.RUNNER_ADMIN_TOKEN }}"
    assert "secrets." not in yaml.safe_dump(train)
    action_inputs = _load("runner/action.yml")["inputs"]
    assert set(step["with"]) <= set(action_inputs)
    assert "pull_request_target" not in data[True]


def test_gitlab_launch_job_runs_the_real_command_on_protected_refs_only() -> None:
    """The GPU component (a spec header, then its jobs): the launch job's one rule, and its command parsed by
    the real parser with the labels and extra options its inputs give it."""
    header, jobs = yaml.safe_load_all((ROOT / "templates" / "gpu.yml").read_text(encoding="utf-8"))
    job = jobs["cml-runner-launch"]
    assert len(job["rules"]) == 1
    rule = job["rules"][0]["if"]
    assert '$CI_COMMIT_REF_PROTECTED == "true"' in rule
    assert '$CI_PIPELINE_SOURCE != "merge_request_event"' in rule
    assert "when" not in job["rules"][0]
    argv = shlex.split(" ".join(job["script"][0].split()))
    assert argv[:3] == ["cml", "runner", "launch"]
    assert argv[-1] == "$CML_RUNNER_ARGS"  # the launch-args input, split by the shell
    args = build_parser().parse_args(argv[1:-1])
    assert (args.verb, args.mode, args.gpu, args.labels) == ("launch", "service", True, "$CML_RUNNER_LABELS")
    assert args.host == ["$CML_RUNNER_HOST"]
    assert job["variables"]["CML_RUNNER_LABELS"] == "$[[ inputs.labels ]]"
    assert job["variables"]["CML_RUNNER_ARGS"] == "$[[ inputs.launch-args ]]"
    assert job["variables"]["REPO_TOKEN"] == "$CML_RUNNER_ADMIN_TOKEN"
    inputs = header["spec"]["inputs"]
    assert (inputs["labels"]["default"], inputs["launch-args"]["default"]) == ("gpu,linux", "")
    assert "secret" not in yaml.safe_dump(jobs["cml-train-gpu"]).lower()
    assert "CML_RUNNER" not in yaml.safe_dump({k: v for k, v in jobs.items() if k != "cml-runner-launch"})
