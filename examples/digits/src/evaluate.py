"""Stage 3: score the model on data/test.npz.

Writes metrics.json, plots/roc.json (fpr, tpr, threshold) and plots/prc.json (recall, precision,
threshold) as JSON records for the one-vs-rest micro-average, and plots/confusion.csv (actual,predicted).
"""

from __future__ import annotations

import csv
from typing import Any

from common import DATA, MODEL, PLOTS, ROOT, quiet_tensorflow, write_json

quiet_tensorflow()


def curves(y_true: Any, scores: Any) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Micro-averaged one-vs-rest ROC and precision-recall curves as lists of records."""
    from sklearn.metrics import precision_recall_curve, roc_curve
    from sklearn.preprocessing import label_binarize

    onehot = label_binarize(y_true, classes=list(range(10))).ravel()
    fpr, tpr, roc_t = roc_curve(onehot, scores.ravel())
    precision, recall, prc_t = precision_recall_curve(onehot, scores.ravel())
    roc = [
        {"fpr": round(float(f), 5), "tpr": round(float(t), 5), "threshold": round(float(min(th, 1.0)), 5)}
        for f, t, th in zip(fpr, tpr, roc_t, strict=True)
    ]
    prc = [
        {"recall": round(float(r), 5), "precision": round(float(p), 5), "threshold": round(float(th), 5)}
        for r, p, th in zip(recall[:-1], precision[:-1], prc_t, strict=True)
    ]
    return _thin(roc), _thin(prc)


def _thin(records: list[dict[str, float]], most: int = 200) -> list[dict[str, float]]:
    """At most ``most`` evenly spaced records, the first and last always kept (plots stay small)."""
    if len(records) <= most:
        return records
    step = (len(records) - 1) / (most - 1)
    return [records[round(i * step)] for i in range(most)]


def metrics(y_true: Any, scores: Any, loss: float) -> dict[str, float]:
    """Accuracy, loss, macro precision/recall/F1 and micro ROC AUC, rounded to 5 digits."""
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    y_pred = scores.argmax(axis=1)
    values = {
        "accuracy": float((y_pred == y_true).mean()),
        "loss": loss,
        "precision": precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall": recall_score(y_true, y_pred, average="macro", zero_division=0),
        "f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "roc_auc": roc_auc_score(y_true, scores, multi_class="ovr", average="micro"),
    }
    return {k: round(float(v), 5) for k, v in values.items()}


def main() -> None:
    """Load model/model.keras, predict the test split, write the metrics and plot data."""
    import numpy as np
    import tensorflow as tf

    test = np.load(DATA / "test.npz")
    model = tf.keras.models.load_model(MODEL / "model.keras")
    scores = model.predict(test["x"], verbose=0)
    loss = float(tf.keras.losses.sparse_categorical_crossentropy(test["y"], scores).numpy().mean())
    write_json(ROOT / "metrics.json", metrics(test["y"], scores, loss))
    roc, prc = curves(test["y"], scores)
    write_json(PLOTS / "roc.json", roc)
    write_json(PLOTS / "prc.json", prc)
    with (PLOTS / "confusion.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["actual", "predicted"])
        writer.writerows(zip(test["y"].tolist(), scores.argmax(axis=1).tolist(), strict=True))
    print(f"evaluate: {(ROOT / 'metrics.json').read_text(encoding='utf-8').strip()}")


if __name__ == "__main__":
    main()
