"""Cross-validation for the text app (the engine is shared): stratified k-fold on the training
split; the vectorizer's vocabulary is adapted inside each training fold."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from regapps.shared.selection.runner import CVSpec
from regapps.shared.selection.search import StratifiedCVTask

from . import task
from .config import TextConfig
from .data import TextData


def text_cv_task(data: TextData) -> StratifiedCVTask:
    x, y = data.x_train, data.y_train
    return StratifiedCVTask(y, lambda config, train_idx, val_idx: task.fit_text_model(
        config, [x[i] for i in train_idx], y[train_idx], [x[i] for i in val_idx], y[val_idx], verbose=0))


def cv_spec(config: TextConfig) -> CVSpec:
    data = task.load_config_data(config)

    def refit(best: Any, folder: Path) -> dict[str, Any]:
        result = task.train(best, folder=folder, name="best", data=data, verbose=0)
        rel = Path(result["run_dir"]).relative_to(folder)
        result["images"] = [("Learning curves of the best configuration", str(rel / "learning_curves.png"))]
        return result

    return CVSpec(app=task.APP, config_cls=TextConfig, task=text_cv_task(data), refit=refit,
                  data_source=data.source)
