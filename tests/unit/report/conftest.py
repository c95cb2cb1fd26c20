"""Golden markdown: ``UPDATE_GOLDEN=1 pytest tests/unit/report`` rewrites the files; review the diff."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare text with ``golden/NAME.md`` exactly."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.md"
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"differs from {path}"

    return check
