"""Metrics computed from predictions with scikit-learn (one definition for every app)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def multiclass_metrics(y_true: np.ndarray, probs: np.ndarray,
                       class_names: Sequence[str]) -> tuple[dict[str, Any], np.ndarray]:
    """Accuracy, log loss, macro F1 and per-class accuracy (recall); plus the confusion matrix.
    Macro F1 averages the classes that occur in ``y_true`` or the predictions: a labelled set
    holding some of the classes is not scored 0 for the classes it lacks."""
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
        "macro_f1": float(f1_score(y_true, pred, labels=sorted(set(np.unique(y_true)) | set(np.unique(pred))),
                                   average="macro", zero_division=0)),
        "n": int(len(y_true)),
        "per_class_accuracy": per_class,
    }
    return metrics, matrix


def binary_metrics(y_true: np.ndarray, prob_positive: np.ndarray, class_names: Sequence[str],
                   threshold: float = 0.5) -> tuple[dict[str, Any], np.ndarray]:
    """Accuracy, log loss, precision, recall, F1 (of the positive class), ROC AUC (``None`` when
    one class is absent) and the majority-class rate; plus the 2x2 confusion matrix."""
    from sklearn.metrics import (
        confusion_matrix,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y = np.asarray(y_true).astype(np.int64)
    p = np.clip(np.asarray(prob_positive, dtype=np.float64).reshape(-1), 1e-7, 1 - 1e-7)
    pred = (p >= threshold).astype(np.int64)
    both = len(np.unique(y)) == 2
    metrics = {
        "accuracy": float((pred == y).mean()),
        "loss": float(log_loss(y, p, labels=[0, 1])),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "majority_rate": float(max(y.mean(), 1 - y.mean())),
        "n": int(len(y)),
        "positive_class": class_names[1],
    }
    return metrics, confusion_matrix(y, pred, labels=[0, 1])
