"""Real TensorFlow conversion of a small Keras model (digits), every input kind, and the errors a user
sees: Select TF ops named, a corrupt .tflite, a missing eval array, a shape mismatch."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cml.bench.convert import ORIGINAL_OUTPUTS, convert
from cml.errors import InputError

from .conftest import Conversion, Digits

pytestmark = pytest.mark.slow


def _one_line(exc: pytest.ExceptionInfo[Any], *words: str) -> str:
    text = str(exc.value)
    assert exc.value.exit_code == 2
    assert "\n" not in text
    assert "Traceback" not in text
    for word in words:
        assert word in text
    return text


def test_all_four_variants_convert_and_quantised_ones_are_smaller(conversion: Conversion) -> None:
    got = conversion.converted
    assert list(got) == ["fp32", "dynamic", "fp16", "int8"]
    for variant, converted in got.items():
        assert converted.error == ""
        assert converted.path == conversion.out / f"{variant}.tflite"
        assert converted.path.read_bytes()[4:8] == b"TFL3"
        assert converted.size_bytes == converted.path.stat().st_size
    fp32 = got["fp32"].size_bytes
    assert got["int8"].size_bytes < 0.6 * fp32
    assert got["dynamic"].size_bytes < 0.6 * fp32
    assert got["fp16"].size_bytes < fp32
    log = conversion.log.read_text(encoding="utf-8")
    assert "cml: converted int8 in" in log
    assert "fully_quantize: 0" in log  # a raw print from the C++ quantizer: stdout noise went there
    # C++ log lines (absl: "W0000 ..."/"I0000 ...", or "WARNING: All log messages before absl::...") go to
    # stderr; which ones TF prints depends on its log state, so any of them shows stderr went there.
    assert re.search(r"^(?:[WIE]\d{4} |WARNING: All log messages)", log, re.MULTILINE), log[-2000:]
    assert (conversion.out / ORIGINAL_OUTPUTS).is_file()
    outputs = np.load(conversion.out / ORIGINAL_OUTPUTS)
    assert outputs.shape == (297, 10)  # the original model on eval's x


def test_int8_takes_int8_in_and_out(conversion: Conversion) -> None:
    from ai_edge_litert.interpreter import Interpreter

    path = conversion.converted["int8"].path
    assert path is not None
    interpreter = Interpreter(model_path=str(path))
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8


def test_h5_and_saved_model_inputs_convert(digits: Digits, tmp_path: Path) -> None:
    log = tmp_path / "convert.log"
    [h5] = convert(digits.h5, ["fp32"], tmp_path / "h5", representative=None, eval_data=None, log=log)
    saved = convert(
        digits.saved, ["fp32", "int8"], tmp_path / "sm", representative=digits.rep, eval_data=None, log=log
    )
    assert h5.path is not None
    assert h5.size_bytes > 0
    assert [c.variant for c in saved] == ["fp32", "int8"]
    assert all(c.path is not None and c.size_bytes > 0 for c in saved)
    assert saved[1].size_bytes < saved[0].size_bytes
    assert (tmp_path / "sm" / ORIGINAL_OUTPUTS).is_file()  # outputs on the representative data


def test_select_tf_ops_fail_the_whole_model_naming_each_op(
    digits: Digits, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError) as exc:
        convert(
            digits.inverse,
            ["fp32", "dynamic"],
            out,
            representative=None,
            eval_data=None,
            log=tmp_path / "c.log",
        )
    text = _one_line(exc, "MatrixInverse (Select TF ops)", "needs Select TF ops", "cannot run")
    assert text.startswith(f"{digits.inverse}: needs ops outside the TFLite builtin set")
    assert list(out.glob("*.tflite")) == []
    assert "ERROR_NEEDS_FLEX_OPS" in (tmp_path / "c.log").read_text(
        encoding="utf-8"
    )  # the full story is kept


def test_eval_samples_of_the_wrong_shape(digits: Digits, tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        convert(
            digits.keras,
            ["fp32"],
            tmp_path,
            representative=None,
            eval_data=digits.wide,
            log=tmp_path / "c.log",
        )
    _one_line(exc, f"{digits.wide}: one sample has shape (4, 4, 1), but {digits.keras} takes (8, 8, 1)")
    assert not (tmp_path / "fp32.tflite").exists()  # checked before converting


def test_a_given_tflite_is_not_converted(conversion: Conversion, tmp_path: Path) -> None:
    fp32 = conversion.converted["fp32"].path
    assert fp32 is not None
    (tmp_path / ORIGINAL_OUTPUTS).write_bytes(b"an earlier run's")  # must not pass for this model's
    found = convert(
        fp32, ["fp32", "int8"], tmp_path, representative=None, eval_data=None, log=tmp_path / "c.log"
    )
    assert len(found) == 1
    assert found[0].variant == "fp32"
    assert found[0].path == fp32
    assert found[0].size_bytes == fp32.stat().st_size
    assert found[0].note == "given .tflite: not converted"
    assert not (tmp_path / ORIGINAL_OUTPUTS).exists()


def test_a_corrupt_tflite_is_one_line(conversion: Conversion, tmp_path: Path) -> None:
    fp32 = conversion.converted["fp32"].path
    assert fp32 is not None
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(fp32.read_bytes()[:200])  # keeps TFL3, loses the rest
    with pytest.raises(InputError) as exc:
        convert(truncated, ["fp32"], tmp_path, representative=None, eval_data=None, log=tmp_path / "c.log")
    _one_line(exc, f"{truncated}: not a TFLite model ai-edge-litert can load")
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(InputError) as exc:
        convert(garbage, ["fp32"], tmp_path, representative=None, eval_data=None, log=tmp_path / "c.log")
    _one_line(exc, f"{garbage}: not a TFLite flatbuffer (no TFL3 identifier")


def test_a_keras_file_that_is_not_loadable(digits: Digits, tmp_path: Path) -> None:
    broken = tmp_path / "broken.keras"
    shutil.copy(digits.keras, broken)
    with broken.open("r+b") as file:
        file.truncate(broken.stat().st_size // 2)
    with pytest.raises(InputError) as exc:
        convert(broken, ["fp32"], tmp_path, representative=None, eval_data=None, log=tmp_path / "c.log")
    _one_line(exc, f"{broken}: TensorFlow", "cannot load it")
