"""The one fit loop every app uses: seeds, optimizer + schedule from config, early stopping,
best/last checkpoints, history, optional TensorBoard and time budget."""
from __future__ import annotations

import logging
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import check_monitor, logged_names
from .config import ExperimentConfig
from .model_pool import ModelPool, Parked, assign, pool_key, tunable_variables, values
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
    precision: str = "float32"
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"epochs_run": self.epochs_run, "best_epoch": self.best_epoch,
                "monitor": self.monitor, "best_value": self.best_value,
                "stopped_early": self.stopped_early, "time_budget_hit": self.time_budget_hit,
                "train_seconds": round(self.seconds, 2), "precision": self.precision}


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow once per run.

    Keras draws the seeds of unseeded initializers and dropout layers from the ``random``
    module, which other threads of the process may draw from too (a dask worker's event loop
    does, at times of its own); Keras gets a generator of its own, seeded the same way, so a
    model is the same whichever process or thread builds it."""
    import random

    import keras
    from keras.src.random import seed_generator

    keras.utils.set_random_seed(seed)
    if hasattr(seed_generator, "python_random"):
        seed_generator.python_random = random.Random(seed)


class Trainer:
    """Compiles ``model`` with the config's optimizer and schedule, then trains it in one or more
    legs: ``train_until(n)`` runs up to epoch ``n`` and can be called again to go on from there
    (weights, optimizer state, schedule position, data order and early-stopping counter all carry
    over), so a run trained to 3 and then to 9 epochs is the run trained to 9 in one go. The
    schedule is laid out for ``training.epochs`` whatever the legs are (with a time budget, for
    the epochs that fit: ``epoch_seconds`` is a plan's estimate to lay it out by before the first
    epoch is timed, ``budget_spent`` the budget's seconds the plan used). ``finish()`` restores
    the best weights (with ``training.restore_best``) and returns the :class:`FitResult`.

    ``run_dir`` (if given) receives ``history.csv``, ``checkpoints/{best,last}.keras`` and,
    with ``training.tensorboard``, ``tensorboard/`` (or ``training.tensorboard_dir``). With
    ``resume``, training continues after the last finished epoch recorded in ``run_dir``, so no
    finished epoch is redone.

    With a ``pool`` (cross-validation, no ``run_dir``; ``model`` built from a ``blocks.Tunable``
    section) the run trains on a compiled model it shares with other runs whose train step is the
    same (``model_pool.py``), starting from ``model``'s initial state; ``park()`` hands the model
    back between legs, and the next leg takes one again.
    """

    def __init__(self, model: Any, train_data: Any, validation_data: Any, *,
                 config: ExperimentConfig, steps_per_epoch: int, loss: Any, metrics: list[Any],
                 run_dir: Path | None = None, extra_callbacks: list[Any] | None = None,
                 jit_compile: bool = False, verbose: int = 1, resume: bool = False,
                 pool: ModelPool | None = None, epoch_seconds: float | None = None,
                 budget_spent: float = 0.0):
        import keras

        from .callbacks import BestKeeper, HistoryRecorder, TimeBudget
        from .distribute import is_multi_worker

        self.train_data, self.validation_data = train_data, validation_data
        self.verbose = verbose
        train_cfg = self.train_cfg = config.training
        self.monitor = (train_cfg.monitor if validation_data is not None
                        else train_cfg.monitor.removeprefix("val_"))
        check_monitor(self.monitor, logged_names(metrics, validation_data is not None))  # before any epoch
        schedule = build_schedule(config.schedule, config.optimizer.learning_rate,
                                  steps_per_epoch=steps_per_epoch, epochs=train_cfg.epochs,
                                  monitor=self.monitor)
        steps_per_execution = 1 if is_multi_worker(model) else min(train_cfg.steps_per_execution, steps_per_epoch)

        def compile_model(m: Any) -> None:
            m.compile(optimizer=build_optimizer(config.optimizer, schedule.learning_rate), loss=loss,
                      metrics=metrics, jit_compile=jit_compile, steps_per_execution=max(1, steps_per_execution))

        self._compile, self._pool = compile_model, pool
        self._parked: Parked | None = None
        self._key = (pool_key(config, model, steps_per_epoch=steps_per_epoch, jit_compile=jit_compile,
                              steps_per_execution=max(1, steps_per_execution))
                     if pool is not None and run_dir is None else None)
        if self._key is None:
            compile_model(model)
        self.model: Any = model
        self.precision = str(getattr(getattr(model, "dtype_policy", None), "name", "float32"))

        checkpoints = run_dir / "checkpoints" if run_dir else None
        state, previous = (_resume_state(model, checkpoints, run_dir) if resume and run_dir and checkpoints
                           else ({}, []))
        self.history = HistoryRecorder(run_dir / "history.csv" if run_dir else None, previous)
        self.keeper = BestKeeper(self.monitor, patience=train_cfg.patience if train_cfg.early_stopping else None,
                                 min_delta=train_cfg.min_delta, checkpoint_dir=checkpoints, state=state)
        self.keeper.set_model(model)
        if state:
            self.keeper.best_weights = state.pop("best_weights", None)
        self.callbacks: list[Any] = [self.history, self.keeper, *schedule.callbacks]
        self.epoch = int(state.get("epoch", 0))
        self.seconds = float(state.get("seconds", 0.0))
        self.budget = None
        if train_cfg.time_budget_minutes:  # a resumed run has only what its earlier epochs left
            self.budget = TimeBudget(train_cfg.time_budget_minutes * 60, schedule=schedule.learning_rate,
                                     steps_per_epoch=steps_per_epoch, max_epochs=train_cfg.epochs,
                                     spent=self.seconds + budget_spent, epoch_seconds=epoch_seconds,
                                     start_epoch=self.epoch)
            self.callbacks.append(self.budget)
        board = train_cfg.tensorboard_dir or (run_dir / "tensorboard" if run_dir is not None else None)
        if train_cfg.tensorboard and board is not None:
            self.callbacks.append(keras.callbacks.TensorBoard(log_dir=str(board)))
        self.callbacks.extend(extra_callbacks or [])
        if self._key is not None:  # last, so that nothing can fail while a pooled model is held
            self._take_pooled(schedule.learning_rate)

    def _take_pooled(self, learning_rate: Any) -> None:
        """Train on a compiled model of the pool, starting from this run's own initial state
        (weights, seed states, penalty amounts, dropout rates), or add ours as the key's first."""
        assert self._pool is not None and self._key is not None
        fresh = self.model
        pooled = self._pool.take(self._key, self._compile)
        if pooled is None:
            self._compile(fresh)
            self._pool.add(self._key, fresh)
            return
        assign(tunable_variables(pooled), values(tunable_variables(fresh)))
        if isinstance(learning_rate, (int, float)):  # a constant or plateau schedule's variable
            pooled.optimizer.learning_rate = learning_rate
        self.model = pooled
        self.keeper.set_model(pooled)

    @property
    def stopped(self) -> bool:
        """Early stopping or the time budget ended training: later legs train nothing."""
        return self.keeper.exhausted() or bool(self.budget is not None and self.budget.exhausted)

    def park(self) -> None:
        """With a pool: hand the model back to it, keeping this run's state in memory until the
        next leg (``train_until``, ``best_weights`` and ``finish`` take a model again; until then
        ``model`` is None). Without one, nothing changes."""
        if self._pool is not None and self._key and self._parked is None:
            self._parked = self._pool.park(self._key, self.model)
            self.model = None

    def _in_hand(self) -> None:
        if self._parked is not None:
            from .distribute import training_scope

            assert self._pool is not None and self._key
            with training_scope(self.train_cfg):  # a clone gets the run's dtype policy
                self.model = self._pool.unpark(self._key, self._parked, self._compile)
            self._parked = None
            self.keeper.set_model(self.model)

    def train_until(self, epochs: int) -> None:
        self._in_hand()
        target = min(epochs, self.train_cfg.epochs)
        if self.epoch >= target or self.stopped:
            return
        start = time.perf_counter()
        self.model.fit(self.train_data, validation_data=self.validation_data, epochs=target,
                       initial_epoch=self.epoch, callbacks=self.callbacks, verbose=self.verbose,
                       shuffle=False)  # data is shuffled upstream
        self.seconds += time.perf_counter() - start
        self.epoch = len(self.history.rows)

    @contextmanager
    def best_weights(self) -> Iterator[None]:
        """The model holds its best weights inside the block (with ``restore_best``) and its
        current ones again after it, so a leg can be scored and training go on."""
        self._in_hand()
        best = self.keeper.best_weights if self.train_cfg.restore_best else None
        if best is None:
            yield
            return
        current = self.model.get_weights()
        self.model.set_weights(best)
        try:
            yield
        finally:
            self.model.set_weights(current)

    def finish(self) -> FitResult:
        self._in_hand()
        if self.train_cfg.restore_best:
            self.keeper.restore_best()
        return self.result()

    def result(self) -> FitResult:
        keeper, epochs_run = self.keeper, len(self.history.rows)
        return FitResult(
            history=self.history.series(), rows=self.history.rows, epochs_run=epochs_run,
            best_epoch=keeper.best_epoch or epochs_run,
            best_value=keeper.best if keeper.best_epoch else None, monitor=self.monitor,
            stopped_early=keeper.stopped_early or keeper.exhausted(),
            time_budget_hit=bool(self.budget is not None and self.budget.exhausted), seconds=self.seconds,
            precision=self.precision)


def fit(model: Any, train_data: Any, validation_data: Any, **kwargs: Any) -> FitResult:
    """Train ``model`` for ``training.epochs`` in one leg (see :class:`Trainer` for the options)
    and return it with its best weights."""
    trainer = Trainer(model, train_data, validation_data, **kwargs)
    trainer.train_until(trainer.train_cfg.epochs)
    return trainer.finish()


def _resume_state(model: Any, checkpoints: Path, run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Load the last checkpoint (weights and optimizer state) into the compiled ``model``; return
    the saved state (with the best epoch's weights) and the history rows so far."""
    import csv
    import json

    from .errors import RunDirError

    state_file, last = checkpoints / "state.json", checkpoints / "last.keras"
    if not state_file.is_file() or not last.is_file():
        log.info("no checkpoint in %s: training starts from the first epoch", run_dir)
        return {}, []
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        model.optimizer.build(model.trainable_variables)
        if (checkpoints / "best.keras").is_file():
            model.load_weights(checkpoints / "best.keras")
            state["best_weights"] = model.get_weights()
        model.load_weights(last)
        with open(run_dir / "history.csv", newline="", encoding="utf-8") as handle:
            rows = [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise RunDirError(f"cannot resume {run_dir}: unreadable checkpoint ({exc})") from exc
    rows = rows[: int(state["epoch"])]
    state["seconds"] = sum(float(r.get("seconds") or 0.0) for r in rows)
    log.info("resuming after epoch %d of %s", state["epoch"], run_dir)
    return state, rows


def check_checkpoint(run_dir: Path) -> None:
    """Refuse an unreadable checkpoint before a resume changes anything in ``run_dir``."""
    import json

    from .errors import RunDirError

    checkpoints = run_dir / "checkpoints"
    state_file = checkpoints / "state.json"
    if not state_file.is_file():
        return  # no epoch finished: training starts from the first
    try:
        int(json.loads(state_file.read_text(encoding="utf-8"))["epoch"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunDirError(f"cannot resume {run_dir}: {state_file} is unreadable") from exc
    if not (run_dir / "history.csv").is_file():
        raise RunDirError(f"cannot resume {run_dir}: its history.csv is missing")
    for path in (checkpoints / "last.keras", checkpoints / "best.keras"):
        if path.exists() and not zipfile.is_zipfile(path):
            raise RunDirError(f"cannot resume {run_dir}: {path} is truncated or not a Keras file")


def _number(text: str | None) -> Any:
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value
