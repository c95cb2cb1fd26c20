"""``cml comment`` and ``cml publish`` end to end on the local forge, in a real git repository."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from cml.cli import main


def png(path: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """Write a real 2x2 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + bytes(colour) * 2 for _ in range(2))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def report(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    png(repo / "out" / "plots" / "roc.png")
    path = repo / "out" / "report.md"
    path.write_text("# Metrics\n\n| m | v |\n|---|---|\n| acc | 0.9 |\n\n![ROC](plots/roc.png)\n")
    return path


def test_update_posts_once_with_private_images(
    report: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        assert main(["comment", "update", str(report), "--json"], {}) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["action"] for r in results] == ["created", "updated", "updated"]
    assert len({r["id"] for r in results}) == 1
    stores = list((repo / ".cml" / "comments").glob("*.json"))
    assert len(stores) == 1
    (stored,) = json.loads(stores[0].read_text())
    assert "](../assets/" in stored["body"]
    asset = repo / ".cml" / "assets" / stored["body"].split("../assets/")[1].split(")")[0]
    assert asset.read_bytes() == (repo / "out" / "plots" / "roc.png").read_bytes()
    preview = Path(results[0]["url"].removeprefix("file://").split("#")[0])
    html = preview.read_text()
    assert '<img src="../assets/' in html
    assert "<table>" in html
    for font in ('"Noto Color Emoji"', '"Apple Color Emoji"', '"Segoe UI Emoji"'):  # 🟢/🔴 in colour
        assert font in html
    assert (preview.parent / html.split('<img src="')[1].split('"')[0]).is_file()


def test_create_adds_a_comment_each_time(report: Path, repo: Path) -> None:
    assert main(["comment", "create", str(report)], {}) == 0
    assert main(["comment", "create", str(report)], {}) == 0
    (store,) = (repo / ".cml" / "comments").glob("*.json")
    assert len(json.loads(store.read_text())) == 2


def test_dry_run_touches_nothing(report: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["comment", "update", str(report), "--dry-run", "--target", "pr/3"], {}) == 0
    out = capsys.readouterr().out
    assert "would upload plots/roc.png" in out
    assert "pr/3" in out
    assert "# Metrics" in out
    assert not (repo / ".cml").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["comment", "update", "missing.md"], "missing.md: no such file"),
        (["comment", "update", "bin.md"], "bin.md: is a binary file"),
        (["comment", "update", "out/report.md", "--target", "mr/1"], "--target 'mr/1'"),
        (["comment", "update", "broken.md"], "image 'nope.png' not found"),
        (["publish", "missing.png"], "missing.png: no such file"),
        (["comment", "update", "escape.md"], "image '../../etc/passwd.png': resolves to "),
        (["comment", "update", "out/link.md"], "image 'leak.png': resolves to "),
        (["comment", "update", "out/env.md"], "'env.txt' is not an image"),
    ],
)
def test_bad_input_is_one_line_and_posts_nothing(
    report: Path, repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (repo / "bin.md").write_bytes(b"\x89PNG\0\0")
    (repo / "broken.md").write_text("![x](nope.png)\n")
    (repo / "escape.md").write_text("![x](../../etc/passwd.png)\n")
    (repo / "out" / "leak.png").symlink_to(repo / ".git" / "config")  # a symlink into git's own files
    (repo / "out" / "link.md").write_text("![x](leak.png)\n")
    (repo / "out" / "env.txt").write_text("REPO_TOKEN=hunter2")
    (repo / "out" / "env.md").write_text('<img src="env.txt">\n')
    assert main(argv, {}) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("cml: error: ")
    assert message in err
    assert not (repo / ".cml" / "comments").exists()


def test_gitlab_job_token_error_names_the_fix(
    repo: Path, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "http://127.0.0.1:9",
        "CI_PROJECT_PATH": "ml/x",
        "CI_JOB_TOKEN": "job-token-value",
    }
    assert main(["comment", "update", str(report)], env) == 3
    err = capsys.readouterr().err
    assert "CI_JOB_TOKEN cannot write merge request notes" in err
    assert "REPO_TOKEN" in err
    assert "job-token-value" not in err


def test_publish_prints_markdown(report: Path, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", "out/plots/roc.png", "--md", "--title", "ROC curve"], {}) == 0
    assert capsys.readouterr().out.startswith("![ROC curve](.cml/assets/")  # from the cwd, not the preview


def test_console_entry_point_runs(report: Path, repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cml", "comment", "update", str(report)],
        check=False,
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("created file://")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["comment", "update"], "cml comment update: error: the following arguments are required: REPORT.md"),
        (["report", "--plot"], "cml report: error: argument --plot: expected one argument"),
        (["frob"], "cml: error: argument COMMAND: invalid choice: 'frob'"),
    ],
)
def test_bad_flags_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, {})
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(message)
    assert "--help`)" in err


def test_token_flag_warns_and_is_not_printed(report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"GITLAB_CI": "true", "CI_SERVER_URL": "http://127.0.0.1:9", "CI_PROJECT_PATH": "ml/x"}
    assert (
        main(["comment", "update", str(report), "--dry-run", "--token", "glpat-abcdefghijklmnopqrst"], env)
        == 0
    )
    assert (
        main(["publish", "out/plots/roc.png", "--forge", "local", "--token", "secret-token-value"], {}) == 0
    )
    captured = capsys.readouterr()
    assert "--token is visible to other processes" in captured.err
    assert "secret-token-value" not in captured.out + captured.err
