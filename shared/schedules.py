"""Learning-rate schedule registry: constant, step, exponential, cosine, onecycle, reduce_on_plateau.

A factory returns a :class:`ScheduleResult`: the value to hand the optimizer (a float or a
Keras ``LearningRateSchedule`` stepped per batch) plus any callbacks the schedule needs.
The warm-up + decay schedules (cosine, onecycle) can be laid out again while training runs, so
a time budget can end their decay on the last epoch that fits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .registry import Registry


@dataclass
class ScheduleResult:
    learning_rate: Any
    callbacks: list[Any] = field(default_factory=list)


SCHEDULES: Registry[ScheduleResult] = Registry("schedule")


@SCHEDULES.register("constant", "the optimizer's learning rate throughout")
def _constant(base_lr: float) -> ScheduleResult:
    return ScheduleResult(base_lr)


@SCHEDULES.register("step", "multiply by `factor` every `step_epochs` epochs")
def _step(base_lr: float, steps_per_epoch: int, step_epochs: int = 10, factor: float = 0.5) -> ScheduleResult:
    import keras

    return ScheduleResult(keras.optimizers.schedules.ExponentialDecay(
        base_lr, decay_steps=step_epochs * steps_per_epoch, decay_rate=factor, staircase=True))


@SCHEDULES.register("exponential", "multiply by `decay_rate` each epoch, smoothly per step")
def _exponential(base_lr: float, steps_per_epoch: int, decay_rate: float = 0.96) -> ScheduleResult:
    import keras

    return ScheduleResult(keras.optimizers.schedules.ExponentialDecay(
        base_lr, decay_steps=steps_per_epoch, decay_rate=decay_rate))


@SCHEDULES.register("cosine", "optional linear warm-up, then cosine decay to `min_lr_ratio`")
def _cosine(base_lr: float, steps_per_epoch: int, epochs: int, warmup_epochs: float = 0.0,
            min_lr_ratio: float = 0.0) -> ScheduleResult:
    from .lr_schedules import WarmupCosine

    total = max(1, steps_per_epoch * epochs)
    warmup = round(warmup_epochs * steps_per_epoch)
    return ScheduleResult(WarmupCosine(base_lr, total, warmup, start_ratio=0.01, end_ratio=min_lr_ratio))


@SCHEDULES.register("onecycle", "linear warm-up to the peak over `warmup_epochs`, then linear decay to 0")
def _onecycle(base_lr: float, steps_per_epoch: int, epochs: int, warmup_epochs: float = 0.0,
              min_lr_ratio: float = 0.0) -> ScheduleResult:
    from .lr_schedules import OneCycle

    total = max(1, steps_per_epoch * epochs)
    warmup = int(round(warmup_epochs * steps_per_epoch))
    return ScheduleResult(OneCycle(base_lr, total, warmup, end_ratio=min_lr_ratio))


@SCHEDULES.register("reduce_on_plateau", "multiply by `factor` when the monitor stalls `patience` epochs")
def _plateau(base_lr: float, monitor: str = "val_loss", factor: float = 0.5, patience: int = 3) -> ScheduleResult:
    from .callbacks import PlateauAcrossLegs

    return ScheduleResult(base_lr, [PlateauAcrossLegs(
        monitor=monitor, factor=factor, patience=patience, min_lr=base_lr * 1e-3, verbose=0)])


def build_schedule(section: Any, base_lr: float, *, steps_per_epoch: int, epochs: int,
                   monitor: str = "val_loss") -> ScheduleResult:
    """Build from a ``ScheduleConfig`` for a run of ``epochs`` x ``steps_per_epoch`` steps."""
    declared = SCHEDULES.parameters(section.name)
    params = {key: value for key, value in section.model_dump().items() if key in declared}
    return SCHEDULES.get({"name": section.name, **params}, base_lr=base_lr,
                         steps_per_epoch=steps_per_epoch, epochs=epochs, monitor=monitor)
