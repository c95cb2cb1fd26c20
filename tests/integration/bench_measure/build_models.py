"""Builds the tiny ``.tflite`` models of the bench_measure tests (run as a child process: TF is slow to
import and noisy). ``python -m tests.integration.bench_measure.build_models OUT_DIR`` writes
``fp32.tflite``, ``dynamic.tflite`` and ``int8.tflite`` of a 2-layer Keras model (8 → 16 → 4)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(out: Path) -> None:
    import numpy as np
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(8,)),
            tf.keras.layers.Dense(16, activation="relu"),
            tf.keras.layers.Dense(4, activation="softmax"),
        ]
    )
    samples = np.random.default_rng(0).random((32, 8), dtype=np.float32)

    def representative():
        for row in samples:
            yield [row[None, :]]

    out.mkdir(parents=True, exist_ok=True)
    for variant in ("fp32", "dynamic", "int8"):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if variant != "fp32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "int8":
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        (out / f"{variant}.tflite").write_bytes(converter.convert())
    np.save(out / "inputs.npy", samples)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
