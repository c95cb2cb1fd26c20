"""cml.git, the one home of git invocations, against real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml import git
from cml.errors import ConfigError


def test_work_tree_from_a_subfolder_and_outside(repo: Path, tmp_path: Path) -> None:
    inner = repo / "a" / "b"
    inner.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    assert git.work_tree(inner) == git.toplevel(inner) == repo.resolve()
    assert git.work_tree(outside) is None
    with pytest.raises(ConfigError, match="is not inside a git repository"):
        git.toplevel(outside)
