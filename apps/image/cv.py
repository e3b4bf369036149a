"""Cross-validation for the image app (the engine is shared): stratified k-fold on the training
split, each fold trained exactly as `train` trains."""
from __future__ import annotations

from typing import Any

import numpy as np
from regapps.shared.model_pool import ModelPool
from regapps.shared.selection.adapters import StratifiedCVTask

from . import task
from .config import ImageConfig
from .data import ImageData


def image_cv_task(data: ImageData) -> StratifiedCVTask:
    tensors: list[tuple[Any, Any]] = []  # the images as one tensor, made at the first trial, shared by all

    def job(config: ImageConfig, train_idx: np.ndarray, val_idx: np.ndarray, pool: ModelPool) -> task.ImageFit:
        if not tensors:
            tensors.append(task.image_tensors(data))
        return task.ImageFit(config, data, train_idx, val_idx, tensors=tensors[0], verbose=0, pool=pool)

    return StratifiedCVTask(data.y_train, job)
