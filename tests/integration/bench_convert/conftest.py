"""Real models for the conversion tests, built once per session (training takes a few seconds)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cml.bench import Converted
from cml.bench.convert import convert

pytest.importorskip("tensorflow")
pytest.importorskip("ai_edge_litert")
pytest.importorskip("sklearn")


@dataclass(frozen=True)
class Digits:
    """The files make_models.py writes."""

    root: Path

    def __getattr__(self, name: str) -> Path:
        return (
            self.root
            / {
                "keras": "digits.keras",
                "h5": "digits.h5",
                "saved": "digits_saved",
                "inverse": "inverse_saved",
                "eval": "eval.npz",
                "rep": "rep.npy",
                "wide": "wide.npz",
            }[name]
        )


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Digits:
    """A small CNN trained on the 8x8 digits, saved every way cml reads, and its data."""
    root = tmp_path_factory.mktemp("digits")
    script = Path(__file__).with_name("make_models.py")
    done = subprocess.run(
        [sys.executable, str(script), str(root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Digits(root)


@dataclass(frozen=True)
class Conversion:
    """All four variants of the digits model, converted once per session."""

    converted: dict[str, Converted]
    out: Path
    log: Path


@pytest.fixture(scope="session")
def conversion(digits: Digits, tmp_path_factory: pytest.TempPathFactory) -> Conversion:
    """convert() of digits.keras to all four variants with --eval (int8 calibrated on eval's x)."""
    out = tmp_path_factory.mktemp("converted")
    log = out / "logs" / "convert.log"
    found = convert(
        digits.keras,
        ["int8", "fp16", "dynamic", "fp32"],
        out,
        representative=None,
        eval_data=digits.eval,
        log=log,
    )
    return Conversion(converted={c.variant: c for c in found}, out=out, log=log)
