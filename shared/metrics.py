"""Metrics computed from predictions with scikit-learn (one definition for every app)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def multiclass_metrics(y_true: np.ndarray, probs: np.ndarray,
                       class_names: Sequence[str]) -> tuple[dict[str, Any], np.ndarray]:
    """Accuracy, log loss, macro F1 and per-class accuracy (recall); plus the confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score, log_loss

    labels = list(range(len(class_names)))
    pred = probs.argmax(axis=1)
    matrix = confusion_matrix(y_true, pred, labels=labels)
    support = matrix.sum(axis=1)
    per_class = {name: (float(matrix[i, i] / support[i]) if support[i] else None)
                 for i, name in enumerate(class_names)}
    clipped = np.clip(probs.astype(np.float64), 1e-7, 1.0)
    metrics = {
        "accuracy": float((pred == y_true).mean()),
        "loss": float(log_loss(y_true, clipped / clipped.sum(axis=1, keepdims=True), labels=labels)),
        "macro_f1": float(f1_score(y_true, pred, labels=labels, average="macro", zero_division=0)),
        "n": int(len(y_true)),
        "per_class_accuracy": per_class,
    }
    return metrics, matrix
