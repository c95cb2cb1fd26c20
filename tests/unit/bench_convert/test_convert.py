# ruff: noqa: E402  (imports below the importorskip of numpy)
"""convert() without TensorFlow: what a model file is, the converter's errors read back, int8 without
calibration data, a missing TensorFlow. (Real conversion: tests/integration/bench_convert.)"""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

# Skipped, not failed, where only the dev extra is installed (plain `pytest`, the fast lane).
np = pytest.importorskip("numpy", reason="needs the bench extra: pip install -e '.[dev,bench]'")

from cml.bench import _convert, convert
from cml.errors import ConfigError, InputError

# What TensorFlow 2.21's converter raised for a SavedModel calling tf.linalg.inv (shortened).
SELECT_OPS_ERROR = """Could not translate MLIR to FlatBuffer.<unknown>:0: error: loc(callsite(fused["MatrixInverse:", \
"MatrixInverse@__inference___call___4099"] at fused["PartitionedCall:", "PartitionedCall"])): 'tf.MatrixInverse' \
op is neither a custom op nor a flex op
<unknown>:0: note: loc(fused["PartitionedCall:", "PartitionedCall"]): called from
<unknown>:0: error: failed while converting: 'main':
Some ops are not supported by the native TFLite runtime, you can enable TF kernels fallback using TF Select. \
See instructions: https://www.tensorflow.org/lite/guide/ops_select
TF Select ops: MatrixInverse, Svd
Details:
\ttf.MatrixInverse(tensor<?x3x3xf32>) -> (tensor<?x3x3xf32>) : {adjoint = false, device = ""}
"""


def _one_line(exc: pytest.ExceptionInfo[Any], code: int, *words: str) -> str:
    text = str(exc.value)
    assert exc.value.exit_code == code
    assert "\n" not in text
    assert "Traceback" not in text
    for word in words:
        assert word in text
    return text


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("m.tflite", b"\x1c\0\0\0TFL3rest", "tflite"),
        ("m.bin", b"\x1c\0\0\0TFL3rest", "tflite"),
        ("m.keras", b"PK\x03\x04rest", "keras"),
        ("m.h5", b"\x89HDF\r\n\x1a\nrest", "h5"),
        ("m.hdf5", b"\x89HDF\r\n\x1a\nrest", "h5"),
    ],
)
def test_model_kind_by_content(tmp_path: Path, name: str, content: bytes, kind: str) -> None:
    (tmp_path / name).write_bytes(content)
    assert convert.model_kind(tmp_path / name) == kind


def test_saved_model_folder(tmp_path: Path) -> None:
    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert convert.model_kind(tmp_path) == "savedmodel"


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("m.tflite", b"\x1c\0\0\0TFL", "no TFL3 identifier at bytes 4-8"),
        ("m.tflite", b"PK\x03\x04 a zip", "no TFL3 identifier"),
        ("m.onnx", b"\x08\x07onnx", "not a model"),
        ("m.zip", b"PK\x03\x04rest", "not named *.keras"),
        ("m.keras", b"\x89HDF\r\n\x1a\nrest", "not named *.h5"),
    ],
)
def test_not_a_model_is_one_line(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError) as exc:
        convert.model_kind(tmp_path / name)
    assert str(exc.value).startswith(f"{tmp_path / name}: ")
    _one_line(exc, 2, words)


def test_missing_model_and_folder_without_saved_model(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        convert.model_kind(tmp_path / "nope.keras")
    _one_line(exc, 2, "nope.keras: no such file or folder")
    with pytest.raises(InputError) as exc:
        convert.model_kind(tmp_path)
    _one_line(exc, 2, "without saved_model.pb")


def test_int8_without_calibration_data_is_skipped_with_a_note_and_starts_no_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{}")
    monkeypatch.setattr(convert, "run_items", _no_child)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    [int8] = convert.convert(
        model, ["int8"], tmp_path / "out", representative=None, eval_data=None, log=tmp_path / "l"
    )
    assert int8.path is None
    assert int8.error == ""
    assert int8.note == "skipped: no --representative or --eval data for int8 calibration"


def _no_child(job: dict[str, Any], items: list[str], log: Path, what: str) -> Any:
    assert items == [], f"a child was started for {items}"
    return convert.Outcome()


def test_missing_tensorflow_is_exit_3_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.keras"
    model.write_bytes(b"PK\x03\x04rest")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a)
    )
    with pytest.raises(ConfigError) as exc:
        convert.convert(
            model, ["fp32"], tmp_path / "out", representative=None, eval_data=None, log=tmp_path / "l"
        )
    _one_line(exc, 3, "'tensorflow'", "pip install 'cml-suite[bench]'", str(model))


def test_a_bad_eval_file_fails_before_tensorflow_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.keras"
    model.write_bytes(b"PK\x03\x04rest")
    np.savez(tmp_path / "eval.npz", x=np.zeros((3, 8, 8, 1)))
    monkeypatch.setattr(convert, "run_items", _no_child)
    with pytest.raises(InputError) as exc:
        convert.convert(
            model,
            ["fp32"],
            tmp_path / "out",
            representative=None,
            eval_data=tmp_path / "eval.npz",
            log=tmp_path / "l",
        )
    _one_line(exc, 2, "eval.npz: no array 'y'")


def test_select_ops_are_named_and_fail_the_whole_model() -> None:
    source = _convert.Source(model="models/inv.keras", saved_model="/tmp/x", shape=None, predict=print)
    with pytest.raises(InputError) as exc:
        _convert._refuse_not_builtin(SELECT_OPS_ERROR, source)
    text = _one_line(exc, 2, "MatrixInverse, Svd (Select TF ops)", "Select TF ops", "cannot run")
    assert text.startswith("models/inv.keras: needs ops outside the TFLite builtin set")
    _convert._refuse_not_builtin("Quantization not yet supported for op: 'CUSTOM_THING'", source)  # no raise


def test_custom_ops_are_named_too() -> None:
    source = _convert.Source(model="m.keras", saved_model="", shape=None, predict=print)
    with pytest.raises(InputError) as exc:
        _convert._refuse_not_builtin("blah\nCustom ops: MyOp\nDetails:\n", source)
    _one_line(exc, 2, "MyOp (custom ops)")


def test_first_line_of_a_converter_error_drops_mlir_locations() -> None:
    line = _convert._first_line(RuntimeError(SELECT_OPS_ERROR))
    assert line == "'tf.MatrixInverse' op is neither a custom op nor a flex op"
    assert _convert._first_line(ValueError("\n  plain failure\nmore")) == "plain failure"
    assert _convert._first_line(ValueError("")) == "ValueError"


class _FakeConverter:
    """Stands in for TFLiteConverter: fails for int8 as a missing int8 kernel would."""

    def __init__(self) -> None:
        self.optimizations: list[str] = []
        self.target_spec = SimpleNamespace(supported_types=[], supported_ops=[])
        self.inference_input_type = "float32"
        self.representative_dataset: Any = None

    def convert(self) -> bytes:
        if self.inference_input_type == "int8":
            raise RuntimeError(
                "<unknown>:0: error: loc(\"x\"): 'tfl.erf' op quantization is not supported\nmore"
            )
        return b"\x1c\0\0\0TFL3" + b"\0" * (16 if self.optimizations else 64)


_FAKE_TF = SimpleNamespace(
    lite=SimpleNamespace(
        TFLiteConverter=SimpleNamespace(from_saved_model=lambda path: _FakeConverter()),
        Optimize=SimpleNamespace(DEFAULT="DEFAULT"),
        OpsSet=SimpleNamespace(TFLITE_BUILTINS_INT8="TFLITE_BUILTINS_INT8"),
    ),
    float16="float16",
    int8="int8",
)


def test_a_variant_only_failure_marks_that_variant(tmp_path: Path) -> None:
    source = _convert.Source(model="m.keras", saved_model="/tmp/saved", shape=(None, 2), predict=print)
    calib = np.zeros((3, 2), np.float32)
    fp32 = _convert._variant(_FAKE_TF, source, "fp32", calib, tmp_path / "fp32.tflite", "conv.log")
    assert fp32["size"] == 72
    assert (tmp_path / "fp32.tflite").stat().st_size == 72
    int8 = _convert._variant(_FAKE_TF, source, "int8", calib, tmp_path / "int8.tflite", "conv.log")
    assert int8 == {"error": "'tfl.erf' op quantization is not supported (see conv.log)"}
    assert not (tmp_path / "int8.tflite").exists()
    skipped = _convert._variant(_FAKE_TF, source, "int8", None, tmp_path / "int8.tflite", "conv.log")
    assert skipped["note"].startswith("skipped: no --representative")


def test_each_variant_gets_the_recipe() -> None:
    calib = np.arange(6, dtype=np.float32).reshape(3, 2)
    seen = {}
    for variant in ("fp32", "dynamic", "fp16", "int8"):
        converter = _FakeConverter()
        _convert._configure(_FAKE_TF, converter, variant, calib)
        seen[variant] = converter
    assert seen["fp32"].optimizations == []
    assert seen["dynamic"].optimizations == ["DEFAULT"]
    assert seen["dynamic"].target_spec.supported_types == []
    assert seen["fp16"].target_spec.supported_types == ["float16"]
    int8 = seen["int8"]
    assert int8.target_spec.supported_ops == ["TFLITE_BUILTINS_INT8"]
    assert (int8.inference_input_type, int8.inference_output_type) == ("int8", "int8")
    batches = list(int8.representative_dataset())
    assert len(batches) == 3
    assert batches[2][0].shape == (1, 2)
    assert batches[2][0].tolist() == [[4.0, 5.0]]
