"""Stage 2: train a small CNN; write model/model.keras, model/saved_model/ and plots/train.json."""

from __future__ import annotations

from typing import Any

from common import DATA, MODEL, PLOTS, params, quiet_tensorflow, seed_everything, write_json

quiet_tensorflow()


def build(p: dict[str, Any]) -> Any:
    """Conv(3x3) -> max-pool -> conv(3x3) -> dense -> dropout -> softmax over the 10 digits."""
    import tensorflow as tf

    layers = tf.keras.layers
    model = tf.keras.Sequential(
        [
            layers.Input(shape=(8, 8, 1)),
            layers.Conv2D(int(p["filters"]), 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(2 * int(p["filters"]), 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(int(p["dense"]), activation="relu"),
            layers.Dropout(float(p["dropout"])),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(float(p["learning_rate"])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main() -> None:
    """Fit on data/train.npz (10% held out for validation) and save the model and the training curve."""
    import numpy as np

    p = params("train")
    seed_everything(int(p["seed"]))
    train = np.load(DATA / "train.npz")
    model = build(p)
    history = model.fit(
        train["x"],
        train["y"],
        epochs=int(p["epochs"]),
        batch_size=int(p["batch_size"]),
        validation_split=0.1,
        shuffle=True,
        verbose=0,
    )
    MODEL.mkdir(parents=True, exist_ok=True)
    model.save(MODEL / "model.keras")
    if p.get("export_savedmodel", False):
        model.export(str(MODEL / "saved_model"), verbose=False)
    curve = [
        {"epoch": i + 1, **{k: round(float(v[i]), 5) for k, v in history.history.items()}}
        for i in range(int(p["epochs"]))
    ]
    write_json(PLOTS / "train.json", curve)
    print(f"train: {p['epochs']} epochs, final val_accuracy {curve[-1]['val_accuracy']:.4f}")


if __name__ == "__main__":
    main()
