"""Compiled models that cross-validation trials take turns on, so the train step is traced once
per model structure instead of once per trial.

Building and compiling a model is cheap; tracing its train, test and predict functions is not:
on digits it is about 1.9 s of a trial's first epoch, against 0.12 s for each later one
(docs/benchmarks.md). A search's candidates mostly differ in values a compiled step can read
from variables: the learning rate (the optimizer's variable under a constant schedule), and the
penalty strengths and dropout rate of a model built from a ``blocks.Tunable`` section. Trials
whose configurations differ only there share a :func:`pool_key`, and so one compiled model.

A trial still starts from its own freshly built model (same seed, same initial weights): its
values, seed-generator states included, are copied into the pooled model, and the optimizer's
variables are set back to what they were right after it was built. Between a halving search's
rungs a trial is *parked*: its variables' values (weights, moving statistics, seed states,
optimizer slots) wait in host memory and the model goes back to the pool. A trial that trains
on a pooled model gets the result it would get on a model of its own
(tests/shared/test_model_pool.py).

The pool keeps one compiled model per key (more only while several trials hold one at once)
until the search ends: a search over the optimizer or the batch size keeps one per value, and
the text app, whose embedding size follows each fold's vocabulary, one per fold.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# config values that only this trial's callbacks, data order or initial values use: never
# traced into the compiled step, so trials that differ in them can share one
PER_TRIAL = {"training": ("seed", "patience", "min_delta", "early_stopping", "restore_best", "monitor",
                          "tensorboard", "tensorboard_dir"),
             "regularization": ("l1", "l2", "dropout")}  # variables in a model built from blocks.Tunable
# schedules that leave the learning rate in the optimizer's variable (steps and epochs untraced)
LR_IN_VARIABLE = ("constant", "reduce_on_plateau")


def pool_key(config: Any, model: Any, *, steps_per_epoch: int, steps_per_execution: int,
             jit_compile: bool) -> str | None:
    """What a compiled model's train step depends on, for a ``model`` built from a
    ``blocks.Tunable`` regularization section; ``None`` when the run cannot share one: a model
    whose penalties are not all tunable (so not built from ``Tunable``: its amounts, and likely
    its dropout rate, are constants in it), a time budget (it lays the schedule out again while
    training), a distribution strategy (it owns the variables)."""
    from .layers import TunablePenalty

    t = config.training
    if t.time_budget_minutes or t.strategy != "default":
        return None
    penalties = _penalties(model)
    if not penalties or not all(isinstance(p, TunablePenalty) for p in penalties):
        return None
    data = config.to_dict()
    for section, keys in PER_TRIAL.items():
        for key in keys:
            data.get(section, {}).pop(key, None)
    layout: int | None = steps_per_epoch  # a schedule's length in steps is a Python value in it
    if config.schedule.name in LR_IN_VARIABLE:
        data["optimizer"].pop("learning_rate", None)
        data["training"].pop("epochs", None)
        layout = None
    structure = [model.name, [type(layer).__name__ for layer in model.layers],
                 [(list(v.shape), str(v.dtype)) for v in model.variables]]
    return json.dumps([data, structure, layout, steps_per_execution, bool(jit_compile)], sort_keys=True,
                      default=str)


def _penalties(model: Any) -> list[Any]:
    """The weight penalties on ``model``'s variables, in variable order."""
    return [v.regularizer for v in model.trainable_variables if v.regularizer is not None]


def tunable_variables(model: Any) -> list[Any]:
    """Every variable a trial's state lives in: the model's (weights, moving statistics, dropout
    rates, seed-generator states) and its penalties' strengths."""
    from .layers import TunablePenalty

    penalties = [p for p in _penalties(model) if isinstance(p, TunablePenalty)]
    return [*model.variables, *(s for p in penalties for s in (p.l1, p.l2))]


def values(variables: list[Any]) -> list[np.ndarray]:
    return [np.array(v.numpy(), copy=True) for v in variables]


def assign(variables: list[Any], new: list[np.ndarray]) -> None:
    if len(variables) != len(new):
        raise RuntimeError(f"state of {len(new)} variables does not fit a model with {len(variables)}")
    for variable, value in zip(variables, new, strict=True):
        if tuple(variable.shape) != np.shape(value):
            raise RuntimeError(f"variable {variable.path}: shape {tuple(variable.shape)} != {np.shape(value)}")
        variable.assign(value)


@dataclass
class Parked:
    """A trial's state while its model is back in the pool: the values of its model's
    :func:`tunable_variables` and of its optimizer's variables."""

    variables: list[np.ndarray]
    optimizer: list[np.ndarray]


@dataclass
class _Slot:
    template: Any  # a model of this key, to clone when every one of them is in use
    optimizer_start: list[np.ndarray]  # the optimizer's variables right after it was built
    free: list[Any] = field(default_factory=list)
    models: int = 1


class ModelPool:
    """Compiled models by :func:`pool_key`. One pool serves one search; a pool sent to another
    process (a worker) arrives empty and fills there."""

    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()  # a dask worker may run trials in threads

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def __len__(self) -> int:
        return sum(slot.models for slot in self._slots.values())

    def add(self, key: str, model: Any) -> None:
        """Register a freshly compiled ``model`` (in use) as the first of ``key``."""
        model.optimizer.build(model.trainable_variables)
        start = values(model.optimizer.variables)
        with self._lock:
            if key in self._slots:  # another thread added the key first: one more model of it
                self._slots[key].models += 1
            else:
                self._slots[key] = _Slot(model, start)

    def take(self, key: str, compile_model: Callable[[Any], None], *, reset: bool = True) -> Any | None:
        """A model of ``key`` (with ``reset``, its optimizer as just built); ``None`` if the pool
        has never seen ``key``. When every model of ``key`` is in use, a clone is compiled with
        ``compile_model`` (call it where the model's dtype policy and strategy are in scope)."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                return None
            model = slot.free.pop() if slot.free else None
            if model is None:
                slot.models += 1
        if model is None:
            import keras

            log.debug("model pool: every model of a key is in use; compiling one more")
            model = keras.models.clone_model(slot.template)
            compile_model(model)
            model.optimizer.build(model.trainable_variables)
        if reset:
            assign(model.optimizer.variables, slot.optimizer_start)
        return model

    def give(self, key: str, model: Any) -> None:
        with self._lock:
            self._slots[key].free.append(model)

    def park(self, key: str, model: Any) -> Parked:
        """Keep ``model``'s state and hand the model back."""
        parked = Parked(values(tunable_variables(model)), values(model.optimizer.variables))
        self.give(key, model)
        return parked

    def unpark(self, key: str, parked: Parked, compile_model: Callable[[Any], None]) -> Any:
        """A model of ``key`` holding the ``parked`` state."""
        model = self.take(key, compile_model, reset=False)
        if model is None:
            raise RuntimeError("a parked trial's model pool lost its key")
        assign(tunable_variables(model), parked.variables)
        assign(model.optimizer.variables, parked.optimizer)
        return model

    def clear(self) -> None:
        self._slots.clear()
