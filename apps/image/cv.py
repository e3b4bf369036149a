"""Cross-validation for the image app (the engine is shared): stratified k-fold on the training
split, each fold trained exactly as `train` trains."""
from __future__ import annotations

from regapps.shared.selection.runner import CVSpec, train_refit
from regapps.shared.selection.search import StratifiedCVTask

from . import task
from .config import ImageConfig
from .data import ImageData, load_image_data


def image_cv_task(data: ImageData) -> StratifiedCVTask:
    return StratifiedCVTask(data.y_train, lambda config, train_idx, val_idx: task.fit_image_model(
        config, data, train_idx, val_idx, verbose=0))


def cv_spec(config: ImageConfig) -> CVSpec:
    data = load_image_data(config.data.dataset, config.data.data_dir)
    return CVSpec(app=task.APP, config_cls=ImageConfig, task=image_cv_task(data),
                  refit=train_refit(task.train, data), data_source=data.source)
