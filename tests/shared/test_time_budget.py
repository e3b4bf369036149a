"""Training to a wall-clock budget: the warm-up + decay schedules can be laid out again while a
compiled train step runs, and the budget callback lays them out for the epochs that fit."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_relayout_moves_the_end_of_the_decay_inside_a_compiled_function() -> None:
    import tensorflow as tf
    from regapps.shared.lr_schedules import OneCycle, WarmupCosine

    for schedule, middle in ((OneCycle(1.0, 100, 10, end_ratio=0.0), 0.5),
                             (WarmupCosine(1.0, 100, 10, end_ratio=0.0), 0.5)):
        lr = tf.function(lambda step, s=schedule: s(step))
        assert float(lr(55)) == pytest.approx(middle, abs=1e-6)  # halfway through the decay
        assert float(lr(100)) == pytest.approx(0.0, abs=1e-6)
        schedule.relayout(40)  # the same traced function now ends the decay at step 40
        assert float(lr(25)) == pytest.approx(middle, abs=1e-6)
        assert float(lr(40)) == pytest.approx(0.0, abs=1e-6)
        assert float(lr(5)) < 1.0 and float(lr(10)) == pytest.approx(1.0)  # warm-up untouched
        schedule.relayout(20)  # too short for the asked warm-up: it shrinks to a quarter
        assert (schedule.warmup_steps, schedule.total_steps) == (5, 20)
        assert float(lr(5)) == pytest.approx(1.0) and float(lr(20)) == pytest.approx(0.0, abs=1e-6)
        assert float(lr(2)) < 1.0 and float(lr(12.5)) == pytest.approx(middle, abs=1e-6)
        assert schedule.get_config()["total_steps"] == 20


class FakeSchedule:
    def __init__(self) -> None:
        self.totals: list[int] = []

    def relayout(self, total_steps: int) -> None:
        self.totals.append(total_steps)


class FakeModel:
    stop_training = False


def _budget(monkeypatch: pytest.MonkeyPatch, seconds: float, clock: list[float],
            **kwargs: Any) -> Any:
    """A TimeBudget on a fake model whose clock is ``clock[0]``."""
    from regapps.shared import callbacks

    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: clock[0])
    cb = callbacks.TimeBudget(seconds, **kwargs)
    cb.set_model(FakeModel())  # type: ignore[arg-type]
    return cb


def _simulate(monkeypatch: pytest.MonkeyPatch, budget: float, epoch_times: list[float],
              max_epochs: int) -> tuple[Any, FakeSchedule, int]:
    clock = [0.0]
    schedule = FakeSchedule()
    cb = _budget(monkeypatch, budget, clock, schedule=schedule, steps_per_epoch=10, max_epochs=max_epochs)
    cb.on_train_begin()
    epochs = 0
    for epoch, seconds in enumerate(epoch_times):
        cb.on_epoch_begin(epoch)
        clock[0] += seconds
        cb.on_epoch_end(epoch)
        epochs += 1
        if cb.model.stop_training:
            break
    return cb, schedule, epochs


def test_budget_lays_the_schedule_out_for_the_epochs_that_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    # the first epoch pays for compiling (20 s); later ones take 10 s; 100 s of budget
    cb, schedule, epochs = _simulate(monkeypatch, 100, [20] + [10] * 20, max_epochs=1000)
    assert epochs == 9 and cb.exhausted  # 20 + 8 x 10 = 100 s: a 10th epoch would not fit
    assert schedule.totals[0] == 50  # after epoch 1 only the slow first epoch is known: 1 + 4
    assert schedule.totals[-1] == 90  # the decay ends exactly on the last epoch trained
    assert cb.planned_epochs == 9


def test_budget_plans_with_the_slowest_recent_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    # epochs alternate 8 s and 12 s: planning with their mean (10 s) would start a 12 s epoch
    # at 30 s of a 41 s budget and end at 42 s
    times = [10, 8, 12, 12, 8, 12, 8]
    cb, _, epochs = _simulate(monkeypatch, 41, times, max_epochs=1000)
    assert cb.exhausted and epochs == 3 and sum(times[:epochs]) <= 41


def test_an_epoch_slower_than_planned_is_cut_at_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    cb = _budget(monkeypatch, 35, clock, steps_per_epoch=4)
    cb.on_train_begin()
    for epoch in range(2):  # 10 s epochs: after two, one more fits (20 + 10 <= 35)
        cb.on_epoch_begin(epoch)
        for batch in range(4):
            clock[0] += 2.5
            cb.on_train_batch_end(batch)
        cb.on_epoch_end(epoch)
    assert cb.planned_epochs == 3 and not cb.model.stop_training
    cb.on_epoch_begin(2)
    batches = 0
    while not cb.model.stop_training:  # the machine slows down: 4 s a batch
        clock[0] += 4
        cb.on_train_batch_end(batches)
        batches += 1
    # after 3 batches (32 s) a 4th would end at 36 s: it is not started
    assert batches == 3 and clock[0] == 32 and cb.exhausted and cb.cut_mid_epoch
    cb.on_epoch_end(2)  # Keras still ends the epoch; nothing is re-planned
    assert cb.planned_epochs == 3


def test_budget_counts_every_leg_and_earlier_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    cb = _budget(monkeypatch, 60, clock, steps_per_epoch=1, spent=20)  # a resumed run: 20 s already used
    for leg in range(2):
        cb.on_train_begin()
        cb.on_epoch_begin(leg)
        clock[0] += 10
        cb.on_epoch_end(leg)
        cb.on_train_end()
        clock[0] += 50  # scoring between legs is not training time
    assert cb.planned_epochs == 4  # 20 s spent + 2 x 10 s: (60 - 40) // 10 = 2 more epochs


def test_budget_respects_the_epoch_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    cb, schedule, epochs = _simulate(monkeypatch, 1000, [10] * 6, max_epochs=6)
    assert schedule.totals == [60] and cb.planned_epochs == 6 and not cb.exhausted
    assert epochs == 6


def test_an_epoch_estimate_lays_the_schedule_out_before_the_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    # a plan's estimate (30 s an epoch) of a 100 s budget: laid out for 3 epochs at once, so a
    # warm-up meant for a long run cannot fill the short one; measured epochs then take over
    clock = [0.0]
    schedule = FakeSchedule()
    cb = _budget(monkeypatch, 100, clock, schedule=schedule, steps_per_epoch=10, max_epochs=1000,
                 epoch_seconds=30.0, spent=10.0)  # the plan's timing used 10 s of the budget
    cb.on_train_begin()
    assert schedule.totals == [30] and cb.planned_epochs == 3
    cb.on_epoch_begin(0)
    clock[0] += 20  # faster than estimated: 10 + 20 + 3 x 20 = 90 s, a 4th more epoch fits
    cb.on_epoch_end(0)
    assert schedule.totals == [30, 40] and cb.planned_epochs == 4
    resumed = _budget(monkeypatch, 100, clock, schedule=FakeSchedule(), steps_per_epoch=10,
                      max_epochs=1000, epoch_seconds=30.0, spent=40.0, start_epoch=1)
    resumed.on_train_begin()  # a resumed run counts its finished epoch: 1 + (100 - 40) // 30
    assert resumed.planned_epochs == 3


def test_schedules_without_a_horizon_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from regapps.shared import callbacks

    cb = callbacks.TimeBudget(60, schedule=0.01, steps_per_epoch=10)
    assert cb.schedule is None


def test_time_budget_flag_lifts_the_epoch_cap() -> None:
    from regapps.apps.commands import training_flags
    from regapps.apps.options import BUDGET_EPOCH_CAP

    assert training_flags(time_budget=7.5)["training.epochs"] == BUDGET_EPOCH_CAP
    assert training_flags(time_budget=7.5, epochs=20)["training.epochs"] == 20
    assert training_flags()["training.epochs"] is None


@pytest.mark.slow
def test_time_budget_end_to_end(cli: Any, tmp_path: Path) -> None:
    """A real run to a 15-second budget on digits (epoch cap lifted to 1000, so the budget binds):
    the training time ends inside the budget (past it by at most the cut epoch's validation pass,
    under an epoch), the hit is recorded, and the one-cycle decay ends on the last epoch: at its
    floor (0) when the plan held, within what the plan lost at the end when an epoch ran slower
    than the ones before it."""
    import csv
    import json
    import re

    budget_minutes, peak = 0.25, 1e-3
    result = cli("image", "train", "--dataset", "digits", "--time-budget", str(budget_minutes),
                 "--schedule", "onecycle", "--learning-rate", str(peak), "--no-early-stopping",
                 "--runs-dir", str(tmp_path), "--json")
    assert result.code == 0, result.stderr[-2000:]
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    training = json.loads((run_dir / "metrics.json").read_text())["training"]
    with open(run_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    epochs, budget = len(rows), budget_minutes * 60
    assert training["time_budget_hit"] is True and training["epochs_run"] == epochs
    assert 10 < epochs < 1000 and not training["stopped_early"]  # the budget ended it, not the cap
    slowest = max(float(r["seconds"]) for r in rows[1:])  # the first epoch also compiles
    assert budget - 2 * slowest <= training["train_seconds"] <= budget + slowest, (training, slowest)

    plans = [int(n) for n in re.findall(r"the schedule now ends after epoch (\d+)", result.stderr)]
    cut = "inside an epoch" in result.stderr
    # the plan the last epoch trained under: the one before a re-plan made at its own end
    replanned_at_end = not cut and len(plans) > 1 and plans[-1] == epochs and plans[-2] > epochs
    during = plans[-2] if replanned_at_end else plans[-1]
    assert plans[-1] == epochs or cut and plans[-1] >= epochs
    final_lr = float(rows[-1]["learning_rate"])
    if during == epochs and not cut:
        assert final_lr == pytest.approx(0.0, abs=peak * 1e-6)  # the floor, on the last epoch
    else:  # slower than planned at the end: above the floor by the decay the plan lost
        assert final_lr <= peak * (during - epochs + 1) / during * (1 + 1e-6)
        assert during - epochs <= 2, plans
