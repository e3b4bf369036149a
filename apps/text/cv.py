"""Cross-validation for the text app (the engine is shared): stratified k-fold on the training
split; the vectorizer's vocabulary is adapted inside each training fold.

A fold's vectorizer and token ids are built once and shared by every trial on that fold with
the same vectorizer settings (:meth:`task.Vectorized.settings`): adapting a million-term
vocabulary costs seconds, and TensorFlow keeps about 110 MB of every adapted vocabulary until
the process ends (a 1..3-gram vocabulary of 3,333 IMDB reviews, measured), so adapting it per
trial made a long search on real reviews run out of memory.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
from regapps.shared.selection.adapters import StratifiedCVTask

from . import task
from .config import TextConfig
from .data import TextData


class FoldVectors:
    """:class:`task.Vectorized` per fold (training and validation indices), for the vectorizer
    settings it was last asked with: one per fold whatever the number of folds (an LRU bounded
    by count would miss on every trial once the folds outnumber it, as the engine walks them in
    turn), built again when a trial asks a fold for other settings. A copy sent to a worker
    process arrives empty."""

    def __init__(self, x: list[str]):
        self.x = x
        self._kept: dict[tuple[bytes, bytes], tuple[tuple[Any, ...], task.Vectorized]] = {}
        self._lock = threading.Lock()  # a dask worker may run trials in threads

    def __getstate__(self) -> dict[str, Any]:
        return {"x": self.x}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["x"])  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, config: TextConfig, train_idx: np.ndarray, val_idx: np.ndarray) -> task.Vectorized:
        fold = (np.asarray(train_idx).tobytes(), np.asarray(val_idx).tobytes())
        settings = task.Vectorized.settings(config.model)
        with self._lock:  # one vectorization per fold, also when threads ask at once
            kept = self._kept.get(fold)
            if kept is None or kept[0] != settings:
                self._kept.pop(fold, None)  # let the old one go before the new one is built
                kept = settings, task.Vectorized.fit(config.model, [self.x[i] for i in train_idx],
                                                     [self.x[i] for i in val_idx])
                self._kept[fold] = kept
            return kept[1]

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


class TextCVTask(StratifiedCVTask):
    """The stratified task, with each fold vectorized once (:class:`FoldVectors`)."""

    def __init__(self, data: TextData):
        x, y = data.x_train, data.y_train
        vectors = self.vectors = FoldVectors(x)
        super().__init__(y, lambda config, train_idx, val_idx, pool: task.TextFit(
            config, [], y[train_idx], None, y[val_idx], pool=pool,
            vectorized=vectors.get(config, train_idx, val_idx)))

    def release(self) -> None:
        super().release()
        self.vectors.clear()


def text_cv_task(data: TextData) -> TextCVTask:
    return TextCVTask(data)
