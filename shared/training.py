"""The one fit loop every app uses: seeds, optimizer + schedule from config, early stopping,
best/last checkpoints, history, optional TensorBoard and time budget."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ExperimentConfig
from .optimizers import build_optimizer
from .schedules import build_schedule

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    history: dict[str, list[Any]]
    rows: list[dict[str, Any]]
    epochs_run: int
    best_epoch: int
    best_value: float | None
    monitor: str
    stopped_early: bool
    time_budget_hit: bool
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"epochs_run": self.epochs_run, "best_epoch": self.best_epoch,
                "monitor": self.monitor, "best_value": self.best_value,
                "stopped_early": self.stopped_early, "time_budget_hit": self.time_budget_hit,
                "train_seconds": round(self.seconds, 2)}


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow once per run."""
    import keras

    keras.utils.set_random_seed(seed)


def fit(
    model: Any,
    train_data: Any,
    validation_data: Any,
    *,
    config: ExperimentConfig,
    steps_per_epoch: int,
    loss: Any,
    metrics: list[Any],
    run_dir: Path | None = None,
    extra_callbacks: list[Any] | None = None,
    jit_compile: bool = False,
    verbose: int = 1,
) -> FitResult:
    """Compile ``model`` with the config's optimizer and schedule, then train it.

    ``run_dir`` (if given) receives ``history.csv``, ``checkpoints/{best,last}.keras`` and,
    with ``training.tensorboard``, ``tensorboard/``. The model ends with its best weights when
    ``training.restore_best`` is set.
    """
    import keras

    from .callbacks import BestKeeper, HistoryRecorder, TimeBudget

    train_cfg = config.training
    monitor = train_cfg.monitor if validation_data is not None else train_cfg.monitor.removeprefix("val_")
    schedule = build_schedule(config.schedule, config.optimizer.learning_rate,
                              steps_per_epoch=steps_per_epoch, epochs=train_cfg.epochs,
                              monitor=monitor)
    optimizer = build_optimizer(config.optimizer, schedule.learning_rate)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile)

    history = HistoryRecorder(run_dir / "history.csv" if run_dir else None)
    keeper = BestKeeper(monitor, restore=train_cfg.restore_best,
                        checkpoint_dir=run_dir / "checkpoints" if run_dir else None)
    callbacks: list[Any] = [history, keeper, *schedule.callbacks]
    stopper = None
    if train_cfg.early_stopping:
        stopper = keras.callbacks.EarlyStopping(monitor=monitor, patience=train_cfg.patience,
                                                min_delta=train_cfg.min_delta,
                                                mode=keeper.mode, restore_best_weights=False)
        callbacks.append(stopper)
    budget = None
    if train_cfg.time_budget_minutes:
        budget = TimeBudget(train_cfg.time_budget_minutes * 60)
        callbacks.append(budget)
    if train_cfg.tensorboard and run_dir is not None:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard")))
    callbacks.extend(extra_callbacks or [])

    start = time.perf_counter()
    model.fit(train_data, validation_data=validation_data, epochs=train_cfg.epochs,
              callbacks=callbacks, verbose=verbose, shuffle=False)  # data is shuffled upstream
    seconds = time.perf_counter() - start
    epochs_run = len(history.rows)
    return FitResult(
        history=history.series(), rows=history.rows, epochs_run=epochs_run,
        best_epoch=keeper.best_epoch or epochs_run,
        best_value=keeper.best if keeper.best_epoch else None, monitor=monitor,
        stopped_early=bool(stopper is not None and stopper.stopped_epoch > 0),
        time_budget_hit=bool(budget is not None and budget.exhausted), seconds=seconds)
