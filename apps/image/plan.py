"""The fast preset's plan for a time budget: the network width (and, under ``--precision auto``,
the precision) that this machine can train for enough epochs inside the budget.

The plan times a few training steps of each candidate width here, before training, on a random
batch of the run's shape, with the run's optimizer and loss. Widths are tried from the narrowest
up; the plan keeps the widest that fits at least ``MIN_EPOCHS`` epochs in what is left of the
budget (the narrowest when none does) and stops timing at the first width that fits fewer, as
every wider one fits fewer still, or when timing one more would take the plan past
``PLAN_SHARE`` of the budget. The timing counts against the budget: the run's training gets what
the plan leaves. Under ``auto`` the plan also times the narrowest width in bfloat16 where
the CPU reports bfloat16 support or a GPU is present, and keeps whichever precision steps faster.
"""
from __future__ import annotations

import json
import logging
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CANDIDATE_WIDTHS = (8, 12, 16, 24, 32, 48, 64)
# The widest width that fits this many epochs wins. Measured (docs/benchmarks.md): at width 16,
# 13 -> 23 epochs still gained 2.7 points (AVX512-BF16 machine); on an AVX2 machine width 8 for 8
# epochs beat width 12 for 5. Below this many epochs, an epoch pays more than width.
MIN_EPOCHS = 16
TIMED_STEPS = 3
PLAN_SHARE = 0.05  # the most of the budget that timing wider candidates may take
PLAN_FILE = "plan.json"
PREDICT_COST = 1 / 3  # a validation image costs about a third of a training image (forward only)


@dataclass(frozen=True)
class Timing:
    width: int
    precision: str
    step_seconds: float
    epoch_seconds: float
    epochs_fit: int


@dataclass
class Plan:
    """What the plan chose and why; saved as ``plan.json`` in the run so a resumed run keeps it."""

    width: int
    precision: str
    epochs: int
    epoch_seconds: float
    reason: str
    seconds: float  # time the plan itself took (counted against the budget)
    timings: list[Timing] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 2),
                "epoch_seconds": round(self.epoch_seconds, 2),
                "timings": [{**asdict(t), "step_seconds": round(t.step_seconds, 4),
                             "epoch_seconds": round(t.epoch_seconds, 2)} for t in self.timings]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Plan:
        timings = [Timing(**t) for t in raw.get("timings", [])]
        return cls(**{**raw, "timings": timings})


def step_seconds(config: Any, input_shape: tuple[int, int, int], n_classes: int, width: int,
                 precision: str, steps: int = TIMED_STEPS) -> float:
    """Median seconds of one training step of the fast network at ``width`` in ``precision``
    (after a first call that traces and a second that warms up), batch as configured."""
    import tensorflow as tf
    from regapps.shared.distribute import training_scope
    from regapps.shared.optimizers import build_optimizer

    from .model import build_model
    from .task import _loss

    t = config.training
    with training_scope(t.model_copy(update={"precision": precision})):
        model = build_model("fast", input_shape, n_classes, config.regularization, width=width,
                            whiten=config.model.whiten)
        model.compile(optimizer=build_optimizer(config.optimizer), loss=_loss(t.label_smoothing))
    x = tf.random.uniform((t.batch_size, *input_shape))
    labels = tf.random.uniform((t.batch_size,), 0, n_classes, dtype=tf.int32)
    y = tf.one_hot(labels, n_classes) if t.label_smoothing > 0 else labels
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plan_fast_run(config: Any, input_shape: tuple[int, int, int], n_classes: int, n_train: int,
                  n_val: int, budget_seconds: float, *, widths: tuple[int, ...] = CANDIDATE_WIDTHS,
                  min_epochs: int = MIN_EPOCHS, timer: Any = None) -> Plan:
    """Choose width and precision for ``budget_seconds`` of training on this machine (see the
    module's docstring). ``timer(config, shape, classes, width, precision)`` gives a step's seconds."""
    from regapps.shared.distribute import native_bfloat16, resolve_precision

    timer = timer or step_seconds
    start = time.perf_counter()
    batch = config.training.batch_size
    steps = math.ceil(n_train / batch) + PREDICT_COST * math.ceil(n_val / batch)
    precision = resolve_precision(config.training.precision)
    timings: list[Timing] = []

    def timed(width: int, prec: str) -> Timing:
        step = timer(config, input_shape, n_classes, width, prec)
        left = budget_seconds - (time.perf_counter() - start)
        timing = Timing(width, prec, step, step * steps, max(0, math.floor(left / (step * steps))))
        timings.append(timing)
        log.info("plan: width %d in %s: %.0f ms a step, %.0f s an epoch, %d epochs fit",
                 width, prec, 1000 * step, timing.epoch_seconds, timing.epochs_fit)
        return timing

    first = timed(widths[0], "float32" if config.training.precision == "auto" else precision)
    if config.training.precision == "auto" and native_bfloat16():
        other = timed(widths[0], "mixed_bfloat16")
        first = other if other.step_seconds < first.step_seconds else first
    precision = first.precision
    chosen, capped = first, False
    if first.epochs_fit >= min_epochs:
        for width in widths[1:]:
            used = time.perf_counter() - start
            if used * (1 + 1 / len(timings)) > PLAN_SHARE * budget_seconds:
                capped = True  # timing one more would take the plan past its share of the budget
                break
            timing = timed(width, precision)
            if timing.epochs_fit < min_epochs:
                break
            chosen = timing
    # what the timing of wider candidates used up comes off the chosen width's epochs too
    left = budget_seconds - (time.perf_counter() - start)
    epochs = max(1, math.floor(left / chosen.epoch_seconds))
    if chosen.epochs_fit >= min_epochs:
        why_stop = " (timing a wider one would pass the plan's share of it)" if capped else ""
        reason = (f"width {chosen.width} is the widest{' timed' if capped else ''} that fits "
                  f"{min_epochs}+ epochs ({chosen.epochs_fit}) in the budget{why_stop}")
    else:
        reason = (f"no width fits {min_epochs} epochs; the narrowest ({chosen.width}) fits the most "
                  f"({chosen.epochs_fit})")
    if len({t.precision for t in timings}) > 1:
        reason += f"; {precision} stepped faster"
    return Plan(chosen.width, precision, epochs, chosen.epoch_seconds, reason,
                time.perf_counter() - start, timings)


def run_plan(config: Any, input_shape: tuple[int, int, int], n_classes: int, n_train: int, n_val: int,
             *, run_dir: Path | None = None, resume: bool = False) -> Plan | None:
    """The plan for a fast-preset run under a time budget (None for any other run): with a
    width given, only that one is timed, for the epoch estimate. A resumed run reads the plan
    its first process saved in ``run_dir``."""
    from regapps.shared.runs import atomic_write_json

    t = config.training
    if config.model.preset != "fast" or not t.time_budget_minutes:
        return None
    saved = run_dir / PLAN_FILE if run_dir is not None else None
    if resume and saved is not None and saved.is_file():
        return Plan.from_dict(json.loads(saved.read_text(encoding="utf-8")))
    pinned = config.model.width is not None  # still timed: the epoch estimate lays the schedule out
    plan = plan_fast_run(config, input_shape, n_classes, n_train, n_val, t.time_budget_minutes * 60,
                         widths=(config.model.width,) if pinned else CANDIDATE_WIDTHS,
                         min_epochs=min(MIN_EPOCHS, t.epochs))
    if pinned:
        plan.reason = f"width {plan.width} as given; it fits {plan.epochs} epochs"
    log.info("plan: width %d, %s, about %d epochs: %s", plan.width, plan.precision, plan.epochs, plan.reason)
    if saved is not None:
        atomic_write_json(saved, plan.to_dict())
    return plan


def apply_plan(config: Any, plan: Plan | None) -> Any:
    """The config with the plan's width and precision (unchanged without a plan)."""
    if plan is None:
        return config
    return config.model_copy(update={
        "model": config.model.model_copy(update={"width": plan.width}),
        "training": config.training.model_copy(update={"precision": plan.precision})})
