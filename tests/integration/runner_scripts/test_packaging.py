"""The host scripts ship inside the wheel (under cml/runner/scripts/) and are read from an installed,
non-editable copy of cml with cml.runner.scripts."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cml.runner import scripts

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
NEEDED = {
    "lib.sh",
    "install-github.sh",
    "install-gitlab.sh",
    "teardown.sh",
    "status.sh",
    "job-completed.sh",
    "cml-runner.service.in",
}


def test_names_lists_every_file_the_host_needs_and_text_reads_them() -> None:
    assert set(scripts.names()) >= NEEDED
    for name in scripts.names():
        assert scripts.text(name) == (ROOT / "runners" / name).read_text()
    with pytest.raises(FileNotFoundError, match=r"no host script 'nope\.sh'"):
        scripts.text("nope.sh")


def test_the_wheel_holds_the_scripts_and_an_installed_copy_reads_them(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if build.returncode != 0 and "setuptools" in build.stderr and "No matching distribution" in build.stderr:
        pytest.skip("no index to fetch the build backend (setuptools>=77) from")
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("cml_suite-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        inside = {Path(n).name for n in archive.namelist() if n.startswith("cml/runner/scripts/")}
        assert inside >= NEEDED
        assert archive.read("cml/runner/scripts/lib.sh") == (ROOT / "runners" / "lib.sh").read_bytes()
        archive.extractall(tmp_path / "site")
    site = str(tmp_path / "site")
    code = (
        f"import sys; sys.path.insert(0, {site!r}); from cml.runner import scripts; "
        f"assert scripts.__file__.startswith({site!r}), scripts.__file__; print(' '.join(scripts.names()))"
    )
    probe = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert probe.returncode == 0, probe.stderr
    assert set(probe.stdout.split()) >= NEEDED
