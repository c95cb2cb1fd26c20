"""docs/api.md's example, run as written against the local forge, and the library calls it shows."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from cml import api
from tests.conftest import git

ROOT = Path(__file__).resolve().parents[2]


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    return str(blocks[0])


def _commit_metrics(repo: Path, accuracy: float) -> str:
    (repo / "metrics.json").write_text(json.dumps({"accuracy": accuracy}), encoding="utf-8")
    git(repo, "add", "metrics.json")
    git(repo, "commit", "-q", "-m", f"accuracy {accuracy}")
    return git(repo, "rev-parse", "HEAD")


def _stored(repo: Path) -> list[dict[str, object]]:
    [path] = (repo / ".cml" / "comments").glob("*.json")
    data: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_documented_example_runs_on_the_local_forge(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".gitignore").write_text(".cml/\ncml-report/\n", encoding="utf-8")
    base = _commit_metrics(repo, 0.90)
    _commit_metrics(repo, 0.85)
    monkeypatch.chdir(repo)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_example(), "docs/api.md", "exec"), {"__name__": "docs_example"})  # noqa: S102
    lines = out.getvalue().splitlines()
    report = (repo / "cml-report" / "report.md").resolve()
    assert lines[0] == f"{report} failure {base}"
    assert lines[1] == "gate failed: accuracy < -0.01"
    assert re.fullmatch(r"created file://\S+#comment-\d+", lines[2])
    assert re.fullmatch(r"created updated file://\S+#comment-\d+", lines[3])
    stored = _stored(repo)  # the report's comment, then one "nightly" comment edited in place
    assert len(stored) == 2
    assert 'title="nightly"' in str(stored[1]["body"])
    assert lines[3].endswith(f"#comment-{stored[1]['id']}")


def test_report_outside_git_has_no_baseline_and_posts_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "metrics.json").write_text('{"accuracy": 0.5, "loss": 2}', encoding="utf-8")
    result = api.report(api.ReportRequest(metrics=("metrics.json",), output=Path("out")), {}, cwd=tmp_path)
    assert result.report == (tmp_path / "out" / "report.md").resolve()
    assert (result.baseline, result.posted, result.metrics_changed) == (None, None, 0)
    assert [row.name for row in result.data.metrics] == ["accuracy", "loss"]
    assert result.gate.conclusion == "success"
    assert f"{tmp_path} is not in a git repository" in caplog.text
    with pytest.raises(api.UsageError, match=r"--post: .* not in a git repository"):
        api.report(api.ReportRequest(metrics=("metrics.json",), post=True), {}, cwd=tmp_path)


def test_plan_names_the_local_store_and_sends_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "r.md").write_text("# hi\n", encoding="utf-8")
    plan = api.plan(api.CommentRequest(report=Path("r.md"), title="t", sticky=False), {})
    assert (plan.forge, plan.store, plan.where) == (
        "local",
        repo / ".cml",
        f"commit/{git(repo, 'rev-parse', 'HEAD')}",
    )
    assert not (repo / ".cml").exists()


def test_publish_on_the_local_forge_gives_a_path_to_open(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "log.txt").write_text("epoch 1\n", encoding="utf-8")
    done = api.publish(api.PublishRequest(file=Path("log.txt")), {})
    assert not done.image
    assert done.markdown() == f"[log.txt]({done.url})"
    assert Path(done.url).read_text(encoding="utf-8") == "epoch 1\n"
    assert Path(done.url).parent == Path(".cml") / "assets"
