"""The GitLab side as CI/CD components (templates/<name>.yml, GitLab's catalog layout).

Each component is held to GitLab's rules for components (https://docs.gitlab.com/ci/components/: a
``spec: inputs`` header, then the jobs; no global keywords, since they would change the user's whole
pipeline; the stage comes in as an input) and to the documented rules for switching between branch and
merge request pipelines (https://docs.gitlab.com/ci/yaml/workflow/), written per job because a component
must not set ``workflow:``. Then gitlab-ci-local runs each one, included with ``include: component:`` the
way GitLab's docs test a component in its own project (``$CI_SERVER_FQDN/$CI_PROJECT_PATH/NAME@$CI_COMMIT_SHA``),
inside a small user pipeline that defines its own stages and a job of its own. ``cml`` and ``dvc`` are
stand-ins that record their argv (the real ``cml report`` runs in test_templates.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import git
from tests.integration.test_templates import _GCL_FLAGS, _gitlab_env
from tests.tools.npm import node_modules

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
COMPONENTS = sorted(TEMPLATES.glob("*.yml")) + sorted(TEMPLATES.glob("*/template.yml"))
#: Keywords that act on the whole pipeline (https://docs.gitlab.com/ci/yaml/#global-keywords), and the
#: deprecated global forms of job keywords: a component must set none of them.
GLOBAL_KEYWORDS = {"default", "include", "stages", "variables", "workflow"}
GLOBAL_KEYWORDS |= {"image", "services", "cache", "before_script", "after_script"}
RULES = [
    {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
    {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
    {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"},
]
#: The one job that launches a self-hosted runner: it holds the runner-admin token and reaches a machine
#: over SSH, so it runs on protected refs alone, never in a merge request pipeline (a fork's included).
LAUNCH_JOBS = {"cml-runner-launch"}
LAUNCH_RULES = [
    {
        "if": '$CML_RUNNER_HOST && $CI_COMMIT_REF_PROTECTED == "true" '
        '&& $CI_PIPELINE_SOURCE != "merge_request_event"'
    },
]
#: Jobs for scheduled pipelines alone (housekeeping: nothing to do for a push or a merge request).
SCHEDULED_JOBS = {"cml-assets-gc"}
SCHEDULED_RULES = [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def name_of(path: Path) -> str:
    """The component's name: ``templates/NAME.yml`` or ``templates/NAME/template.yml``."""
    return path.parent.name if path.name == "template.yml" else path.stem


def documents(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header (``spec:``) and the body (the jobs) of a component file."""
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert len(docs) == 2, f"{path.name}: a spec header, `---`, then the jobs"
    return docs[0], docs[1]


def components() -> list[Any]:
    """Every component file, named by its component."""
    return [pytest.param(p, id=name_of(p)) for p in COMPONENTS]


def test_the_catalog_layout() -> None:
    """Only components under templates/ (the catalog takes every .yml there); the GitHub ones moved."""
    names = {name_of(p) for p in COMPONENTS}
    assert names >= {"train-report", "dvc-train-report", "sweep", "bench", "gpu"}
    stray = [p for p in TEMPLATES.rglob("*.yml") if p not in COMPONENTS]
    assert stray == []
    assert not (TEMPLATES / "github").exists()
    assert not (TEMPLATES / "gitlab").exists()


@pytest.mark.parametrize("path", components())
def test_component_declares_inputs_and_sets_nothing_global(path: Path) -> None:
    header, body = documents(path)
    assert list(header) == ["spec"]
    inputs = header["spec"]["inputs"]
    assert {"stage", "image"} <= set(inputs)
    for name, spec in inputs.items():
        assert spec.get("description"), f"{path.name}: input {name} says what it is for"
        assert "default" in spec, f"{path.name}: input {name} has a default, so an include needs no inputs"
    assert set(body) & GLOBAL_KEYWORDS == set()
    assert not [key for key in body if key.startswith(".")], (
        "no hidden jobs: they would leak into the pipeline"
    )
    used = set(INPUT.findall(path.read_text(encoding="utf-8").split("\n---\n", 1)[1]))
    assert used == set(inputs), f"{path.name}: inputs declared but unused, or used but undeclared"


@pytest.mark.parametrize("path", components())
def test_every_job_takes_its_stage_from_an_input_and_runs_once_per_push(path: Path) -> None:
    _, body = documents(path)
    assert body
    for job_name, job in body.items():
        assert INPUT.fullmatch(job["stage"]), f"{job_name}: stage from an input"
        assert INPUT.fullmatch(job["image"]), f"{job_name}: image from an input"
        wanted = LAUNCH_RULES if job_name in LAUNCH_JOBS else RULES
        wanted = SCHEDULED_RULES if job_name in SCHEDULED_JOBS else wanted
        assert job["rules"] == wanted, f"{job_name}: the documented MR-or-default-branch rules"
        assert job_name.startswith("cml-")


def test_the_components_posting_jobs_are_never_cancelled_halfway() -> None:
    posting = {"train-report": "cml-report", "bench": "cml-bench", "sweep": "cml-sweep-report"}
    posting |= {"dvc-train-report": "cml-dvc", "gpu": "cml-report-gpu"}
    for name, job_name in posting.items():
        job = documents(TEMPLATES / f"{name}.yml")[1][job_name]
        assert job["interruptible"] is False
        assert job["resource_group"].endswith("-$CI_COMMIT_REF_SLUG")
        assert "--post" in " ".join(job["script"])


def interpolate(node: Any, values: dict[str, Any]) -> Any:
    """``$[[ inputs.NAME ]]`` replaced in every string, as GitLab does on the parsed file: a string that is
    only the reference takes the value itself (an array stays an array)."""
    if isinstance(node, dict):
        return {key: interpolate(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, values) for value in node]
    if isinstance(node, str):
        whole = INPUT.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return INPUT.sub(lambda m: str(values[m.group(1)]), node)
    return node


@pytest.mark.parametrize("path", components())
def test_check_jsonschema_takes_the_header_and_the_jobs_with_the_defaults(path: Path, tmp_path: Path) -> None:
    """check-jsonschema reads one YAML document: the header, then the jobs as GitLab sees them with every
    input at its default, are checked one at a time."""
    header, body = documents(path)
    defaults = {name: spec["default"] for name, spec in header["spec"]["inputs"].items()}
    files = [tmp_path / "header.yml", tmp_path / "jobs.yml"]
    files[0].write_text(yaml.safe_dump(header), encoding="utf-8")
    files[1].write_text(yaml.safe_dump(interpolate(body, defaults)), encoding="utf-8")
    argv = [
        sys.executable,
        "-m",
        "check_jsonschema",
        "--builtin-schema",
        "vendor.gitlab-ci",
        *map(str, files),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_catches_a_broken_job(tmp_path: Path) -> None:
    header, body = documents(TEMPLATES / "train-report.yml")
    body["cml-report"]["needz"] = body["cml-report"].pop("needs")
    bad = tmp_path / "jobs.yml"
    bad.write_text(yaml.safe_dump(interpolate(body, dict.fromkeys(header["spec"]["inputs"], "x"))))
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(bad)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "'needz' was unexpected" in done.stdout


# ---- gitlab-ci-local: each component inside a user pipeline with its own stages ----

USER_JOB = "user-lint:\n  stage: check\n  script: [echo user job ran]\n"


def _project(tmp_path: Path, include: dict[str, Any], *, stages: str = "[check, learn, publish]") -> Path:
    """A project holding the components (as this repository does) and a user .gitlab-ci.yml."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    for stage in ("prepare", "train", "evaluate"):  # stand-in training: small files, no TensorFlow
        (project / "src" / f"{stage}.py").write_text(_STUB.format(stage=stage), encoding="utf-8")
    (project / "params.yaml").write_text("train:\n  learning_rate: 0.01\n  filters: 4\n", encoding="utf-8")
    for path in COMPONENTS:
        target = project / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    user = {"stages": yaml.safe_load(stages), "include": [include]}
    text = yaml.safe_dump(user, sort_keys=False) + USER_JOB
    (project / ".gitlab-ci.yml").write_text(text, encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "remote", "add", "origin", "https://gitlab.example.com/group/digits.git")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "project")
    return project


_STUB = """import json, os, pathlib, yaml
params = yaml.safe_load(open("params.yaml"))
pathlib.Path("metrics.json").write_text(json.dumps({{"accuracy": 0.9, "stage": "{stage}"}}))
pathlib.Path("plots").mkdir(exist_ok=True)
pathlib.Path("model").mkdir(exist_ok=True)
pathlib.Path("data").mkdir(exist_ok=True)
pathlib.Path("model/model.keras").write_text("m")
print("{stage}", json.dumps(params))
"""

COMPONENT = "$CI_SERVER_FQDN/$CI_PROJECT_PATH/{name}@$CI_COMMIT_SHA"


def _recorders(tmp_path: Path, log: Path, *names: str) -> Path:
    """Stand-ins for ``names`` that append ``[name, *argv]`` to ``log``, one JSON line a call."""
    bin_dir = tmp_path / "record-bin"
    bin_dir.mkdir()
    for name in names:
        (bin_dir / name).write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f'open("{log}", "a").write(json.dumps(["{name}", *sys.argv[1:]]) + "\\n")\n',
            encoding="utf-8",
        )
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _run(project: Path, tmp_path: Path, bin_dir: Path, *args: str) -> str:
    """gitlab-ci-local over the whole pipeline of ``project`` as a merge request; its log."""
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    env = _gitlab_env(tmp_path)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    done = subprocess.run(
        [str(tool), *_GCL_FLAGS, *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    return log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_gitlab_ci_local_runs_train_report_in_a_user_pipeline(tmp_path: Path) -> None:
    inputs = {"stage": "learn", "report-stage": "publish", "title": 'Run "7" of $PROJECT'}
    inputs |= {"fail-on": "accuracy < 0.9", "args": "--all --sort-by f1"}
    project = _project(tmp_path, {"component": COMPONENT.format(name="train-report"), "inputs": inputs})
    calls = tmp_path / "calls.jsonl"
    out = _run(project, tmp_path, _recorders(tmp_path, calls, "cml"))
    for job in ("user-lint", "cml-train", "cml-report"):
        assert re.search(rf"PASS +{job}\b", out), out[-3000:]
    assert "user job ran" in out
    assert re.search(r"cml-train +> evaluate ", out)
    assert _calls(calls) == [
        ["cml", "report", "--title", 'Run "7" of $PROJECT', "--post",
         "--fail-on", "accuracy < 0.9", "--all", "--sort-by", "f1"],
    ]  # fmt: skip


def test_gitlab_ci_local_runs_the_dvc_component_in_order(tmp_path: Path) -> None:
    inputs = {"stage": "learn", "install": "", "fail-on": "accuracy < 0.95"}
    project = _project(tmp_path, {"component": COMPONENT.format(name="dvc-train-report"), "inputs": inputs})
    calls = tmp_path / "calls.jsonl"
    out = _run(project, tmp_path, _recorders(tmp_path, calls, "cml", "dvc"))
    assert re.search(r"PASS +cml-dvc\b", out)
    assert re.search(r"PASS +user-lint\b", out)
    assert _calls(calls) == [
        ["dvc", "pull", "--allow-missing"],
        ["dvc", "repro"],
        ["dvc", "push"],
        ["cml", "report", "--title", "Training report", "--post", "--fail-on", "accuracy < 0.95"],
    ]


def test_a_failing_dvc_step_stops_before_posting(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {"component": COMPONENT.format(name="dvc-train-report"), "inputs": {"stage": "learn", "install": ""}},
    )
    calls = tmp_path / "calls.jsonl"
    bin_dir = _recorders(tmp_path, calls, "cml", "dvc")
    (bin_dir / "dvc").write_text(
        f'#!/bin/sh\necho "dvc $*" >> "{calls}.txt"\n[ "$1" = repro ] && exit 1\nexit 0\n', encoding="utf-8"
    )
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    env = _gitlab_env(tmp_path)
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    done = subprocess.run(
        [str(tool), *_GCL_FLAGS, "cml-dvc"], cwd=project, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert Path(f"{calls}.txt").read_text(encoding="utf-8").splitlines() == [
        "dvc pull --allow-missing",
        "dvc repro",
    ]
    assert not calls.exists(), "cml report must not run after a failed dvc repro"


def test_gitlab_ci_local_runs_the_sweep_matrix_from_an_input(tmp_path: Path) -> None:
    matrix = [{"PARAM__train__learning_rate": ["0.1", "0.2"], "PARAM__train__filters": ["8"]}]
    inputs = {"stage": "learn", "report-stage": "publish", "matrix": matrix, "sort-by": "f1"}
    project = _project(tmp_path, {"component": COMPONENT.format(name="sweep"), "inputs": inputs})
    calls = tmp_path / "calls.jsonl"
    # --shell-isolation: each job in its own copy of the project, as on GitLab
    out = _run(project, tmp_path, _recorders(tmp_path, calls, "cml"), "--shell-isolation")
    assert len(re.findall(r"PASS +cml-sweep: \[", out)) == 2, out[-3000:]
    assert re.search(r"PASS +cml-sweep-report\b", out)
    artifacts = project / ".gitlab-ci-local" / "artifacts"
    params = {p.parent.name: p for p in artifacts.glob("cml-sweep*/runs/*/params.yaml")}
    assert len(list(artifacts.glob("cml-sweep*/runs/*/params.yaml"))) == 2  # one run in each job's artifacts
    assert sorted(params) == ["filters-8_learning_rate-0.1", "filters-8_learning_rate-0.2"]
    saved = yaml.safe_load(params["filters-8_learning_rate-0.2"].read_text(encoding="utf-8"))
    assert saved["train"] == {"learning_rate": 0.2, "filters": 8}
    assert _calls(calls) == [
        ["cml", "report", "--runs", "runs/filters-8_learning_rate-0.1", "runs/filters-8_learning_rate-0.2",
         "--sort-by", "f1", "--title", "Sweep", "--post"],
    ]  # fmt: skip


def test_gitlab_ci_local_runs_the_bench_component(tmp_path: Path) -> None:
    inputs = {"stage": "learn", "bench-stage": "publish", "target": "adb://R58M"}
    inputs |= {"fail-on": "int8.p50 > +20%", "args": "--threads 1,4"}
    project = _project(tmp_path, {"component": COMPONENT.format(name="bench"), "inputs": inputs})
    calls = tmp_path / "calls.jsonl"
    out = _run(project, tmp_path, _recorders(tmp_path, calls, "cml"))
    assert re.search(r"PASS +cml-bench-train\b", out)
    assert _calls(calls) == [
        ["cml", "bench", "model/model.keras", "--eval", "data/test.npz", "--target", "adb://R58M",
         "--variants", "fp32,dynamic,fp16,int8", "--title", "Mobile benchmark", "--post",
         "--fail-on", "int8.p50 > +20%", "--threads", "1,4"],
    ]  # fmt: skip


def test_gitlab_ci_local_runs_the_gpu_component_in_a_merge_request(tmp_path: Path) -> None:
    """A merge request trains and posts; the launch job stays out even with every runner variable set."""
    inputs = {"stage": "learn", "report-stage": "publish", "title": "GPU $RUN", "fail-on": "accuracy < 0.9"}
    project = _project(tmp_path, {"component": COMPONENT.format(name="gpu"), "inputs": inputs})
    calls = tmp_path / "calls.jsonl"
    protected = ("CML_RUNNER_HOST=ubuntu@gpu1", "CI_COMMIT_REF_PROTECTED=true")
    out = _run(project, tmp_path, _recorders(tmp_path, calls, "cml", "nvidia-smi"),
               *(arg for v in protected for arg in ("--variable", v)))  # fmt: skip
    for job in ("user-lint", "cml-train-gpu", "cml-report-gpu"):
        assert re.search(rf"PASS +{job}\b", out), out[-3000:]
    assert "cml-runner-launch" not in out
    assert _calls(calls) == [
        ["nvidia-smi"],
        ["cml", "report", "--title", "GPU $RUN", "--post", "--fail-on", "accuracy < 0.9"],
    ]


def test_gitlab_ci_local_launches_the_gpu_runner_on_a_protected_default_branch(tmp_path: Path) -> None:
    inputs = {"stage": "learn", "report-stage": "learn", "labels": "gpu,a100"}
    inputs["launch-args"] = "--gpu-setup --idle-timeout 2h"
    project = _project(tmp_path, {"component": COMPONENT.format(name="gpu"), "inputs": inputs})
    calls = tmp_path / "calls.jsonl"
    variables = ["CI_PIPELINE_SOURCE=push", "CI_COMMIT_REF_PROTECTED=true", "CML_RUNNER_HOST=ubuntu@gpu1"]
    variables += ["CML_RUNNER_KEY=/keys/id", "CML_RUNNER_KNOWN_HOSTS=/keys/known"]
    variables += ["CML_RUNNER_ADMIN_TOKEN=glpat-admin-secret"]
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    env = _gitlab_env(tmp_path)
    env["PATH"] = f"{_recorders(tmp_path, calls, 'cml', 'nvidia-smi')}:{env['PATH']}"
    env["GCL_IGNORE_PREDEFINED_VARS"] = "CI_PIPELINE_SOURCE,CI_COMMIT_REF_PROTECTED"
    argv = [str(tool), "--force-shell-executor", *(a for v in variables for a in ("--variable", v))]
    done = subprocess.run(
        [*argv, "cml-runner-launch"], cwd=project, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert re.search(r"PASS +cml-runner-launch\b", out)
    assert _calls(calls) == [
        ["cml", "runner", "launch", "--host", "ubuntu@gpu1", "--identity", "/keys/id",
         "--known-hosts", "/keys/known", "--labels", "gpu,a100", "--gpu", "--mode", "service",
         "--gpu-setup", "--idle-timeout", "2h"],
    ]  # fmt: skip
    assert "glpat-admin-secret" not in calls.read_text(encoding="utf-8")  # the token is REPO_TOKEN, not argv


def test_the_gpu_runner_is_launched_on_protected_refs_and_never_for_a_merge_request(tmp_path: Path) -> None:
    project = _project(tmp_path, {"component": COMPONENT.format(name="gpu")}, stages="[check, test]")
    env = _gitlab_env(tmp_path)
    env["GCL_IGNORE_PREDEFINED_VARS"] = "CI_PIPELINE_SOURCE,CI_COMMIT_REF_PROTECTED"
    train = {"user-lint", "cml-train-gpu", "cml-report-gpu"}
    host, protected = "CML_RUNNER_HOST=ubuntu@gpu1", "CI_COMMIT_REF_PROTECTED=true"
    mr, push = "CI_PIPELINE_SOURCE=merge_request_event", "CI_PIPELINE_SOURCE=push"
    assert _listed(project, env, mr, host, protected) == train
    assert _listed(project, env, push, host, protected) == {*train, "cml-runner-launch"}
    assert _listed(project, env, push, host, "CI_COMMIT_REF_PROTECTED=false") == train
    assert _listed(project, env, push, protected) == train  # no machine to launch
    git(project, "checkout", "-q", "-b", "feature")
    assert _listed(project, env, push, host) == {"user-lint"}


def test_a_stage_the_user_pipeline_lacks_is_refused(tmp_path: Path) -> None:
    """The stage input must name one of the user's stages: gitlab-ci-local, like GitLab, refuses it."""
    include = {"component": COMPONENT.format(name="train-report"), "inputs": {"stage": "nowhere"}}
    project = _project(tmp_path, include)
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    done = subprocess.run(
        [str(tool), *_GCL_FLAGS, "--list"], cwd=project, env=_gitlab_env(tmp_path),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "nowhere" in done.stdout + done.stderr


def _listed(project: Path, env: dict[str, str], *variables: str) -> set[str]:
    """The jobs gitlab-ci-local would run for a pipeline with these predefined variables."""
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    argv = [str(tool), "--list"] + [arg for v in variables for arg in ("--variable", v)]
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=True)
    rows = done.stdout.splitlines()
    start = next(i for i, row in enumerate(rows) if row.startswith("name "))
    return {row.split()[0] for row in rows[start + 1 :] if row.strip()}


@pytest.mark.parametrize("name", ["train-report", "bench"])
def test_merge_requests_and_the_default_branch_run_once_per_push(name: str, tmp_path: Path) -> None:
    project = _project(tmp_path, {"component": COMPONENT.format(name=name)}, stages="[check, test]")
    env = _gitlab_env(tmp_path)
    ours = set(documents(TEMPLATES / f"{name}.yml")[1])
    mr = "CI_PIPELINE_SOURCE=merge_request_event"
    assert _listed(project, env, mr) == {"user-lint", *ours}
    push = "CI_PIPELINE_SOURCE=push"
    assert _listed(project, env, push) == {"user-lint", *ours}  # the default branch, no MR open
    # A push to a branch with an open MR: the MR pipeline runs the jobs, the branch pipeline must not.
    assert _listed(project, env, push, "CI_OPEN_MERGE_REQUESTS=group/digits!4") == {"user-lint"}
    git(project, "checkout", "-q", "-b", "feature")
    assert _listed(project, env, push) == {"user-lint"}


def test_readme_shows_both_ways_in() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"include:\n\s+- component: \$CI_SERVER_FQDN/[\w/-]+/train-report@\d", text)
    assert re.search(r"- remote: https://\S+/v\d[\w.]*/templates/train-report\.yml", text)
    for path in COMPONENTS:
        assert f"`{name_of(path)}`" in (TEMPLATES / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", components())
def test_every_input_is_documented_in_the_templates_readme(path: Path) -> None:
    text = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    header, _ = documents(path)
    section = text.split(f"### `{name_of(path)}`", 1)[1].split("\n### ", 1)[0]
    for name in header["spec"]["inputs"]:
        assert f"`{name}`" in section, f"templates/README.md: {name_of(path)}: input {name}"
