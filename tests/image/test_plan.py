"""The fast preset's plan for a time budget: the widest network that fits enough epochs, from
step times (here a fake timer, so the choice is exact), and what a real run records of it."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from regapps.apps.image import plan as plan_module
from regapps.apps.image.config import ImageConfig
from regapps.shared.config import build_config


def _config(**flags: Any) -> ImageConfig:
    return build_config(ImageConfig, flags={"model.preset": "fast", "training.time_budget_minutes": 10,
                                            "training.epochs": 1000, **flags})


def _timer(per_width: dict[int, float], calls: list[tuple[int, str]], bf16_factor: float = 1.0) -> Any:
    def timer(config: Any, shape: Any, classes: int, width: int, precision: str) -> float:
        calls.append((width, precision))
        return per_width[width] * (bf16_factor if precision == "mixed_bfloat16" else 1.0)
    return timer


STEPS = {8: 0.1, 12: 0.2, 16: 0.3, 24: 0.6, 32: 1.0}  # seconds a step


def test_the_widest_width_that_fits_enough_epochs_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regapps.shared.distribute.native_bfloat16", lambda: False)
    calls: list[tuple[int, str]] = []
    # 100 steps an epoch (+ a third of 20 validation steps): width 16 takes 32 s an epoch, so
    # 600 s fit 18 epochs; width 24 (64 s) fits 9 < 16, so timing stops there
    plan = plan_module.plan_fast_run(_config(), (32, 32, 3), 10, 25_600, 5_120, 600.0,
                                     widths=tuple(STEPS), timer=_timer(STEPS, calls))
    assert plan.width == 16 and plan.precision == "float32" and plan.epochs == 18
    assert calls == [(8, "float32"), (12, "float32"), (16, "float32"), (24, "float32")]
    assert [t.epochs_fit for t in plan.timings] == [56, 28, 18, 9]
    assert "widest" in plan.reason and plan.epoch_seconds == pytest.approx(0.3 * (100 + 20 / 3))


def test_no_width_fits_enough_epochs_takes_the_narrowest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regapps.shared.distribute.native_bfloat16", lambda: False)
    calls: list[tuple[int, str]] = []
    plan = plan_module.plan_fast_run(_config(), (32, 32, 3), 10, 25_600, 0, 55.0,
                                     widths=tuple(STEPS), timer=_timer(STEPS, calls))
    assert (plan.width, plan.epochs) == (8, 5) and calls == [(8, "float32")]
    assert "narrowest" in plan.reason


def test_auto_precision_is_timed_where_bfloat16_may_be_native(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regapps.shared.distribute.native_bfloat16", lambda: True)
    for factor, expected in ((0.5, "mixed_bfloat16"), (3.0, "float32")):
        calls: list[tuple[int, str]] = []
        plan = plan_module.plan_fast_run(_config(**{"training.precision": "auto"}), (32, 32, 3), 10,
                                         25_600, 0, 600.0, widths=tuple(STEPS),
                                         timer=_timer(STEPS, calls, bf16_factor=factor))
        assert plan.precision == expected and calls[:2] == [(8, "float32"), (8, "mixed_bfloat16")]
        assert all(p == expected for _, p in calls[2:])
    calls = []
    plan_module.plan_fast_run(_config(**{"training.precision": "float32"}), (32, 32, 3), 10, 25_600, 0,
                              600.0, widths=tuple(STEPS), timer=_timer(STEPS, calls))
    assert {p for _, p in calls} == {"float32"}  # a precision the user gave is not second-guessed


def test_the_plan_stops_timing_at_its_share_of_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("regapps.shared.distribute.native_bfloat16", lambda: False)
    clock = [0.0]
    monkeypatch.setattr(plan_module.time, "perf_counter", lambda: clock[0])

    def slow_timer(config: Any, shape: Any, classes: int, width: int, precision: str) -> float:
        clock[0] += 20.0  # each candidate takes 20 s to build, trace and time
        return 0.001
    plan = plan_module.plan_fast_run(_config(), (32, 32, 3), 10, 25_600, 0, 600.0,
                                     widths=(8, 12, 16, 24), timer=slow_timer)
    # 5% of 600 s is 30 s: after one candidate (20 s) a second would end at 40 s
    assert [t.width for t in plan.timings] == [8] and plan.seconds == pytest.approx(20.0)


def test_no_budget_or_another_preset_means_no_plan() -> None:
    for flags in ({"training.time_budget_minutes": None}, {"model.preset": "article"}):
        assert plan_module.run_plan(_config(**flags), (32, 32, 3), 10, 1000, 100) is None


def test_a_pinned_width_is_the_only_one_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr("regapps.shared.distribute.native_bfloat16", lambda: False)
    monkeypatch.setattr(plan_module, "step_seconds", _timer(STEPS, calls))
    plan = plan_module.run_plan(_config(**{"model.width": 24}), (32, 32, 3), 10, 25_600, 0)
    assert plan is not None and calls == [(24, "float32")] and plan.width == 24
    assert plan.epochs == 9 and "as given" in plan.reason  # 600 s / 60 s an epoch, less the timing


@pytest.mark.slow
def test_a_budgeted_fast_run_records_its_plan_and_reloads(cli: Any, tmp_path: Path) -> None:
    """digits, 15 s: the plan is written, reported and applied, and the model it sized is the
    one a new process evaluates."""
    result = cli("image", "train", "--dataset", "digits", "--preset", "fast", "--time-budget", "0.25",
                 "--runs-dir", str(tmp_path), "--json")
    assert result.code == 0, result.stderr[-2000:]
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    saved = json.loads((run_dir / "plan.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["training"]["plan"] == saved and saved["width"] in plan_module.CANDIDATE_WIDTHS
    assert saved["timings"][0]["width"] == 8 and saved["seconds"] > 0
    with open(run_dir / "history.csv", newline="") as handle:
        slowest = max(float(row["seconds"]) for row in csv.DictReader(handle))
    # the plan's timing counts against the budget: both together end inside it, or past it by
    # less than the cut epoch
    assert metrics["training"]["train_seconds"] + saved["seconds"] <= 0.25 * 60 + slowest
    assert "Plan for the time budget" in (run_dir / "report.md").read_text()
    evaluated = cli("image", "evaluate", str(run_dir), "--json")
    assert evaluated.code == 0, evaluated.stderr[-2000:]
    assert json.loads(evaluated.stdout)["metrics"]["test"]["accuracy"] == pytest.approx(metrics["test"]["accuracy"])


def test_a_resumed_run_keeps_the_plan_its_first_process_saved(tmp_path: Path) -> None:
    saved = plan_module.Plan(12, "float32", 7, 40.0, "width 12 ...", 9.5,
                             [plan_module.Timing(12, "float32", 0.2, 40.0, 7)])
    (tmp_path / plan_module.PLAN_FILE).write_text(json.dumps(saved.to_dict()))
    again = plan_module.run_plan(_config(), (32, 32, 3), 10, 1000, 100, run_dir=tmp_path, resume=True)
    assert again == saved  # no timing: the architecture must match the checkpoints
    applied = plan_module.apply_plan(_config(**{"training.precision": "auto"}), again)
    assert applied.model.width == 12 and applied.training.precision == "float32"
