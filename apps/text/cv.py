"""Cross-validation and comparison for the text app: stratified k-fold on the training split;
the vectorizer's vocabulary is adapted inside each training fold."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from regapps.shared.selection.runner import CVSpec
from regapps.shared.selection.search import TrialResult
from regapps.shared.selection.splitters import Split, stratified_kfold

from . import task
from .config import TextConfig
from .data import TextData


class TextCVTask:
    metric = "accuracy"
    greater_is_better = True

    def __init__(self, data: TextData):
        self.data = data

    def splits(self, folds: int, seed: int) -> list[Split]:
        return stratified_kfold(self.data.y_train, folds, seed)

    def fit_score(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> TrialResult:
        x, y = self.data.x_train, self.data.y_train
        result = task.fit_text_model(config, [x[i] for i in train_idx], y[train_idx],
                                     [x[i] for i in val_idx], y[val_idx], verbose=0)
        fit = result["fit"]
        return TrialResult(result["validation"]["accuracy"], fit.epochs_run, fit.best_epoch,
                           fit.seconds, fit.history)


def cv_spec(config: TextConfig) -> CVSpec:
    data = task.load_config_data(config)

    def refit(best: Any, folder: Path) -> dict[str, Any]:
        result = task.train(best, folder=folder, name="best", data=data, verbose=0)
        rel = Path(result["run_dir"]).relative_to(folder)
        result["images"] = [("Learning curves of the best configuration", str(rel / "learning_curves.png"))]
        return result

    return CVSpec(app=task.APP, config_cls=TextConfig, task=TextCVTask(data), refit=refit,
                  data_source=data.source)
