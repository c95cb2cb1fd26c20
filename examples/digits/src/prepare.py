"""Stage 1: split scikit-learn's bundled 8x8 digits (no download) into data/train.npz and data/test.npz."""

from __future__ import annotations

import numpy as np
from common import DATA, params
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def main() -> None:
    """Scale pixels to [0, 1], add a channel axis, split stratified by label."""
    p = params("prepare")
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    y = digits.target.astype("int64")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=float(p["test_size"]), random_state=int(p["seed"]), stratify=y
    )
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DATA / "train.npz", x=x_train, y=y_train)
    np.savez_compressed(DATA / "test.npz", x=x_test, y=y_test)
    print(f"prepare: {len(y_train)} train, {len(y_test)} test images in {DATA}")


if __name__ == "__main__":
    main()
