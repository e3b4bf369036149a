"""Cross-validation for the text app (the engine is shared): stratified k-fold on the training
split; the vectorizer's vocabulary is adapted inside each training fold."""
from __future__ import annotations

from regapps.shared.selection.adapters import StratifiedCVTask

from . import task
from .data import TextData


def text_cv_task(data: TextData) -> StratifiedCVTask:
    x, y = data.x_train, data.y_train
    return StratifiedCVTask(y, lambda config, train_idx, val_idx, pool: task.TextFit(
        config, [x[i] for i in train_idx], y[train_idx], [x[i] for i in val_idx], y[val_idx], pool=pool))
