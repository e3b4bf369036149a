"""Warm-started successive halving: a trial trained in legs is the trial trained in one go, so a
survivor's last-rung score equals the full-budget grid score, while halving builds each model
once and trains fewer epochs."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="module")
def digits() -> Any:
    from regapps.apps.image.data import load_digits
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    return load_digits()


def _config(**flags: Any) -> Any:
    from regapps.apps.image.config import ImageConfig
    from regapps.shared.config import build_config

    return build_config(ImageConfig, flags={"training.patience": 50, **flags})


@pytest.mark.slow
@pytest.mark.parametrize("schedule", [{"schedule.name": "cosine"},
                                      {"schedule.name": "reduce_on_plateau", "schedule.patience": 0,
                                       "optimizer.learning_rate": 0.1}])
def test_training_in_two_legs_equals_one_leg(digits: Any, schedule: dict[str, Any]) -> None:
    from regapps.apps.image.task import ImageFit

    idx = np.arange(len(digits.y_train))
    train_idx, val_idx = idx[::2], idx[1::2]
    config = _config(**{"training.epochs": 5, "regularization.dropout": 0.3, **schedule})
    legs = ImageFit(config, digits, train_idx, val_idx)
    legs.trainer.train_until(2)
    with legs.trainer.best_weights():
        early = legs.validate()["accuracy"]
    legs.trainer.train_until(5)
    whole = ImageFit(config, digits, train_idx, val_idx)
    whole.trainer.train_until(5)
    for a, b in zip(legs.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert legs.trainer.history.series()["val_accuracy"] == whole.trainer.history.series()["val_accuracy"]
    assert early == pytest.approx(max(whole.trainer.history.series()["val_accuracy"][:2]), abs=1e-6)
    assert legs.trainer.epoch == 5 and len(legs.trainer.history.rows) == 5
    rates = whole.trainer.history.series()["learning_rate"]
    assert legs.trainer.history.series()["learning_rate"] == rates
    if schedule["schedule.name"] == "reduce_on_plateau":  # a cut the second leg decided, on the first's best
        assert any(b < a for a, b in zip(rates[2:], rates[3:]))


def _scores(run_dir: str) -> list[dict[str, Any]]:
    with open(Path(run_dir) / "cv_results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _candidates(result: dict[str, Any]) -> list[dict[str, Any]]:
    import json

    return json.loads((Path(result["run_dir"]) / "search.json").read_text())["plan"]["candidates"]


@pytest.mark.slow
def test_halving_survivor_scores_as_in_the_grid_and_builds_each_model_once(digits: Any, tmp_path: Path) -> None:
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.cv import image_cv_task
    from regapps.shared.selection.runner import CVSpec, make_plan, run_cv

    task = image_cv_task(digits)
    starts: list[int] = []
    start = task.start

    def counted(config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> Any:
        starts.append(1)
        return start(config, train_idx, val_idx)

    task.start = counted  # type: ignore[method-assign]
    spec = CVSpec("image", ImageConfig, task, refit=lambda config, folder: {}, data_source="digits")
    base = _config(**{"training.epochs": 6}).to_dict()
    runs: dict[str, Any] = {}
    for search in ("grid", "halving"):
        plan = make_plan(ImageConfig, base, grid=["learning_rate=1e-3,3e-3,3e-2,0.3"], search=search,
                         n_iter=1, folds=2, seeds=1, eta=3, seed=0)
        starts.clear()
        runs[search] = (run_cv(spec, plan, base, runs_dir=tmp_path, name=search).to_dict(), len(starts))
    (grid, grid_starts), (halving, halving_starts) = runs["grid"], runs["halving"]
    assert grid_starts == halving_starts == 4 * 2  # one model per (candidate, fold), whatever the rungs

    rows = _scores(halving["run_dir"])
    assert sorted({(r["rung"], r["epochs"]) for r in rows}) == [("0", "2"), ("1", "6")]
    survivors = [r for r in rows if r["rung"] == "1"]
    assert len(survivors) == 2 * 2  # the best half of 4 candidates, two folds
    grid_rows = {(r["candidate"], r["fold"]): float(r["score"]) for r in _scores(grid["run_dir"])}
    for row in survivors:  # the warm-started survivor is exactly the full-budget trial
        assert float(row["score"]) == grid_rows[(row["candidate"], row["fold"])]
    winner = str(next(c for c, p in enumerate(_candidates(halving)) if p == halving["best"]["params"]))
    assert halving["best"]["score"] == pytest.approx(np.mean([grid_rows[(winner, f)] for f in "01"]))
    assert halving["best"]["score"] <= grid["best"]["score"]
    epochs = {r["candidate"]: int(r["epochs_run"]) for r in rows if r["rung"] == "0"}
    assert all(e == 2 for e in epochs.values())
