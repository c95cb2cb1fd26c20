"""What install.sh asks of the venv's own Python (stdlib only): no pip, no network.

``python venv.py requirements PYPROJECT EXTRAS``
    prints cml's dependencies from ``pyproject.toml`` plus those of the comma-separated ``EXTRAS``, one a
    line, for ``pip install -r`` (cml itself is not installed: the venv runs it from the action's checkout).
    Exit 2 naming an extra pyproject.toml does not define.
``python venv.py freeze``
    prints every distribution this Python sees as ``name==version``, sorted (written into the venv after
    a successful install).
``python venv.py check FREEZE_FILE``
    exit 0 when every distribution listed is installed at that version, else exit 1 naming the first
    missing one: a restored cache is used only when it is complete.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path


def _normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (``PyYAML`` == ``pyyaml``, ``a_b`` == ``a-b``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path, extras: str) -> list[str]:
    """The dependencies and those of ``extras``; raises KeyError naming an unknown extra."""
    import tomllib

    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    lines = list(project.get("dependencies", []))
    for extra in filter(None, (e.strip() for e in extras.split(","))):
        if extra not in optional:
            raise KeyError(f"extra {extra!r} is not one of {', '.join(sorted(optional)) or 'none'}")
        lines += optional[extra]
    return lines


def freeze() -> list[str]:
    """``name==version`` of every distribution on this Python's path, sorted, each name once."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(_normalize(name), f"{_normalize(name)}=={dist.version}")
    return sorted(found.values())


def missing(listed: list[str]) -> list[str]:
    """The ``name==version`` lines of ``listed`` that this Python does not have at that version."""
    have = set(freeze())
    return [line for line in listed if line.strip() and line.strip() not in have]


def main(argv: list[str]) -> int:
    """Dispatch the three verbs; 0 on success, 1 for an incomplete venv, 2 for bad arguments."""
    if sys.version_info < (3, 11):  # noqa: UP036 (the venv is built from the python-version input)
        version = ".".join(map(str, sys.version_info[:3]))
        print(f"cml action: input 'python-version': cml needs 3.11 or newer, got {version}", file=sys.stderr)
        return 2
    if argv[:1] == ["requirements"] and len(argv) == 3:
        try:
            print("\n".join(requirements(Path(argv[1]), argv[2])))
        except KeyError as exc:
            print(f"cml action: input 'extras': {exc.args[0]}", file=sys.stderr)
            return 2
        return 0
    if argv == ["freeze"]:
        print("\n".join(freeze()))
        return 0
    if argv[:1] == ["check"] and len(argv) == 2:
        path = Path(argv[1])
        if not path.is_file():
            print(f"cml action: the venv has no {path.name}: installing afresh", file=sys.stderr)
            return 1
        if gone := missing(path.read_text(encoding="utf-8").splitlines()):
            print(f"cml action: the cached venv lacks {gone[0]}: installing afresh", file=sys.stderr)
            return 1
        return 0
    print("usage: venv.py requirements PYPROJECT EXTRAS | freeze | check FREEZE_FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
