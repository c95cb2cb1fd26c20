# ruff: noqa: E402  (imports below the importorskip of numpy)
"""Accuracy arithmetic and int8 (de)quantisation, without a runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

# Skipped, not failed, where only the dev extra is installed (plain `pytest`, the fast lane).
np = pytest.importorskip("numpy", reason="needs the bench extra: pip install -e '.[dev,bench]'")

from cml.bench import _predict, accuracy
from cml.errors import InputError

_INT8 = {"dtype": np.int8, "quantization": (0.5, -10)}


def test_quantise_rounds_offsets_and_clips_to_the_type() -> None:
    x = np.array([0.0, 1.0, 1.2, -100.0, 100.0], np.float32)
    q = _predict.quantise(x, _INT8)
    assert q.dtype == np.int8
    assert q.tolist() == [-10, -8, -8, -128, 127]
    assert _predict.quantise(x, {"dtype": np.float32, "quantization": (0.0, 0)}).dtype == np.float32


def test_dequantise_inverts_within_a_step() -> None:
    y = _predict.dequantise(np.array([-10, -8, 127], np.int8), _INT8)
    assert y.dtype == np.float32
    assert y.tolist() == [0.0, 1.0, 68.5]
    raw = np.array([1, 2], np.int32)  # an integer output that is not quantised (scale 0) stays as it is
    assert _predict.dequantise(raw, {"quantization": (0.0, 0)}).tolist() == [1.0, 2.0]


def test_top1_is_argmax_or_a_threshold_for_one_output() -> None:
    assert accuracy.top1(np.array([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]
    assert accuracy.top1(np.array([[0.7], [0.2]])).tolist() == [1, 0]


def test_accuracy_drop_agreement_and_max_difference() -> None:
    labels = np.array([0, 1, 1, 0])
    original = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4]])  # 4/4 right
    variant = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.6, 0.4]])  # 3/4 right
    got = accuracy._accuracy(variant, labels, original)
    assert got.accuracy == 0.75
    assert got.drop == 0.25
    assert got.agreement == 0.75
    assert got.max_abs_diff == pytest.approx(0.2)
    alone = accuracy._accuracy(variant, labels, None)
    assert (alone.accuracy, alone.drop, alone.agreement) == (0.75, None, None)
    unlabelled = accuracy._accuracy(variant, None, original)
    assert (unlabelled.accuracy, unlabelled.drop, unlabelled.agreement) == (None, None, 0.75)


def test_nothing_to_compare_with_is_empty(tmp_path: Path) -> None:
    rep = tmp_path / "rep.npy"
    np.save(rep, np.zeros((3, 2), np.float32))
    model = {"fp32": tmp_path / "m.tflite"}
    assert accuracy.evaluate(model, tmp_path / "m.keras", eval_data=None, representative=None) == {}
    assert accuracy.evaluate(model, None, eval_data=None, representative=rep) == {}


def test_saved_outputs_must_match_the_data(tmp_path: Path) -> None:
    saved = tmp_path / "original.npy"
    np.save(saved, np.zeros((5, 10), np.float32))
    assert accuracy._saved_outputs(saved, 5).shape == (5, 10)
    assert accuracy._saved_outputs(tmp_path / "m.keras", 5) is None
    with pytest.raises(InputError) as exc:
        accuracy._saved_outputs(saved, 6)
    assert str(exc.value) == f"{saved}: holds outputs for 5 samples, but the data has 6"


def test_free_batch_models_run_small_samples_together_and_images_one_by_one() -> None:
    assert _predict.batch_size((1797, 8, 8)) == 256  # digits: capped
    assert _predict.batch_size((1000, 32, 32, 3)) == 85  # CIFAR-sized: 1 MB of float32 per batch
    assert _predict.batch_size((64, 224, 224, 3)) == 1  # MobileNet's inputs: one image per invoke()
    assert _predict.batch_size((10, 0)) == 256  # a degenerate shape still makes progress
