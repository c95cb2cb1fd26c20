"""``cml assets gc`` on the local forge: ``.cml/assets/`` pruned to what recent comments link."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from cml.cli import main
from tests.integration.local.test_cli_local import png

DAY = 86_400


def _age(path: Path, days: float) -> None:
    """Make ``path`` look written ``days`` days ago."""
    then = time.time() - days * DAY
    os.utime(path, (then, then))


@pytest.fixture
def store(repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict[str, Path]:
    """Three images posted on two targets 30 days ago; then ``new`` re-posted on one of them today.

    ``old`` is linked only by the comment on commit/aaaa (untouched for 30 days), ``new`` by a
    comment updated today, ``spare`` by nothing.
    """
    monkeypatch.chdir(repo)
    for name, colour in (("old", (1, 2, 3)), ("new", (4, 5, 6)), ("spare", (7, 8, 9))):
        png(repo / f"{name}.png", colour)
    (repo / "a.md").write_text("![old](old.png)\n")
    (repo / "b.md").write_text("![new](new.png)\n")
    (repo / "c.md").write_text("![spare](spare.png)\n")
    assert main(["comment", "create", "a.md", "--target", "commit/aaaa"], {}) == 0
    assert main(["comment", "create", "c.md", "--target", "commit/cccc"], {}) == 0
    assert main(["comment", "create", "b.md", "--target", "commit/bbbb"], {}) == 0
    (repo / "c.md").write_text("no images any more\n")
    assert main(["comment", "update", "c.md", "--target", "commit/cccc"], {}) == 0
    assets = {p.name: p for p in (repo / ".cml" / "assets").iterdir()}
    for path in [*assets.values(), *(repo / ".cml" / "comments").glob("*.json")]:
        _age(path, 30)
    assert main(["comment", "update", "b.md", "--target", "commit/bbbb"], {}) == 0  # today
    capsys.readouterr()
    return assets


def test_gc_removes_old_unlinked_files_and_keeps_recent_links(
    repo: Path, store: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assets", "gc", "--keep-days", "7", "--dry-run", "--json"], {}) == 0
    dry = json.loads(capsys.readouterr().out)
    assert len(dry["removed"]) == 2
    assert len(dry["kept"]) == 1
    assert all(p.exists() for p in store.values())
    assert main(["assets", "gc", "--keep-days", "7"], {}) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{repo / '.cml' / 'assets'}: removed 2, kept 1")
    [left] = (repo / ".cml" / "assets").iterdir()
    assert left.name == dry["kept"][0]
    assert left.name in (repo / ".cml" / "comments" / "commit-bbbb.json").read_text()


def test_a_longer_window_keeps_what_older_comments_link(
    repo: Path, store: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["assets", "gc", "--keep-days", "60", "--json"], {}) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["removed"] == []
    assert len(result["kept"]) == 3


def test_posting_an_old_image_again_makes_it_recent(
    repo: Path, store: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "d.md").write_text("![spare](spare.png)\n")
    assert main(["comment", "create", "d.md", "--target", "commit/dddd"], {}) == 0
    (repo / "d.md").write_text("gone\n")
    assert main(["comment", "update", "d.md", "--target", "commit/dddd"], {}) == 0  # unlinked again
    capsys.readouterr()
    assert main(["assets", "gc", "--keep-days", "7", "--json"], {}) == 0
    assert len(json.loads(capsys.readouterr().out)["kept"]) == 2  # new (linked), spare (stored today)
