"""What the CLI says on the local forge: created/updated, the local forge's own words, usable paths,
the right refusal for a folder or a device, and a report outside any git repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml.action import outputs
from cml.cli import invoke, main


@pytest.fixture
def here(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    (repo / "report.md").write_text("# Metrics\n\nacc 0.9\n", encoding="utf-8")
    return repo


def test_comment_update_says_created_then_updated(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comment", "update", "report.md"], {}) == 0
    first = capsys.readouterr().out.strip()
    outcome = invoke(["comment", "update", "report.md"], {})
    assert outcome.code == 0
    second = capsys.readouterr().out.strip()
    assert first.startswith("created file://")
    assert second.startswith("updated file://")
    url = second.removeprefix("updated ")
    assert outputs(["comment", "update", "report.md"], outcome)["url"] == url
    stored = json.loads(next((here / ".cml" / "comments").glob("*.json")).read_text(encoding="utf-8"))
    assert len(stored) == 1  # updated in place, not a second comment


def test_dry_run_speaks_of_the_local_forge(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comment", "update", "report.md", "--dry-run"], {}) == 0
    out = capsys.readouterr().out
    assert "token" not in out
    assert "PR/MR" not in out  # the local forge has none
    assert f"nothing is written to the local forge ({here / '.cml'})" in out
    assert "by Ada in the local forge" in out
    assert not (here / ".cml").exists()


def test_publish_prints_a_path_from_the_current_directory(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nnot much")
    assert main(["publish", "a.png"], {}) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(".cml/assets/")
    assert printed.endswith(".png")
    assert (here / printed).read_bytes() == (here / "a.png").read_bytes()
    (here / "sub").mkdir()
    monkeypatch.chdir(here / "sub")
    assert main(["publish", "../a.png", "--md"], {}) == 0
    md = capsys.readouterr().out.strip()
    assert md == f"![a.png]({here / printed})"  # outside the cwd: absolute


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("folder", "cml: error: folder: is a directory, expected a regular file"),
        ("/dev/null", "cml: error: /dev/null: is a character device, expected a regular file"),
    ],
)
def test_publish_names_what_is_not_a_file(
    here: Path, arg: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "folder").mkdir()
    assert main(["publish", arg], {}) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == message
    assert captured.out == ""
    assert not (here / ".cml").exists()


def test_report_outside_git_has_no_baseline_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "m.json").write_text('{"acc": 0.5}', encoding="utf-8")
    assert main(["report", "--metrics", "m.json", "--json"], {}) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert (summary["baseline"], summary["metrics"], summary["images"]) == (None, 1, 0)
    assert captured.err.count("not in a git repository") == 1
    assert len(captured.err.strip().splitlines()) == 1
    assert "acc" in (tmp_path / "cml-report" / "report.md").read_text(encoding="utf-8")
    assert not (tmp_path / ".cml").exists()


def test_report_outside_git_refuses_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "m.json").write_text('{"acc": 0.5}', encoding="utf-8")
    assert main(["report", "--metrics", "m.json", "--post"], {}) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"cml: error: --post: {tmp_path} is not in a git repository, so there is no commit to use"
    assert not (tmp_path / "cml-report").exists()
