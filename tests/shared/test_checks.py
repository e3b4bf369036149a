"""Data and settings that cannot train are refused before any epoch runs: one class, a class the
validation split leaves without training examples, a monitored metric the model does not log."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from regapps.shared.checks import check_classes, check_monitor, logged_names
from regapps.shared.errors import ConfigError, DataError


def test_one_class_and_a_class_split_away() -> None:
    with pytest.raises(DataError, match=r"folder has examples of only one class \('cat'\)"):
        check_classes(np.zeros(6, int), ["cat"], source="folder")
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(DataError, match=r"class 'bird' has 1 example\(s\) and the validation split \(0.2\) "
                                        r"leaves none of them for training"):
        check_classes(y, ["cat", "dog", "bird"], np.arange(6), "folder", 0.2)
    check_classes(y, ["cat", "dog", "bird"], np.arange(7))  # every class in the training part


def test_monitor_must_be_logged() -> None:
    class AUC:
        name = "auc"

    assert logged_names(["accuracy", AUC()], validation=True) == [
        "loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"]
    check_monitor("val_auc", logged_names(["accuracy", AUC()], validation=True))
    with pytest.raises(ConfigError, match=r"training.monitor='val_accuracy': this model logs loss, mae, "
                                          r"val_loss, val_mae"):
        check_monitor("val_accuracy", logged_names(["mae"], validation=True))


def test_trainer_refuses_an_unlogged_monitor_before_any_epoch(tmp_path: Any) -> None:
    """Every app trains through the one Trainer: a regression model (ts) asked to monitor
    val_accuracy is refused when the trainer is made, before fit."""
    import keras
    from regapps.shared.config import ExperimentConfig, build_config
    from regapps.shared.training import Trainer

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    config = build_config(ExperimentConfig, sets=["training.monitor=val_accuracy"])
    x, y = np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32)
    with pytest.raises(ConfigError, match="training.monitor='val_accuracy'"):
        Trainer(model, (x, y), (x, y), config=config, steps_per_epoch=1, loss="mse", metrics=["mae"],
                run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
