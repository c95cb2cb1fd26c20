"""The POSIX sh scripts that run on provisioned hosts (the top-level ``runners/`` folder).

They ship inside the wheel as ``cml/runner/scripts/`` (a link to ``runners/`` in the source tree,
copied as files by the build; see ``pyproject.toml``). Nothing from the controller's Python is
assumed on the host: the controller uploads every file of :func:`names` into one folder there and
runs ``sh FOLDER/install-github.sh`` (etc.) with the parameters on stdin (see ``runners/README.md``).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

_SUFFIXES = (".sh", ".in")


def _folder() -> Traversable:
    return resources.files("cml.runner").joinpath("scripts")


def text(name: str) -> str:
    """The script ``name`` (e.g. ``probe.sh``); raises FileNotFoundError when it does not exist."""
    path = _folder().joinpath(name)
    if not path.is_file():
        raise FileNotFoundError(f"no host script {name!r} in cml/runner/scripts")
    return path.read_text(encoding="utf-8")


def names() -> tuple[str, ...]:
    """Every file the host needs (scripts, the library they source, unit templates), sorted."""
    return tuple(sorted(p.name for p in _folder().iterdir() if p.is_file() and p.name.endswith(_SUFFIXES)))
