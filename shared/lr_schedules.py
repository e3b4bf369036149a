"""Learning-rate schedules Keras lacks, as serializable ``LearningRateSchedule`` classes.
Imports Keras: only the schedule factories in ``schedules.py`` import this module.

Both are warm-up + decay schedules whose length can be changed while training runs
(:meth:`WarmupDecay.relayout`): the total step count lives in a variable that the compiled
train step reads, so a time budget can lay the decay out for the epochs that turn out to fit.
"""
from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

MAX_WARMUP_SHARE = 0.25  # of a run laid out again for a time budget


class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from ``peak * start_ratio`` to ``peak`` over ``warmup_steps``, then a decay
    (``_decay(progress)`` from 1 to 0) to ``peak * end_ratio`` at ``total_steps``; constant at
    the end value after it."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int,
                 start_ratio: float = 0.04, end_ratio: float = 0.0):
        self.peak = float(peak)
        self.total_steps = int(max(1, total_steps))
        self.warmup_steps = int(min(max(0, warmup_steps), self.total_steps - 1))
        self.start_ratio = float(start_ratio)
        self.end_ratio = float(end_ratio)
        self._asked_warmup = self.warmup_steps
        self._total = keras.Variable(float(self.total_steps), dtype="float32", trainable=False,
                                     name="schedule_total_steps")
        self._warmup = keras.Variable(float(self.warmup_steps), dtype="float32", trainable=False,
                                      name="schedule_warmup_steps")

    def relayout(self, total_steps: int) -> None:
        """End the decay at ``total_steps`` instead. A short run keeps its warm-up to at most
        ``MAX_WARMUP_SHARE`` of the steps, so there is always a decay."""
        total = int(max(2, total_steps))
        self.warmup_steps = min(self._asked_warmup, int(total * MAX_WARMUP_SHARE))
        self.total_steps = max(total, self.warmup_steps + 1)
        self._total.assign(float(self.total_steps))
        self._warmup.assign(float(self.warmup_steps))

    def _decay(self, progress: Any) -> Any:
        raise NotImplementedError

    def __call__(self, step: Any) -> Any:
        step = ops.cast(step, "float32")
        warmup = ops.convert_to_tensor(self._warmup)
        rising = self.peak * (self.start_ratio + (1 - self.start_ratio)
                              * ops.minimum(step / ops.maximum(warmup, 1.0), 1.0))
        progress = ops.clip((step - warmup) / ops.maximum(self._total - warmup, 1.0), 0.0, 1.0)
        falling = self.peak * (self.end_ratio + (1 - self.end_ratio) * self._decay(progress))
        return ops.where(step < warmup, rising, falling)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                "start_ratio": self.start_ratio, "end_ratio": self.end_ratio}


@keras.saving.register_keras_serializable(package="regapps")
class OneCycle(WarmupDecay):
    """Smith's one-cycle as used for fast CIFAR-10 training: linear warm-up, linear decay."""

    def _decay(self, progress: Any) -> Any:
        return 1.0 - progress


@keras.saving.register_keras_serializable(package="regapps")
class WarmupCosine(WarmupDecay):
    """Linear warm-up, then half a cosine down to ``peak * end_ratio``."""

    def _decay(self, progress: Any) -> Any:
        return 0.5 * (1.0 + ops.cos(math.pi * progress))
