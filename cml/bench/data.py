"""The arrays ``cml bench`` reads: ``--eval FILE.npz`` (``x``, ``y``) and ``--representative FILE.npy``.

Both are read through :mod:`cml.files` (regular files only, size checked on the open descriptor) with
``allow_pickle=False`` (an array file never runs code). Every problem is one :class:`InputError` naming
the file. One home for which inputs calibrate int8 and which inputs accuracy runs on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cml.errors import InputError
from cml.files import open_regular

if TYPE_CHECKING:
    import numpy as np

#: An evaluation set of images is large (1,000 RGB 224x224 float32 samples are 600 MB); it is loaded
#: whole, so the cap is what a CI machine can hold in memory, not what a forge keeps.
ARRAY_CAP = 2 * 1024**3
#: int8 calibration drawn from ``--eval``: TensorFlow's guide uses ~100 samples; more only adds time.
CALIBRATION_SAMPLES = 100


def load_eval(path: Path) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(x, y)`` from an ``.npz`` with arrays ``x`` (samples) and ``y`` (integer class labels).

    Raises InputError naming ``path``: missing, not an .npz, no ``x`` or ``y``, lengths that differ,
    labels that are not integers, samples that are not numbers.
    """
    arrays = _load(path, ("x", "y"))
    x, y = _samples(arrays["x"], path, "x"), arrays["y"]
    if y.ndim != 1:
        raise InputError(f"{path}: y has shape {y.shape}; expected one integer class label per sample")
    if len(x) != len(y):
        raise InputError(f"{path}: x has {len(x)} samples but y has {len(y)}; they must match")
    return x, _labels(y, path)


def load_representative(path: Path) -> np.ndarray[Any, Any]:
    """The samples of an ``.npy`` array (the first axis counts samples) for int8 calibration.

    Raises InputError naming ``path`` as :func:`load_eval`.
    """
    return _samples(_load(path, None)[""], path, "the array")


def calibration(
    representative: Path | None, eval_data: Path | None
) -> tuple[np.ndarray[Any, Any], Path] | None:
    """The int8 calibration samples and the file they come from: all of ``--representative``, else at
    most :data:`CALIBRATION_SAMPLES` drawn (seeded, in order) from ``--eval``'s x; None with neither."""
    import numpy as np

    if representative is not None:
        return load_representative(representative), representative
    if eval_data is None:
        return None
    x, _ = load_eval(eval_data)
    if len(x) > CALIBRATION_SAMPLES:
        picked = np.random.default_rng(0).choice(len(x), CALIBRATION_SAMPLES, replace=False)
        x = x[np.sort(picked)]
    return x, eval_data


def reference(
    eval_data: Path | None, representative: Path | None
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None, Path] | None:
    """What accuracy runs on: ``(x, y, file)`` from ``--eval``, else ``(x, None, file)`` from
    ``--representative`` (agreement with the original only); None with neither."""
    if eval_data is not None:
        x, y = load_eval(eval_data)
        return x, y, eval_data
    if representative is not None:
        return load_representative(representative), None, representative
    return None


def check_shape(x: np.ndarray[Any, Any], shape: Sequence[int | None], name: Path, model: str) -> None:
    """InputError naming ``name`` when one sample of ``x`` does not fit the model input ``shape``
    (its first axis is the batch; None or -1 is any size)."""
    want = tuple(None if d is None or d < 0 else int(d) for d in shape[1:])
    got = tuple(x.shape[1:])
    fits = len(want) == len(got) and all(w is None or w == g for w, g in zip(want, got, strict=True))
    if not fits:
        shown = "(" + ", ".join("?" if d is None else str(d) for d in want) + ")"
        raise InputError(
            f"{name}: one sample has shape {got}, but {model} takes {shown}",
            hint="save x with the samples on the first axis, each shaped like the model's input",
        )


def _load(path: Path, names: tuple[str, ...] | None) -> dict[str, np.ndarray[Any, Any]]:
    """The arrays ``names`` of the .npz ``path`` (``None``: the one array of an .npy, under ``""``)."""
    import zipfile

    import numpy as np

    fd = open_regular(path, str(path))
    with os.fdopen(fd, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > ARRAY_CAP:
            raise InputError(f"{path}: {size:,} bytes, over cml's limit of 2 GiB for an array file")
        kind = ".npz archive (numpy.savez)" if names else ".npy array (numpy.save)"
        try:
            loaded = np.load(file, allow_pickle=False)
            if names is None:
                if not isinstance(loaded, np.ndarray):
                    raise InputError(f"{path}: not a single array; expected an {kind}")
                return {"": loaded}
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise InputError(f"{path}: not an {kind} with arrays {' and '.join(names)}")
            with loaded:
                for want in names:
                    if want not in loaded.files:
                        has = ", ".join(loaded.files) or "none"
                        raise InputError(f"{path}: no array {want!r} (it has: {has})")
                return {want: loaded[want] for want in names}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            first = str(exc).strip().splitlines()[:1] or [type(exc).__name__]
            raise InputError(f"{path}: not a readable {kind}: {first[0]}") from None


def _samples(x: np.ndarray[Any, Any], path: Path, what: str) -> np.ndarray[Any, Any]:
    """``x`` as float32 samples; InputError when it is a scalar, empty, or not numbers."""
    import numpy as np

    if x.ndim == 0 or len(x) == 0:
        raise InputError(f"{path}: {what} holds no samples (shape {x.shape})")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise InputError(f"{path}: {what} holds {x.dtype} values; expected numbers")
    return np.ascontiguousarray(x, dtype=np.float32)


def _labels(y: np.ndarray[Any, Any], path: Path) -> np.ndarray[Any, Any]:
    """``y`` as int64 labels; InputError when a label is not a whole number."""
    import numpy as np

    if np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    raise InputError(f"{path}: y holds {y.dtype} values; expected integer class labels")
