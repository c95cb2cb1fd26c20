"""The POSIX sh scripts that run on provisioned hosts (the top-level ``runners/`` folder).

They ship inside the wheel (see ``pyproject.toml``); from a source checkout they are read from
``runners/`` directly. Nothing from the controller's Python is assumed on the host.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2] / "runners"


def text(name: str) -> str:
    """The script ``name`` (e.g. ``probe.sh``); raises FileNotFoundError when it does not exist."""
    packaged = resources.files("cml.runner").joinpath("scripts", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (_SOURCE / name).read_text(encoding="utf-8")
