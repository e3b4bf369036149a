"""Cross-validation and side-by-side comparison for the image app (the engine is shared)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regapps.shared.selection.runner import CVSpec
from regapps.shared.selection.search import TrialResult
from regapps.shared.selection.splitters import Split, stratified_kfold

from . import task
from .config import ImageConfig
from .data import ImageData, load_image_data


class ImageCVTask:
    """Stratified k-fold on the training split; the score is validation-fold accuracy."""

    metric = "accuracy"
    greater_is_better = True

    def __init__(self, data: ImageData):
        self.data = data

    def splits(self, folds: int, seed: int) -> list[Split]:
        return stratified_kfold(self.data.y_train, folds, seed)

    def fit_score(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> TrialResult:
        result = task.fit_image_model(config, self.data, train_idx, val_idx, verbose=0)
        fit = result["fit"]
        return TrialResult(result["validation"]["accuracy"], fit.epochs_run, fit.best_epoch,
                           fit.seconds, fit.history)


def cv_spec(config: ImageConfig) -> CVSpec:
    data = load_image_data(config.data.dataset, config.data.data_dir)

    def refit(best: Any, folder: Path) -> dict[str, Any]:
        result = task.train(best, folder=folder, name="best", data=data, verbose=0)
        rel = Path(result["run_dir"]).relative_to(folder)
        result["images"] = [("Learning curves of the best configuration", str(rel / "learning_curves.png"))]
        return result

    return CVSpec(app=task.APP, config_cls=ImageConfig, task=ImageCVTask(data), refit=refit,
                  data_source=data.source)
