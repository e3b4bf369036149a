"""Trial adapters the apps build their cv tasks from; the engine never imports them."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..model_pool import ModelPool
from .protocols import FitJob, Trial, TrialResult
from .splitters import Split, stratified_kfold

log = logging.getLogger(__name__)


class WarmTrial:
    """A trial that keeps its model between calls: each ``advance`` trains only the new epochs,
    then scores the best weights so far (training goes on from the last ones)."""

    def __init__(self, job: FitJob, metric: str):
        self.job, self.metric = job, metric

    def advance(self, epochs: int) -> TrialResult:
        trainer = self.job.trainer
        try:
            trainer.train_until(epochs)
            with trainer.best_weights():
                score = float(self.job.validate()[self.metric])
        finally:
            trainer.park()  # a pooled model goes back for the next trial; this one's state waits
        fit = trainer.result()
        return TrialResult(score, fit.epochs_run, fit.best_epoch, fit.seconds, fit.history)


class RefitTrial:
    """A trial for tasks that cannot go on training: each ``advance`` fits again from scratch
    with ``training.epochs`` set to the epochs asked for."""

    def __init__(self, fit_score: Callable[[Any, np.ndarray, np.ndarray], TrialResult], config: Any,
                 train_idx: np.ndarray, val_idx: np.ndarray):
        self.fit_score, self.config, self.train_idx, self.val_idx = fit_score, config, train_idx, val_idx

    def advance(self, epochs: int) -> TrialResult:
        return self.fit_score(self.config.with_training(epochs=epochs), self.train_idx, self.val_idx)


class StratifiedCVTask:
    """A classification task for the engine: stratified k-fold over ``labels``; ``job(config,
    train_idx, val_idx, pool)`` makes the app's :class:`FitJob` (preprocessing fitted on the
    training indices inside it), training on a compiled model from ``pool`` (the task's own,
    shared by all its trials in this process: ``shared/model_pool.py``)."""

    metric = "accuracy"
    greater_is_better = True

    def __init__(self, labels: np.ndarray, job: Callable[[Any, np.ndarray, np.ndarray, ModelPool], FitJob]):
        self.labels = labels
        self.job = job
        self.pool = ModelPool()

    def splits(self, folds: int, seed: int) -> list[Split]:
        return stratified_kfold(self.labels, folds, seed)

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> Trial:
        return WarmTrial(self.job(config, train_idx, val_idx, self.pool), self.metric)

    def release(self) -> None:
        """Let go of the compiled models this process's trials shared (the search is over)."""
        if len(self.pool):
            log.debug("the trials in this process trained on %d compiled model(s)", len(self.pool))
        self.pool.clear()
