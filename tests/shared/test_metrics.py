"""Metrics of a labelled set that holds only some of the model's classes."""
from __future__ import annotations

import numpy as np
import pytest


def test_macro_f1_averages_the_classes_present_not_those_the_set_lacks() -> None:
    from regapps.shared.metrics import multiclass_metrics

    names = [str(i) for i in range(10)]
    y = np.array([0, 0, 1, 1, 2, 2])
    probs = np.eye(10)[[0, 0, 1, 1, 2, 3]]  # one mistake: a 2 called 3
    metrics, _ = multiclass_metrics(y, probs, names)
    # per class F1: 0 -> 1, 1 -> 1, 2 -> 2/3, 3 (predicted, absent) -> 0; 4..9 take no part
    assert metrics["macro_f1"] == pytest.approx((1 + 1 + 2 / 3 + 0) / 4)
    assert metrics["per_class_accuracy"]["5"] is None and metrics["accuracy"] == pytest.approx(5 / 6)
