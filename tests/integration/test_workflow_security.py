"""zizmor, sha pins, concurrency and Dependabot for every workflow, workflow template and action.

zizmor (PyPI, in the dev extra) runs ``--offline`` under the checked-in ``zizmor.yml``: any finding fails,
every ignore there carries its reason in a comment, and every ignore is still needed (zizmor without the
config finds what it hides).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TEMPLATES = sorted((ROOT / "workflow-templates").glob("*.yml"))
ACTIONS = [ROOT / "action.yml", *sorted(ROOT.glob("*/action.yml"))]
CONFIG = ROOT / "zizmor.yml"
PIN = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def zizmor() -> str:
    """The zizmor binary next to this interpreter (the dev extra installs it there), else on PATH."""
    beside = Path(sys.executable).with_name("zizmor")
    found = str(beside) if beside.is_file() else shutil.which("zizmor")
    if found is None:
        pytest.fail("zizmor is not installed: pip install -e '.[dev]'")
    return found


def findings(*paths: Path, config: bool = True) -> list[dict[str, Any]]:
    """zizmor's findings (JSON) for ``paths``, offline, with or without zizmor.yml."""
    flags = ["--config", str(CONFIG)] if config else ["--no-config"]
    argv = [zizmor(), "--offline", "--strict-collection", "--format", "json", *flags, *map(str, paths)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings at severity x
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def path_of(finding: dict[str, Any]) -> str:
    """The file of a finding's first location, as given to zizmor."""
    path: str = finding["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]
    return path


def where(finding: dict[str, Any]) -> str:
    """``ident path:line`` of a finding's first location."""
    row = finding["locations"][0]["concrete"]["location"]["start_point"]["row"]
    return f"{finding['ident']} {path_of(finding)}:{row + 1}"


def test_zizmor_is_clean_on_every_workflow_and_template() -> None:
    assert WORKFLOWS
    assert len(TEMPLATES) >= 7
    found = findings(*WORKFLOWS, *TEMPLATES, ROOT / ".github" / "dependabot.yml")
    assert [where(f) for f in found] == []


def test_zizmor_is_clean_on_every_action() -> None:
    assert [where(f) for f in findings(*ACTIONS)] == []


def test_zizmor_catches_what_the_config_does_not_excuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "        with: {ref: '${{ github.event.pull_request.head.sha }}'}\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n',
        encoding="utf-8",
    )
    idents = {f["ident"] for f in findings(bad)}
    assert {"dangerous-triggers", "artipacked", "unpinned-uses", "template-injection"} <= idents


def _ignores() -> list[tuple[str, str, str]]:
    """``(rule, file, reason)`` for every ignore in zizmor.yml; the reason is the comment just above."""
    out = []
    rule = None
    comment: list[str] = []
    for line in CONFIG.read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r"  ([\w-]+):", line):
            rule, comment = m.group(1), []
        elif m := re.fullmatch(r"\s+# (.+)", line):
            comment.append(m.group(1))
        elif m := re.fullmatch(r"\s+- ([\w.-]+)(?::\d+)*", line):
            assert rule is not None
            out.append((rule, m.group(1), " ".join(comment)))
            comment = []
    return out


def test_every_ignore_says_why_and_is_still_needed() -> None:
    ignores = _ignores()
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    listed = [(r, f) for r, spec in config["rules"].items() for f in spec.get("ignore", [])]
    assert [(r, f) for r, f, _ in ignores] == listed
    assert ("dangerous-triggers", "fork-safe-post.yml", ignores[0][2]) in ignores
    assert "workflow_run" in ignores[0][2]
    for rule, name, reason in ignores:
        assert len(reason.split()) >= 8, f"zizmor.yml: ignore {rule} {name}: say why in a comment above it"
    raw = findings(*WORKFLOWS, *TEMPLATES, config=False)
    hit = {(f["ident"], Path(path_of(f)).name) for f in raw}
    for rule, name, _ in ignores:
        assert (rule, name) in hit, f"zizmor.yml: ignore {rule} {name} hides nothing any more: remove it"


def _uses(path: Path) -> list[tuple[str, str]]:
    """``(file name, the uses value as written, comment included)`` for every step that uses an action."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(path.name, m.group(1)) for line in lines if (m := re.match(r"\s*-?\s*uses: (.+)$", line))]


@pytest.mark.parametrize("path", WORKFLOWS + TEMPLATES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_sha_with_its_version(path: Path) -> None:
    for _, uses in _uses(path):
        if uses.startswith("./") or uses.startswith("OWNER/REPO"):
            assert uses.startswith("./") or re.fullmatch(r"OWNER/REPO(/\w+)?@v1", uses), uses
            continue
        assert PIN.match(uses), f"{path.name}: {uses} is not `owner/repo@<40-hex sha> # vX.Y.Z`"


def test_one_action_one_pin_everywhere() -> None:
    """Dependabot refreshes the pins it can see (.github/workflows, the actions); the templates it does not
    read must follow: the same action is pinned to the same sha and version in every file."""
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS + TEMPLATES + ACTIONS:
        for _, uses in _uses(path):
            if m := PIN.match(uses):
                pins.setdefault(m.group("action"), set()).add(uses)
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact"} <= set(pins)
    assert {action: sorted(refs) for action, refs in pins.items() if len(refs) > 1} == {}


def _posts(data: dict[str, Any]) -> bool:
    """Whether a workflow posts: it asks for pull-requests: write anywhere."""
    perms = [data.get("permissions") or {}] + [j.get("permissions") or {} for j in data["jobs"].values()]
    return any(isinstance(p, dict) and p.get("pull-requests") == "write" for p in perms)


@pytest.mark.parametrize("path", WORKFLOWS + TEMPLATES, ids=lambda p: p.name)
def test_every_workflow_that_posts_has_a_concurrency_group_keyed_on_the_pr(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not _posts(data):
        return
    group = data["concurrency"]["group"]
    if "workflow_run" in data[True]:  # YAML 1.1 reads the key `on` as True
        assert "github.event.workflow_run.head_repository.full_name" in group
        assert "github.event.workflow_run.head_branch" in group
        assert data["concurrency"]["cancel-in-progress"] is False
    else:
        assert "github.event.pull_request.number" in group or "github.ref" in group, group


def test_the_pr_keyed_groups_differ_by_pr() -> None:
    """Two PRs never share a group, one PR never has two: the group's only run-dependent parts are the PR
    (or ref) and the workflow."""
    for path in TEMPLATES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not _posts(data):
            continue
        parts = set(re.findall(r"\$\{\{\s*([^}]+?)\s*\}\}", data["concurrency"]["group"]))
        allowed = {
            "github.workflow",
            "github.event.pull_request.number",
            "github.event.pull_request.number || github.ref",
            "github.event.workflow_run.head_repository.full_name",
            "github.event.workflow_run.head_branch",
        }
        assert parts, f"{path.name}: a group with no expression is one for all runs"
        assert parts <= allowed, f"{path.name}: {parts - allowed}"


def test_sweep_report_job_checks_out_the_repository() -> None:
    jobs = yaml.safe_load((ROOT / "workflow-templates" / "sweep.yml").read_text(encoding="utf-8"))["jobs"]
    steps = jobs["report"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[0]["with"]["persist-credentials"] is False
    assert jobs["report"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert "permissions" not in jobs["train"]  # the workflow's contents: read


def test_dvc_template_pulls_repros_pushes_then_reports() -> None:
    data = yaml.safe_load((ROOT / "workflow-templates" / "dvc-train-report.yml").read_text(encoding="utf-8"))
    job = data["jobs"]["train"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    dvc = next(s for s in job["steps"] if "dvc repro" in s.get("run", ""))
    commands = [line.split("#")[0].strip() for line in dvc["run"].splitlines() if line.strip()]
    assert commands == ["dvc pull --allow-missing", "dvc repro", "dvc push"]
    assert set(dvc["env"].values()) == {
        "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
    }
    names = [s.get("uses", s.get("name", "")) for s in job["steps"]]
    assert names.index(dvc["name"]) < next(
        i for i, n in enumerate(names) if n.startswith("OWNER/REPO/report@")
    )
    secrets_elsewhere = [s for s in job["steps"] if s is not dvc and "secrets." in json.dumps(s)]
    assert secrets_elsewhere == []


def test_dependabot_watches_every_action_directory() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    (update,) = [u for u in config["updates"] if u["package-ecosystem"] == "github-actions"]
    dirs = {"/" + str(p.parent.relative_to(ROOT)).replace(".", "").strip("/") for p in ACTIONS}
    assert set(update["directories"]) == dirs == {"/", "/report", "/runner", "/bench"}
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.dependabot"]
    done = subprocess.run(
        [*argv, str(ROOT / ".github" / "dependabot.yml")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
