"""Accuracy with ai-edge-litert against real converted variants: labels and drop, agreement without
labels, a given .tflite (labels only), the original run by TensorFlow or read from convert's outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cml.bench.accuracy import evaluate
from cml.bench.convert import ORIGINAL_OUTPUTS
from cml.errors import InputError

from .conftest import Conversion, Digits

pytestmark = pytest.mark.slow


def _models(conversion: Conversion) -> dict[str, Path]:
    return {v: c.path for v, c in conversion.converted.items() if c.path is not None}


def test_accuracy_and_drop_with_eval(conversion: Conversion, digits: Digits, tmp_path: Path) -> None:
    got = evaluate(
        _models(conversion),  # type: ignore[arg-type]
        conversion.out / ORIGINAL_OUTPUTS,
        eval_data=digits.eval,
        representative=None,
        log=tmp_path / "a.log",
    )
    assert list(got) == ["fp32", "dynamic", "fp16", "int8"]
    for variant, acc in got.items():
        assert acc.accuracy is not None
        assert 0.6 < acc.accuracy <= 1.0, variant
        assert acc.drop is not None
        assert abs(acc.drop) < 0.1, variant
    assert got["fp32"].drop == pytest.approx(0.0, abs=1e-9)
    assert got["fp32"].agreement == 1.0
    assert got["fp32"].max_abs_diff is not None
    assert got["fp32"].max_abs_diff < 1e-4
    assert got["int8"].max_abs_diff is not None
    assert 0 < got["int8"].max_abs_diff < 0.2  # quantised: close, not equal


def test_the_original_run_by_tensorflow_matches_convert_saved_outputs(
    conversion: Conversion, digits: Digits, tmp_path: Path
) -> None:
    models = {"fp32": conversion.converted["fp32"].path, "int8": conversion.converted["int8"].path}
    saved = evaluate(models, conversion.out / ORIGINAL_OUTPUTS, eval_data=digits.eval, representative=None)  # type: ignore[arg-type]
    ran = evaluate(models, digits.keras, eval_data=digits.eval, representative=None, log=tmp_path / "a.log")  # type: ignore[arg-type]
    assert ran == saved
    assert "XNNPACK" in (tmp_path / "a.log").read_text(encoding="utf-8")  # the runtime's noise is logged


def test_agreement_without_labels(conversion: Conversion, digits: Digits, tmp_path: Path) -> None:
    rep_outputs = tmp_path / "rep_outputs"
    got = evaluate(
        _models(conversion),  # type: ignore[arg-type]
        digits.saved,  # the SavedModel runs through its serving signature
        eval_data=None,
        representative=digits.rep,
        log=rep_outputs.with_suffix(".log"),
    )
    for acc in got.values():
        assert acc.accuracy is None
        assert acc.drop is None
        assert acc.agreement is not None
        assert acc.agreement >= 0.9
    assert got["fp32"].agreement == 1.0
    assert got["fp32"].max_abs_diff is not None
    assert got["fp32"].max_abs_diff < 1e-4


def test_a_given_tflite_has_accuracy_against_labels_only(conversion: Conversion, digits: Digits) -> None:
    fp32 = conversion.converted["fp32"].path
    assert fp32 is not None
    got = evaluate({"fp32": fp32}, None, eval_data=digits.eval, representative=None)
    assert got["fp32"].drop is None
    assert got["fp32"].agreement is None
    x, y = np.load(digits.eval)["x"], np.load(digits.eval)["y"]
    assert len(x) == len(y) == 297
    assert got["fp32"].accuracy is not None
    assert 0.6 < got["fp32"].accuracy <= 1.0


def test_eval_of_the_wrong_shape_for_a_tflite(conversion: Conversion, digits: Digits) -> None:
    int8 = conversion.converted["int8"].path
    assert int8 is not None
    with pytest.raises(InputError) as exc:
        evaluate({"int8": int8}, None, eval_data=digits.wide, representative=None)
    assert exc.value.exit_code == 2
    assert str(exc.value).startswith(
        f"{digits.wide}: one sample has shape (4, 4, 1), but {int8} takes (8, 8, 1)"
    )
    assert "\n" not in str(exc.value)
