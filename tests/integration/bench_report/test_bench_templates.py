"""The bench templates: run on PRs/MRs and on the default branch, and call the real `cml bench` interface
(positional model, adb://, the "Mobile benchmark" title). The GitLab job runs under gitlab-ci-local with a
stand-in `cml` that records its argv (the real command is tested in test_bench_cli.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from cml.cli import build_parser
from tests.conftest import git
from tests.integration.test_templates import _GCL_FLAGS, _gitlab_env, load
from tests.tools.npm import node_modules

ROOT = Path(__file__).resolve().parents[3]


def test_github_template_runs_on_prs_and_default_branch_pushes() -> None:
    data = load(ROOT / "workflow-templates" / "bench.yml")
    assert set(data[True]) == {"pull_request", "push"}  # YAML 1.1 reads the key `on` as True
    assert data[True]["push"]["branches"] == ["main"]
    (step,) = [s for s in data["jobs"]["bench"]["steps"] if s.get("uses", "").startswith("OWNER/REPO/bench")]
    assert step["with"]["model"] == "model/model.keras"
    assert "variants" not in step["with"] or step["with"]["variants"] == "fp32,dynamic,fp16,int8"
    checkout = data["jobs"]["bench"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0


def test_gitlab_component_runs_on_mrs_and_the_default_branch() -> None:
    body = list(yaml.safe_load_all((ROOT / "templates" / "bench.yml").read_text(encoding="utf-8")))[1]
    for job in ("cml-bench-train", "cml-bench"):
        rules = body[job]["rules"]
        assert [r["if"] for r in rules] == [
            '$CI_PIPELINE_SOURCE == "merge_request_event"',
            "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS",
            "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
        ]
        assert rules[1]["when"] == "never"


def test_gitlab_bench_job_calls_cml_bench(tmp_path: Path) -> None:
    tool = node_modules() / ".bin" / "gitlab-ci-local"
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "bench.yml").write_text(
        (ROOT / "templates" / "bench.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    inputs = {"bench-stage": "measure", "fail-on": "int8.p50 > +20%", "target": "adb://R58M"}
    inputs["args"] = "--threads 1,4"
    include = {"component": "$CI_SERVER_FQDN/$CI_PROJECT_PATH/bench@$CI_COMMIT_SHA", "inputs": inputs}
    pipeline = {"stages": ["test", "measure"], "include": [include]}
    (project / ".gitlab-ci.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "remote", "add", "origin", "https://gitlab.example.com/group/digits.git")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "bench")
    record = tmp_path / "argv.json"
    bin_dir = tmp_path / "record-bin"
    bin_dir.mkdir()
    (bin_dir / "cml").write_text(
        f'#!{sys.executable}\nimport json, sys\nopen("{record}", "w").write(json.dumps(sys.argv[1:]))\n',
        encoding="utf-8",
    )
    (bin_dir / "cml").chmod(0o755)
    env = {**_gitlab_env(tmp_path), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        [str(tool), *_GCL_FLAGS, "cml-bench"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    argv = json.loads(record.read_text(encoding="utf-8"))
    assert argv == [
        "bench", "model/model.keras", "--eval", "data/test.npz", "--target", "adb://R58M",
        "--variants", "fp32,dynamic,fp16,int8", "--title", "Mobile benchmark", "--post",
        "--fail-on", "int8.p50 > +20%", "--threads", "1,4",
    ]  # fmt: skip
    args = build_parser().parse_args(argv)  # the real parser takes it
    assert (args.model, args.target, args.fail_on) == (
        Path("model/model.keras"),
        ["adb://R58M"],
        ["int8.p50 > +20%"],
    )
