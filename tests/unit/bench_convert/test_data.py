# ruff: noqa: E402  (imports below the importorskip of numpy)
"""--eval and --representative files: every problem is one line naming the file, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

# Skipped, not failed, where only the dev extra is installed (plain `pytest`, the fast lane).
np = pytest.importorskip("numpy", reason="needs the bench extra: pip install -e '.[dev,bench]'")

from cml.bench import data
from cml.errors import InputError


def _npz(path: Path, **arrays: object) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


def _one_line_error(exc: pytest.ExceptionInfo[InputError], path: Path, *words: str) -> None:
    assert exc.value.exit_code == 2
    text = str(exc.value)
    assert "\n" not in text
    assert str(path) in text
    for word in words:
        assert word in text


def test_eval_gives_float_samples_and_integer_labels(tmp_path: Path) -> None:
    path = _npz(
        tmp_path / "eval.npz", x=np.arange(12, dtype=np.uint8).reshape(3, 2, 2), y=np.array([0.0, 1, 2])
    )
    x, y = data.load_eval(path)
    assert x.dtype == np.float32
    assert x.shape == (3, 2, 2)
    assert y.dtype == np.int64
    assert y.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({"x": np.zeros((3, 2))}, ("no array 'y'", "it has: x")),
        ({"y": np.zeros(3)}, ("no array 'x'",)),
        ({"x": np.zeros((3, 2)), "y": np.zeros(2)}, ("3 samples", "y has 2")),
        ({"x": np.zeros((3, 2)), "y": np.array([0.5, 1, 2])}, ("integer class labels",)),
        ({"x": np.zeros((3, 2)), "y": np.zeros((3, 10))}, ("shape (3, 10)", "one integer class label")),
        ({"x": np.array(["a", "b"]), "y": np.zeros(2)}, ("<U1", "expected numbers")),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, ("no samples",)),
    ],
)
def test_bad_eval_file_is_one_line(tmp_path: Path, arrays: dict[str, object], words: tuple[str, ...]) -> None:
    path = _npz(tmp_path / "eval.npz", **arrays)
    with pytest.raises(InputError) as exc:
        data.load_eval(path)
    _one_line_error(exc, path, *words)


def test_missing_and_non_array_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        data.load_eval(tmp_path / "nope.npz")
    _one_line_error(exc, tmp_path / "nope.npz", "no such file")
    text = tmp_path / "eval.npz"
    text.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        data.load_eval(text)
    _one_line_error(exc, text, "not a readable .npz archive")
    with pytest.raises(InputError) as exc:
        data.load_representative(tmp_path)
    _one_line_error(exc, tmp_path, "a directory")


def test_pickled_arrays_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rep.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError) as exc:
        data.load_representative(path)
    _one_line_error(exc, path, "pickled")


def test_an_npz_is_not_a_representative_array(tmp_path: Path) -> None:
    path = _npz(tmp_path / "rep.npy.npz", x=np.zeros((2, 2)))
    with pytest.raises(InputError) as exc:
        data.load_representative(path)
    _one_line_error(exc, path, "not a single array")


def test_calibration_prefers_representative_then_draws_from_eval(tmp_path: Path) -> None:
    rep = tmp_path / "rep.npy"
    np.save(rep, np.ones((7, 3)))
    big = _npz(tmp_path / "eval.npz", x=np.arange(1000 * 3).reshape(1000, 3), y=np.zeros(1000, int))
    x, file = data.calibration(rep, big) or (None, None)
    assert file == rep
    assert x is not None
    assert x.shape == (7, 3)
    drawn = data.calibration(None, big)
    assert drawn is not None
    assert drawn[1] == big
    assert drawn[0].shape == (data.CALIBRATION_SAMPLES, 3)
    rows = drawn[0][:, 0] // 3
    assert len(set(rows.tolist())) == data.CALIBRATION_SAMPLES  # distinct samples, in file order
    assert rows.tolist() == sorted(rows.tolist())
    assert rows.max() > 500  # drawn across the file, not its head
    again = data.calibration(None, big)
    assert again is not None
    assert np.array_equal(again[0], drawn[0])  # seeded
    assert data.calibration(None, None) is None


def test_reference_uses_eval_labels_else_representative(tmp_path: Path) -> None:
    rep = tmp_path / "rep.npy"
    np.save(rep, np.ones((4, 3)))
    ev = _npz(tmp_path / "eval.npz", x=np.zeros((2, 3)), y=np.array([1, 0]))
    found = data.reference(ev, rep)
    assert found is not None
    assert found[1] is not None
    assert found[1].tolist() == [1, 0]
    only = data.reference(None, rep)
    assert only is not None
    assert only[1] is None
    assert only[0].shape == (4, 3)
    assert data.reference(None, None) is None


@pytest.mark.parametrize(
    ("shape", "fits"),
    [
        ((None, 8, 8, 1), True),
        ((-1, 8, 8, 1), True),
        ((1, 8, 8, None), True),
        ((1, 8, 8), False),
        ((1, 4, 4, 1), False),
    ],
)
def test_check_shape(tmp_path: Path, shape: tuple[int | None, ...], fits: bool) -> None:
    x = np.zeros((5, 8, 8, 1), np.float32)
    if fits:
        data.check_shape(x, shape, tmp_path / "eval.npz", "model.keras")
        return
    with pytest.raises(InputError) as exc:
        data.check_shape(x, shape, tmp_path / "eval.npz", "model.keras")
    _one_line_error(exc, tmp_path / "eval.npz", "(8, 8, 1)", "model.keras takes")
