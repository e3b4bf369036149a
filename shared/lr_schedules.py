"""Learning-rate schedules Keras lacks, as serializable ``LearningRateSchedule`` classes.
Imports Keras: only the schedule factories in ``schedules.py`` import this module."""
from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="regapps")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from ``peak * start_ratio`` to ``peak`` over ``warmup_steps``, then linear
    decay to ``peak * end_ratio`` at ``total_steps`` (Smith's one-cycle, as used for fast
    CIFAR-10 training). Constant at the end value after ``total_steps``."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int,
                 start_ratio: float = 0.04, end_ratio: float = 0.0):
        self.peak = float(peak)
        self.total_steps = int(max(1, total_steps))
        self.warmup_steps = int(min(max(0, warmup_steps), self.total_steps - 1))
        self.start_ratio = float(start_ratio)
        self.end_ratio = float(end_ratio)

    def __call__(self, step: Any) -> Any:
        step = ops.cast(step, "float32")
        warm = float(max(1, self.warmup_steps))
        rising = self.peak * (self.start_ratio + (1 - self.start_ratio) * ops.minimum(step / warm, 1.0))
        span = float(max(1, self.total_steps - self.warmup_steps))
        progress = ops.clip((step - self.warmup_steps) / span, 0.0, 1.0)
        falling = self.peak * (1 - (1 - self.end_ratio) * progress)
        return ops.where(step < self.warmup_steps, rising, falling)

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                "start_ratio": self.start_ratio, "end_ratio": self.end_ratio}
