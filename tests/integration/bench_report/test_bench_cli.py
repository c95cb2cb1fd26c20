"""``cml bench`` end to end through ``cml.cli.main`` in a real git repository, with stand-in layers
(conversion, accuracy, targets: tests/unit/bench_report/standins.py) and the local forge or the fake GitHub.

A push run on main stores its results in its comment's data block; the PR run compares with it, posts its
own sticky "Mobile benchmark" comment beside the training report, and fails the gate (exit 8) after posting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cml.bench import run as bench_run
from cml.cli import main
from cml.forges import Target
from cml.forges.local import LocalForge
from cml.report.snapshot import decode_block, encode_block
from tests.conftest import git
from tests.fakes import plots as standin
from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import _check, openapi_checker  # noqa: F401 (a fixture)
from tests.integration.github.openapi import Checker
from tests.integration.report.conftest import commit_all, write
from tests.integration.report.test_report_forges import GH_TOKEN, PR, REPO, _post_commit_comment, gh_env
from tests.unit.bench_report.standins import make_parts


@pytest.fixture
def project(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``repo`` with a model and metrics on main (cwd), the Chromium renderer replaced by the stand-in."""
    (repo / ".gitignore").write_text(".cml/\ncml-bench/\ncml-report/\nmodel.keras\nmetrics.json\ne.npz\n")
    commit_all(repo, "project")
    write(repo, {"model.keras": "keras", "metrics.json": '{"accuracy": 0.9}', "e.npz": "npz"})
    monkeypatch.chdir(repo)
    standin.install(monkeypatch)
    return repo


def layers(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> None:
    """Make ``cml bench`` use stand-in layers (``make_parts(**kw)``)."""
    parts, _ = make_parts(**kw)
    monkeypatch.setattr(bench_run, "parts", lambda: parts)


def cml(
    capsys: pytest.CaptureFixture[str], *argv: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv), env or {})
    out, err = capsys.readouterr()
    progress = [line for line in err.splitlines(keepends=True) if line.startswith("cml bench: ")]
    if argv[0] == "bench" and code in (0, 8):
        assert progress, "cml bench says what it is doing"
    return code, out, "".join(line for line in err.splitlines(keepends=True) if line not in progress)


def _bodies(root: Path) -> dict[str, str]:
    """The local forge's comments on HEAD by title."""
    target = Target(kind="commit", ref=git(root, "rev-parse", "HEAD"))
    out = {}
    for c in LocalForge(root, "Ada").comments(target):
        title = re.search(r'cml:sticky title="([^"]*)"', c.body)
        out[title[1] if title else ""] = c.body
    return out


def test_push_stores_then_the_branch_compares_and_fails_the_gate(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layers(monkeypatch)
    assert cml(capsys, "report", "--metrics", "metrics.json", "--post")[0] == 0
    code, out, err = cml(capsys, "bench", "model.keras", "--post")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == str(Path("cml-bench") / "report.md")
    on_main = _bodies(project)
    assert sorted(on_main) == ["CML report", "Mobile benchmark"]  # its own comment, beside the report
    assert "No base benchmark found" in on_main["Mobile benchmark"]
    base = git(project, "rev-parse", "HEAD")

    git(project, "checkout", "-q", "-b", "feature")
    (project / "train.py").write_text("slower\n")
    commit_all(project, "slower model")
    layers(monkeypatch, scale=1.25)
    rule = ("--fail-on", "fp32.p50 > +10%", "--warn-on", "dynamic.size > +0%")
    code, out, err = cml(capsys, "bench", "model.keras", *rule, "--post", "--json")
    assert code == 8
    assert err == "cml: error: gate failed: fp32.p50 > +10%\n"
    summary = json.loads(out)
    assert summary["gate"] == "failure"
    assert (
        summary["baseline"] == f"`{base[:7]}`, the merge-base with main (the benchmark stored on that commit)"
    )
    assert summary["posted"]["action"] == "created"
    body = _bodies(project)["Mobile benchmark"]  # posted before the gate failed
    assert "❌ **Gate failed:** `fp32.p50 > +10%` (Δ% 25)" in body
    assert "| fp32      | 13.9 MB | 0%      | 10.4 ms (+25%) |" in body
    sha, stored = decode_block(body, "bench") or ("", None)
    assert sha == git(project, "rev-parse", "HEAD")
    assert stored is not None
    assert stored.metrics["fp32.p50"] == pytest.approx(8.3 * 1.25)
    # The training report's baseline is still the report, not the newer bench block on main.
    code, out, _ = cml(capsys, "report", "--metrics", "metrics.json", "--json")
    assert code == 0
    assert json.loads(out)["baseline"] == base


def test_baseline_file_and_the_bench_section_of_the_training_report(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    layers(monkeypatch)
    assert cml(capsys, "bench", "model.keras", "--output", "base", "--variants", "fp32,int8")[0] == 0
    layers(monkeypatch, scale=0.5)
    code, out, _ = cml(
        capsys, "bench", "model.keras", "--baseline", "base/results.json", "--eval", "e.npz", "--json"
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["baseline"] == "`base/results.json`"
    report = (project / "cml-bench" / "report.md").read_text()
    assert "| 4.15 ms (-50%) |" in report
    assert "| int8      | 3.9 MB  | —       | 2.45 ms   " in report  # skipped in the base: new
    assert _bodies(project) == {}  # no --post: nothing on the forge

    code, _, _ = cml(capsys, "report", "--metrics", "metrics.json", "--bench", "cml-bench/results.json")
    assert code == 0
    training = (project / "cml-report" / "report.md").read_text()
    assert "### Mobile benchmark\n\nModel `model.keras`." in training
    assert "#### local · 1 thread" in training
    assert training.index("### Metrics") < training.index("### Mobile benchmark")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--baseline", "nope.json"], 2, "cml: error: nope.json: no such file\n"),
        (["--target", "adb:R58M"], 2, "cml: error: --target 'adb:R58M': expected local, ssh://user@host[:port] or adb://SERIAL\n"),
        (["--target", "ssh://pi@10.0.0.5"], 4, "cml: error: ssh://pi@10.0.0.5: connection refused\n"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_post_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], code: int, message: str,
) -> None:  # fmt: skip
    layers(monkeypatch, unreachable=["ssh://pi@10.0.0.5"])
    assert cml(capsys, "bench", "model.keras", *argv, "--post") == (code, "", message)
    assert _bodies(project) == {}


def test_report_bench_with_a_bad_file_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bad.json").write_text('{"format": "cml-bench", "version": 3}')
    code, _, err = cml(capsys, "report", "--metrics", "metrics.json", "--bench", "bad.json")
    assert code == 2
    assert (
        err
        == "cml: error: bad.json: results format version 3 is newer than this cml reads (1) (upgrade cml)\n"
    )


# ---- on the fake GitHub --------------------------------------------------------------------------


@pytest.fixture
def gh(openapi_checker: Checker | None) -> Iterator[FakeGitHub]:  # noqa: F811
    with FakeGitHub() as server:
        server.add_repo(REPO)
        server.add_token(GH_TOKEN, "ada")
        server.add_token("tok-mallory-000000000000", "mallory")
        yield server
    _check(openapi_checker, server)


def test_github_push_then_pr_with_plot_and_a_forged_block_ignored(
    project: Path, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    layers(monkeypatch)
    base = git(project, "rev-parse", "HEAD")
    assert (
        cml(capsys, "bench", "model.keras", "--post", env=gh_env(gh, tmp_path, head=base, base=None))[0] == 0
    )
    [stored] = gh.repos[REPO].commit_comments
    assert stored["_sha"] == base
    # Mallory's later comment on the base claims every variant took 0.1 ms: not ours, not trusted.
    _, snap = decode_block(stored["body"], "bench") or ("", None)
    assert snap is not None
    assert snap.bench is not None
    for variant in snap.bench["variants"]:
        for by_threads in variant["latency"].values():
            for lat in by_threads.values():
                lat["median"] = 0.1
    forged = f'<!-- cml:sticky title="Mobile benchmark" run="000000000000" -->\n{encode_block(snap, base)}\n'
    _post_commit_comment(gh, base, forged, token="tok-mallory-000000000000")

    git(project, "checkout", "-q", "-b", "feature")
    (project / "f").write_text("1")
    head = commit_all(project, "feature")
    gh.add_pr(REPO, PR, head)
    layers(monkeypatch, scale=2)
    env = gh_env(gh, tmp_path, head=head, base=base)
    code, out, err = cml(capsys, "bench", "model.keras", "--post", "--fail-on", "dynamic.p50 > +50%", env=env)
    assert code == 8
    [comment] = [c for c in gh.repos[REPO].issue_comments if c["_issue"] == PR]
    body = comment["body"]
    assert body.startswith('<!-- cml:sticky title="Mobile benchmark"')
    assert "| 16.6 ms (+100%) |" in body  # against our stored run, not Mallory's
    [link] = re.findall(r"!\[Latency\]\(([^)]+)\)", body)
    assert link.startswith(f"{gh.html_root}/{REPO}/")
    assert "ignored 1 stored report(s) on" in err
    for text in (out, err, body, (tmp_path / "step_summary.md").read_text()):
        assert GH_TOKEN not in text
    assert "Mobile benchmark" in (tmp_path / "step_summary.md").read_text()


def test_outside_git_it_runs_but_cannot_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    standin.install(monkeypatch)
    layers(monkeypatch)
    (tmp_path / "m.tflite").write_bytes(b"TFL3")
    code, out, err = cml(capsys, "bench", "m.tflite", "--json")
    assert (code, err) == (0, "")
    summary = json.loads(out)
    assert (summary["baseline"], summary["posted"]) == (None, None)
    assert "Model `m.tflite`. Median" in (tmp_path / "cml-bench" / "report.md").read_text()
    code, _, err = cml(capsys, "bench", "m.tflite", "--post")
    assert code == 3
    assert err.startswith(f"cml: error: {tmp_path} is not inside a git repository")
