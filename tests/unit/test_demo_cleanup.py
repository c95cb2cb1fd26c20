"""The demo: its repository ignores cml-report/, and a temp dir goes after the preview is copied out."""

from __future__ import annotations

from pathlib import Path

import pytest

from examples import demo


def test_gitignore_lists_the_report_folder() -> None:
    assert "/cml-report/" in demo.GITIGNORE.splitlines()


def _fake_run(monkeypatch: pytest.MonkeyPatch, seen: list[Path]) -> None:
    """Replace the slow parts: make_repo/train do nothing, post writes a preview and one asset."""
    monkeypatch.setattr(demo, "make_repo", lambda repo: seen.append(repo) or repo)
    monkeypatch.setattr(demo, "train", lambda repo, env, image: None)

    def post(repo: Path, env: object) -> None:
        (repo / ".cml" / "preview").mkdir(parents=True)
        (repo / ".cml" / "assets").mkdir()
        (repo / ".cml" / "assets" / "x.png").write_bytes(b"png")
        (repo / ".cml" / "preview" / "commit-1.html").write_text('<img src="../assets/x.png">')

    monkeypatch.setattr(demo, "post", post)


def test_temp_dir_is_removed_and_the_preview_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Path] = []
    _fake_run(monkeypatch, seen)
    monkeypatch.setattr(demo.tempfile, "tempdir", str(tmp_path))
    keep = tmp_path / "preview-copy"
    assert demo.main(["--no-container", "--preview-dir", str(keep)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    preview = Path(last.removeprefix("report preview: "))
    assert preview == keep / "preview" / "commit-1.html"
    assert (preview.parent / "../assets/x.png").read_bytes() == b"png"
    assert seen
    assert not seen[0].exists()


def test_keep_keeps_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Path] = []
    _fake_run(monkeypatch, seen)
    monkeypatch.setattr(demo.tempfile, "tempdir", str(tmp_path))
    assert demo.main(["--no-container", "--keep", "--preview-dir", str(tmp_path / "unused")]) == 0
    out = capsys.readouterr().out
    assert f"report preview: {seen[0] / '.cml' / 'preview' / 'commit-1.html'}" in out
    assert f"rm -rf {seen[0]}" in out
    assert seen[0].is_dir()
    assert not (tmp_path / "unused").exists()
