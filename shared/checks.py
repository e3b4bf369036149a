"""Checks that the data and the settings can train at all, made before a run directory exists
or an epoch runs: a classifier needs two classes and an example of each in its training part,
and the monitored metric must be one that training logs."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError, DataError

SplitIndices = Callable[[np.ndarray, float, int], tuple[np.ndarray, np.ndarray]]


def check_classes(labels: Any, class_names: Sequence[str], train_idx: np.ndarray | None = None,
                  source: str = "the training data", fraction: float | None = None) -> None:
    """Refuse labels of one class, or a training part (``train_idx``) without an example of a
    class the data has (the validation split took all of them)."""
    y = np.asarray(labels).astype(np.int64, copy=False)
    present = np.unique(y)
    if len(present) < 2:
        only = f" ({_name(class_names, int(present[0]))!r})" if len(present) else ""
        raise DataError(f"{source} has examples of only one class{only}; training a classifier "
                        "needs at least two")
    if train_idx is None:
        return
    missing = np.setdiff1d(present, np.unique(y[train_idx]))
    if len(missing):
        cls = int(missing[0])
        count = int((y == cls).sum())
        split = f" ({fraction:g})" if fraction is not None else ""
        raise DataError(f"{source}: class {_name(class_names, cls)!r} has {count} example(s) and "
                        f"the validation split{split} leaves none of them for training; add "
                        "examples or lower training.validation_split")


def check_trainable(data: Any, training: Any, split: SplitIndices,
                    metrics: Sequence[Any] | None = None) -> None:
    """``check_classes`` for an app's dataset (``y_train``, ``class_names``, ``source``) and the
    training part ``split(y, training.validation_split, training.seed)`` gives; with the model's
    ``metrics``, ``check_monitor`` too (the trainer checks it again, this is before a run exists)."""
    if metrics is not None:
        check_monitor(training.monitor, logged_names(metrics, validation=True))
    fraction = training.validation_split
    train_idx, _ = split(data.y_train, fraction, training.seed)
    check_classes(data.y_train, data.class_names, train_idx, data.source, fraction)


def logged_names(metrics: Sequence[Any], validation: bool) -> list[str]:
    """What Keras logs per epoch for ``loss`` and ``metrics`` (names or metric objects)."""
    names = ["loss"] + [m if isinstance(m, str) else str(getattr(m, "name", m)) for m in metrics]
    return names + ([f"val_{n}" for n in names] if validation else [])


def check_monitor(monitor: str, logged: Sequence[str]) -> None:
    """Refuse a ``training.monitor`` that training does not log (early stopping and the best
    epoch would never see it)."""
    if monitor not in logged:
        raise ConfigError(f"training.monitor={monitor!r}: this model logs {', '.join(logged)}; "
                          "monitor one of them")


def _name(class_names: Sequence[str], index: int) -> str:
    return str(class_names[index]) if 0 <= index < len(class_names) else str(index)
