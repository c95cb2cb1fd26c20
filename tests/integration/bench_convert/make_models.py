"""Build the test models once (run in its own process: TensorFlow stays out of pytest's).

``python make_models.py DIR`` writes into DIR: ``digits.keras`` and ``digits.h5`` (a small CNN trained a
few steps on scikit-learn's 8x8 digits), ``digits_saved/`` (its SavedModel), ``inverse_saved/`` (a
SavedModel calling ``tf.linalg.inv``: a Select TF op), ``eval.npz`` (held-out x, y), ``rep.npy``
(calibration samples) and ``wide.npz`` (samples of the wrong shape).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def main(out: Path) -> None:
    """Train, save and export the models and the arrays."""
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import load_digits

    tf.keras.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int64")
    model = tf.keras.Sequential(
        [
            tf.keras.Input((8, 8, 1)),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:1500], y[:1500], epochs=4, batch_size=32, verbose=0)
    model.save(out / "digits.keras")
    model.save(out / "digits.h5")
    model.export(str(out / "digits_saved"), verbose=False)
    np.savez(out / "eval.npz", x=x[1500:], y=y[1500:])
    np.save(out / "rep.npy", x[:64])
    np.savez(out / "wide.npz", x=np.zeros((5, 4, 4, 1), "float32"), y=np.zeros(5, "int64"))

    class Inverse(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3, 3], tf.float32)])
        def __call__(self, a: tf.Tensor) -> tf.Tensor:
            return tf.linalg.inv(a)

    tf.saved_model.save(Inverse(), str(out / "inverse_saved"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
