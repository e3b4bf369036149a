"""Cross-validation for the image app (the engine is shared): stratified k-fold on the training
split, each fold trained exactly as `train` trains."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from regapps.shared.selection.runner import CVSpec
from regapps.shared.selection.search import StratifiedCVTask

from . import task
from .config import ImageConfig
from .data import ImageData, load_image_data


def image_cv_task(data: ImageData) -> StratifiedCVTask:
    return StratifiedCVTask(data.y_train, lambda config, train_idx, val_idx: task.fit_image_model(
        config, data, train_idx, val_idx, verbose=0))


def cv_spec(config: ImageConfig) -> CVSpec:
    data = load_image_data(config.data.dataset, config.data.data_dir)

    def refit(best: Any, folder: Path) -> dict[str, Any]:
        result = task.train(best, folder=folder, name="best", data=data, verbose=0)
        rel = Path(result["run_dir"]).relative_to(folder)
        result["images"] = [("Learning curves of the best configuration", str(rel / "learning_curves.png"))]
        return result

    return CVSpec(app=task.APP, config_cls=ImageConfig, task=image_cv_task(data), refit=refit,
                  data_source=data.source)
