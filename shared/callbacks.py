"""Keras callbacks used by the one training loop: history, checkpoints, best-weight restore,
time budget. Keras is imported when this module is (only from training code)."""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import keras

from .interrupts import deferred_interrupts
from .runs import atomic_path, atomic_write_csv, atomic_write_json

log = logging.getLogger(__name__)


def monitor_mode(monitor: str) -> str:
    return "max" if any(k in monitor for k in ("accuracy", "auc")) else "min"


def current_lr(model: keras.Model) -> float | None:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    try:
        lr = opt.learning_rate
        return float(lr.numpy() if hasattr(lr, "numpy") else lr)
    except (TypeError, ValueError, AttributeError):
        return None


class PlateauAcrossLegs(keras.callbacks.ReduceLROnPlateau):
    """Keras' ReduceLROnPlateau, except that its best value, patience count and cooldown carry
    over from one ``fit`` call to the next (Keras starts them again in every call), so a run
    trained in legs cuts the learning rate at the epochs the run trained in one go does."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._begun = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._begun:
            super().on_train_begin(logs)
            self._begun = True


class HistoryRecorder(keras.callbacks.Callback):
    """Keeps per-epoch logs (plus learning rate and seconds) and rewrites ``history.csv``."""

    def __init__(self, csv_path: Path | None = None, previous: list[dict[str, Any]] | None = None):
        super().__init__()
        self.csv_path = csv_path
        self.rows: list[dict[str, Any]] = list(previous or [])
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        row: dict[str, Any] = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"})
        row["learning_rate"] = current_lr(self.model)
        row["seconds"] = round(time.perf_counter() - self._start, 3)
        self.rows.append(row)
        if self.csv_path is not None:
            atomic_write_csv(self.csv_path, self.rows)

    def series(self) -> dict[str, list[float | None]]:
        """Each column over the epochs; None where a row lacks it (rows carried over from an
        earlier leg or run may log other metrics)."""
        keys = [k for k in self.rows[0] if k != "epoch"] if self.rows else []
        return {k: [r.get(k) for r in self.rows] for k in keys}


class BestKeeper(keras.callbacks.Callback):
    """Tracks the best epoch by ``monitor``, stops early after ``patience`` epochs without an
    improvement larger than ``min_delta``, saves best/last checkpoints and a resumable
    ``state.json``, and keeps the best weights for ``restore_best``.

    Holding the best weights in memory makes the restore independent of whether early stopping
    fired (Keras' own ``restore_best_weights`` only acts when it does); owning the early-stopping
    counter lets an interrupted run resume with it intact. The restore is the trainer's call, not
    the end of ``fit``'s, so training can go on in a later leg from the last weights.
    """

    def __init__(self, monitor: str, *, patience: int | None = None,
                 min_delta: float = 0.0, checkpoint_dir: Path | None = None,
                 state: dict[str, Any] | None = None):
        super().__init__()
        self.monitor = monitor
        self.mode = monitor_mode(monitor)
        self.patience = patience
        self.min_delta = min_delta
        self.checkpoint_dir = checkpoint_dir
        state = state or {}
        worst = -math.inf if self.mode == "max" else math.inf
        self.best: float = float(state.get("best", worst))
        self.best_epoch: int = int(state.get("best_epoch", 0))
        self.wait: int = int(state.get("wait", 0))
        self.stopped_early = False
        self.best_weights: list[Any] | None = None

    def _gain(self, value: float) -> float:
        return value - self.best if self.mode == "max" else self.best - value

    def exhausted(self) -> bool:
        return self.patience is not None and self.best_epoch > 0 and self.wait >= self.patience

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        current = math.nan if value is None else float(value)
        finite = math.isfinite(current)
        gain = self._gain(current) if finite else -math.inf
        improved = gain > 0
        if gain > self.min_delta:
            self.wait = 0
        else:
            self.wait += 1
        if improved:
            self.best, self.best_epoch = current, epoch + 1
            self.best_weights = self.model.get_weights()
        if self.checkpoint_dir is not None:
            with deferred_interrupts():  # the epoch's checkpoints and state.json go together
                self._save("last.keras")
                if improved:
                    self._save("best.keras")
                atomic_write_json(self.checkpoint_dir / "state.json", self.state(epoch + 1))
        if self.exhausted():
            self.stopped_early = True
            self.model.stop_training = True

    def state(self, epoch: int) -> dict[str, Any]:
        return {"epoch": epoch, "monitor": self.monitor, "best": self.best,
                "best_epoch": self.best_epoch, "wait": self.wait}

    def _save(self, name: str) -> None:
        assert self.checkpoint_dir is not None
        with atomic_path(self.checkpoint_dir / name) as tmp:
            self.model.save(tmp)

    def restore_best(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            log.debug("restored weights of epoch %d (%s=%.4f)", self.best_epoch, self.monitor, self.best)


class TimeBudget(keras.callbacks.Callback):
    """Keeps training inside ``seconds`` of training time, counted over every ``fit`` call of
    the run (``spent`` is what earlier processes used, for a resumed run).

    After each epoch the epochs left are estimated from the slowest of the last three epochs
    (the first, which includes compiling, counts only until there is another); training stops
    before an epoch that would end past the budget, and a ``schedule`` that can be laid out
    again (``relayout(total_steps)``) ends its decay on the last epoch that fits. Given an
    ``epoch_seconds`` estimate (a plan's timed steps), the schedule is laid out from it before
    the first step, so a run that fits few epochs never starts with a warm-up meant for many;
    measured epochs replace the estimate as they come. If an epoch
    runs slower than planned (this VM's CPU speed drifts), training stops mid-epoch before the
    call of the compiled step that would end past the budget: the budget is a limit, not an
    estimate (the epoch's validation pass still runs after the cut)."""

    def __init__(self, seconds: float, *, schedule: Any = None, steps_per_epoch: int = 1,
                 max_epochs: int | None = None, spent: float = 0.0, epoch_seconds: float | None = None,
                 start_epoch: int = 0):
        super().__init__()
        self.epoch_seconds, self.start_epoch = epoch_seconds, start_epoch
        self.seconds = seconds
        self.schedule = schedule if hasattr(schedule, "relayout") else None
        self.steps_per_epoch = steps_per_epoch
        self.max_epochs = max_epochs
        self.planned_epochs: int | None = None
        self.exhausted = False
        self.cut_mid_epoch = False
        self._spent = spent  # training seconds of earlier fit calls
        self._start = 0.0
        self._epoch_times: list[float] = []
        self._epoch_start = self._call_end = 0.0

    def elapsed(self) -> float:
        return self._spent + time.perf_counter() - self._start

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()
        if self.epoch_seconds and self.planned_epochs is None:  # no epoch measured yet
            more = max(1, math.floor((self.seconds - self.elapsed()) / self.epoch_seconds))
            self._plan(self.start_epoch + more)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._spent = self.elapsed()
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = self._call_end = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # one call of the compiled step (steps_per_execution batches) at a time: stop before
        # a call that, as long as the last one, would end past the budget
        now = time.perf_counter()
        call, self._call_end = now - self._call_end, now
        if not self.exhausted and self.elapsed() + call > self.seconds:
            self.exhausted = self.cut_mid_epoch = True
            self.model.stop_training = True
            log.info("time budget of %.0f s reached inside an epoch: training stops after batch %d",
                     self.seconds, batch + 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.cut_mid_epoch:
            return
        self._epoch_times.append(time.perf_counter() - self._epoch_start)
        recent = (self._epoch_times[1:] or self._epoch_times)[-3:]
        more = max(0, math.floor((self.seconds - self.elapsed()) / max(recent)))
        self._plan(epoch + 1 + more)
        if more == 0:
            self.exhausted = True
            self.model.stop_training = True
            log.info("time budget of %.0f s reached after %d epochs", self.seconds, epoch + 1)

    def _plan(self, planned: int) -> None:
        if self.max_epochs is not None:
            planned = min(planned, self.max_epochs)
        if self.schedule is not None and planned != self.planned_epochs:
            self.schedule.relayout(planned * self.steps_per_epoch)
            log.info("time budget: the schedule now ends after epoch %d", planned)
        self.planned_epochs = planned
