"""Every shell script in the repository passes shellcheck (when it is installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*(ROOT / "image").glob("*.sh"), *(ROOT / "runners").glob("*.sh")])


def test_there_are_scripts_to_check() -> None:
    assert {p.name for p in SCRIPTS} >= {
        "entrypoint.sh",
        "install.sh",
        "install-github.sh",
        "lib.sh",
        "probe.sh",
    }


@pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="shellcheck is not installed (apt-get install shellcheck)"
)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shellcheck(script: Path) -> None:
    # -x: runners/*.sh source lib.sh beside them (shellcheck source=lib.sh, looked up in their folder)
    done = subprocess.run(
        ["shellcheck", "-x", script.name], capture_output=True, text=True, check=False, cwd=script.parent
    )
    assert done.returncode == 0, done.stdout
