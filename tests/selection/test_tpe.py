"""Search that tunes by itself: ranges, TPE through Optuna's ask and tell, pruning across folds,
the time budget, default spaces and the search report. A fake task whose score is a known
function of the config keeps these fast; test_tpe_apps.py runs the real apps."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from regapps.shared.config import ExperimentConfig
from regapps.shared.errors import ConfigError, ParameterError
from regapps.shared.selection.budget import Budget
from regapps.shared.selection.protocols import TrialResult
from regapps.shared.selection.runner import make_plan, run_cv, saved_search
from regapps.shared.selection.space import Range, candidates, parse_grid, space_from_mapping

from .test_search import FakeTask, _spec

RANGES = ["l2=1e-5..1e-1:log", "dropout=0..0.9"]


def _base(epochs: int = 9) -> dict[str, Any]:
    tree = ExperimentConfig().to_dict()
    tree["training"]["epochs"] = epochs
    return tree


def _plan(space: list[str] = RANGES, *, search: str | None = "tpe", n_iter: int = 12, prune: bool = False,
          seed: int = 0, epochs: int = 9, folds: int = 3, base: dict[str, Any] | None = None) -> Any:
    base = base or _base(epochs)
    return base, make_plan(ExperimentConfig, base, grid=space, search=search, n_iter=n_iter, folds=folds,
                           seeds=1, eta=3, seed=seed, prune=prune)


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "cv_results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _candidates(run_dir: Path) -> list[tuple[str, ...]]:
    seen: dict[str, tuple[str, ...]] = {}
    for r in _rows(run_dir):
        seen.setdefault(r["candidate"], (r["param:regularization.l2"], r["param:regularization.dropout"]))
    return [seen[k] for k in sorted(seen, key=int)]


# --- ranges ---------------------------------------------------------------------------------

def test_ranges_parse_from_flags_and_from_a_config_mapping() -> None:
    space = parse_grid(["learning_rate=1e-4..1e-2:log", "dropout=0..0.6", "batch_size=32,64,128"], "space")
    assert space == {"optimizer.learning_rate": Range(1e-4, 1e-2, log=True),
                     "regularization.dropout": Range(0, 0.6), "training.batch_size": [32, 64, 128]}
    mapped = space_from_mapping({"learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
                                 "dropout": "0..0.6", "batch_size": [32, 64, 128]})
    assert mapped == space


@pytest.mark.parametrize("items, fragment", [
    (["learning_rate=1e-2..1e-4:log"], "space learning_rate=1e-2..1e-4:log: the range is reversed: 0.01 > 0.0001"),
    (["dropout=0.3..0.3"], "space dropout=0.3..0.3: the range is empty; give one value as a list (0.3)"),
    (["learning_rate=0..1e-2:log"], "space learning_rate=0..1e-2:log: a ':log' range needs bounds > 0"),
    (["learning_rate=..1e-2"], "space learning_rate=..1e-2: a range needs both bounds: low..high"),
    (["learning_rate=a..b"], "space learning_rate=a..b: range bounds must be numbers"),
    (["learning_rate=1e-4..1e-2:cubic"], "a range ends in nothing or ':log', not ':cubic'"),
    (["batch_size=16.5..64"], "space training.batch_size=16.5..64: training.batch_size is an integer; give integer bounds"),
    (["optimizer=adam..sgd"], "space optimizer=adam..sgd: range bounds must be numbers"),
    (["optimizer=1..2"], "space optimizer.name=1..2: optimizer.name takes one of a list of values, not a range"),
    (["batchnorm=0..1"], "batchnorm=0..1: regularization.batchnorm takes one of a list of values, not a range"),
    (["dropout=0..1"], "space regularization.dropout=1"),  # the upper bound itself must be a valid value
])
def test_bad_ranges_are_refused_before_anything_runs(items: list[str], fragment: str) -> None:
    with pytest.raises(ParameterError) as info:
        space = parse_grid(items, "space")
        from regapps.shared.selection.space import validate_space

        validate_space(ExperimentConfig, _base(), space, param="space")
    assert fragment in str(info.value), str(info.value)
    assert info.value.as_flag().startswith("--space ")


@pytest.mark.parametrize("mapping, fragment", [
    ({"learning_rate": {"low": 1e-2, "high": 1e-4}}, "search.learning_rate: the range is reversed"),
    ({"learning_rate": {"low": 1e-4}}, "search.learning_rate: a range needs both bounds"),
    ({"learning_rate": {"low": 1e-4, "high": 1e-2, "step": 2}}, "a range takes low, high and log, not 'step'"),
    ({"learning_rate": {"low": 1e-4, "high": 1e-2, "log": "yes"}}, "log must be true or false"),
    ({"learning_rate": []}, "search.learning_rate: the search space key has no values"),
])
def test_bad_ranges_in_a_config_file(mapping: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        space_from_mapping(mapping)
    assert fragment in str(info.value)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"search": "grid"}, "search grid cannot enumerate the range regularization.l2=1e-05..0.1:log"),
    ({"search": "halving"}, "search halving cannot enumerate the range"),
    ({"search": "grid", "space": ["l2=0,1e-3"], "prune": True}, "prune goes with search random or tpe"),
    ({"search": "halving", "space": ["l2=0,1e-3"], "prune": True}, "prune goes with search random or tpe"),
    ({"n_iter": 0}, "n_iter must be at least 1, got 0"),
    ({"search": "bayes"}, "search 'bayes' is not one of grid, random, halving, tpe"),
])
def test_plan_refuses_what_cannot_run(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ParameterError) as info:
        _plan(**kwargs)
    assert fragment in str(info.value)


def test_search_is_chosen_from_the_space() -> None:
    assert _plan(["l2=0,1e-3"], search=None)[1].search == "grid"
    assert _plan(["l2=0,1e-3", "dropout=0..0.5"], search=None)[1].search == "tpe"


def test_random_search_samples_ranges_reproducibly() -> None:
    space = parse_grid(["l2=1e-5..1e-1:log", "dropout=0..0.9", "batch_size=16..256:log", "optimizer=adam,sgd"])
    kinds = {"training.batch_size": "int"}
    first, again = candidates(space, "random", 40, 3, kinds), candidates(space, "random", 40, 3, kinds)
    assert first == again and first != candidates(space, "random", 40, 4, kinds)
    assert all(1e-5 <= c["regularization.l2"] <= 1e-1 and 0 <= c["regularization.dropout"] <= 0.9 for c in first)
    sizes = [c["training.batch_size"] for c in first]
    assert all(isinstance(b, int) and 16 <= b <= 256 for b in sizes)
    logs = np.log10([c["regularization.l2"] for c in first])
    assert (logs < -3).sum() >= 10 and (logs > -3).sum() >= 10  # log-uniform: half below the midpoint 1e-3
    assert {c["optimizer.name"] for c in first} == {"adam", "sgd"}


# --- TPE ------------------------------------------------------------------------------------

def test_tpe_is_reproducible_tries_the_base_first_and_homes_in(tmp_path: Path) -> None:
    base, plan = _plan(n_iter=16)
    a = run_cv(_spec(FakeTask()), plan, base, runs_dir=tmp_path / "a")
    _, plan_b = _plan(n_iter=16)
    b = run_cv(_spec(FakeTask()), plan_b, base, runs_dir=tmp_path / "b")
    _, plan_c = _plan(n_iter=16, seed=5)
    c = run_cv(_spec(FakeTask()), plan_c, {**base, "training": {**base["training"], "seed": 5}},
               runs_dir=tmp_path / "c")
    first = _candidates(a.run_dir)
    assert first == _candidates(b.run_dir) and first != _candidates(c.run_dir)
    assert len(first) == 16 and len(set(first)) == 16
    assert first[0][1] == "0.0"  # the base's dropout (its l2 of 0 lies outside the log range)
    assert plan.first == {"regularization.dropout": 0.0}
    # the fake score peaks at l2 1e-3, dropout 0.3: TPE's model-based half scores above random search
    tpe = {int(r["candidate"]): float(r["mean"]) for r in _summary(a.run_dir)}
    _, random_plan = _plan(search="random", n_iter=16)
    rand = run_cv(_spec(FakeTask()), random_plan, base, runs_dir=tmp_path / "r")
    random_scores = [float(r["mean"]) for r in _summary(rand.run_dir)]
    assert max(tpe.values()) == a.best.score > 0.8
    assert np.median([tpe[i] for i in range(8, 16)]) > np.median(random_scores)


def _summary(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "summary.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_interrupted_tpe_resumes_losing_nothing_and_proposing_the_same(tmp_path: Path) -> None:
    base, plan = _plan(n_iter=10)
    whole = run_cv(_spec(FakeTask()), plan, base, runs_dir=tmp_path / "whole")
    _, plan = _plan(n_iter=10)
    with pytest.raises(KeyboardInterrupt):
        run_cv(_spec(FakeTask(fail_after=14)), plan, base, runs_dir=tmp_path / "cut")
    run_dir = next((tmp_path / "cut" / "fake").iterdir())
    assert len(_rows(run_dir)) == 14
    saved_base, saved_plan = saved_search(run_dir, ExperimentConfig)
    assert saved_plan.search == "tpe" and saved_plan.candidates == [] and saved_plan.n_iter == 10
    task = FakeTask()
    resumed = run_cv(_spec(task), saved_plan, saved_base, runs_dir=tmp_path, resume=run_dir)
    assert task.calls == 30 - 14  # no finished trial trained again
    assert _candidates(run_dir) == _candidates(whole.run_dir)  # the sampler replays to the same proposals
    assert resumed.best == whole.best


# --- pruning --------------------------------------------------------------------------------

class FoldTask(FakeTask):
    """Records what every trial trains on and is scored on, and which trial object each call
    reaches (warm trials go on across rungs)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[dict[str, Any]] = []
        self.started = 0

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> Any:
        task = self

        class Warm:
            def __init__(self) -> None:
                self.train, self.val, self.trained = set(train_idx.tolist()), set(val_idx.tolist()), 0
                self.number = task.started = task.started + 1  # id() is reused once a trial is let go

            def advance(self, epochs: int) -> TrialResult:
                new, self.trained = epochs - self.trained, epochs
                result = task.fit_score(config.with_training(epochs=epochs), train_idx, val_idx)
                task.log.append({"trial": self.number, "train": self.train, "val": self.val, "epochs": epochs,
                                 "new": new})
                return result

        return Warm()


def test_pruning_stops_candidates_with_all_their_folds_and_spends_less(tmp_path: Path) -> None:
    base, full_plan = _plan(n_iter=12, epochs=27)
    full_task = FoldTask()
    full = run_cv(_spec(full_task), full_plan, base, runs_dir=tmp_path / "full")
    _, plan = _plan(n_iter=12, epochs=27, prune=True)
    assert plan.rung_epochs() == [1, 3, 9, None]
    task = FoldTask()
    pruned = run_cv(_spec(task), plan, base, runs_dir=tmp_path / "pruned")
    rows = _rows(pruned.run_dir)
    reached: dict[str, set[str]] = {}
    for r in rows:
        reached.setdefault(r["candidate"], set()).add(r["rung"])
    per_rung = {(r["candidate"], r["rung"]): 0 for r in rows}
    for r in rows:
        per_rung[(r["candidate"], r["rung"])] += 1
    assert set(per_rung.values()) == {3}  # folds are judged together: every fold at every rung reached
    stopped = [c for c, rungs in reached.items() if "3" not in rungs]
    assert stopped, "some candidates are pruned"
    epochs_full = sum(e["new"] for e in full_task.log)  # epochs trained, a warm trial's new ones only
    epochs_pruned = sum(e["new"] for e in task.log)
    assert epochs_full == 12 * 3 * 27 and epochs_pruned < 0.6 * epochs_full
    means: dict[tuple[int, int], float] = {}
    for (cand, rung) in per_rung:
        means[(int(cand), int(rung))] = float(np.mean([float(r["score"]) for r in rows
                                                       if (r["candidate"], r["rung"]) == (cand, rung)]))
    for cand in map(int, stopped):  # successive halving: a stopped candidate trailed one that ran before it
        rung = max(r for c, r in means if c == cand)
        assert means[(cand, rung)] < max(m for (c, r), m in means.items() if r == rung and c < cand)
    assert int(_summary(pruned.run_dir)[0]["rung"]) == 3  # the winner trained the full budget
    assert math.isfinite(full.best.score)
    report = (pruned.run_dir / "report.md").read_text()
    assert "with pruning" in report and "successive halving over epochs [1, 3, 9]" in report


def test_pruning_never_trains_a_fold_on_another_folds_validation_data(tmp_path: Path) -> None:
    base, plan = _plan(n_iter=8, epochs=27, prune=True)
    task = FoldTask()
    run_cv(_spec(task), plan, base, runs_dir=tmp_path)
    splits = task.splits(3, 0)
    by_trial: dict[int, list[dict[str, Any]]] = {}
    for entry in task.log:
        by_trial.setdefault(entry["trial"], []).append(entry)
        assert not entry["train"] & entry["val"]
        fold = next(f for f, (_, val) in enumerate(splits) if set(val.tolist()) == entry["val"])
        assert entry["train"] == set(splits[fold][0].tolist())  # its own fold's training part only
    for calls in by_trial.values():  # a warm trial goes on with the fold it started with
        assert len({frozenset(c["val"]) for c in calls}) == 1
        assert [c["epochs"] for c in calls] == sorted(c["epochs"] for c in calls)
    assert any(len(calls) > 1 for calls in by_trial.values())  # survivors went on, not retrained


def test_random_search_prunes_too(tmp_path: Path) -> None:
    base, plan = _plan(search="random", n_iter=9, epochs=27, prune=True)
    result = run_cv(_spec(FakeTask()), plan, base, runs_dir=tmp_path)
    rows = _rows(result.run_dir)
    assert {r["candidate"] for r in rows} == {str(i) for i in range(9)}
    assert len(rows) < 9 * 4 * 3
    chosen = [json.loads(r["param:regularization.l2"]) for r in rows if r["rung"] == "0" and r["fold"] == "0"]
    assert chosen == [c["regularization.l2"] for c in plan.candidates]


# --- time budget ----------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TimedTask(FakeTask):
    """Each fit takes 10 s of a fake clock, and says so."""

    def __init__(self, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def fit_score(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> TrialResult:
        result = super().fit_score(config, train_idx, val_idx)
        self.clock.now += 10
        return TrialResult(result.score, result.epochs_run, result.best_epoch, 10.0, result.history)


def test_the_budget_starts_no_candidate_it_cannot_finish_and_resume_goes_on(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import regapps.shared.selection.sequential as sequential

    clock = Clock()
    monkeypatch.setattr(sequential.time, "perf_counter", clock)  # trial seconds on the fake clock
    base, plan = _plan(["l2=0,1e-3,1e-1", "dropout=0,0.3,0.6"], search="grid")
    budget = Budget(2.0, clock=clock)  # 120 s: 3 folds x 10 s = 30 s a candidate, the refit 15 s
    result = run_cv(_spec(TimedTask(clock)), plan, base, runs_dir=tmp_path, budget=budget)
    rows = _rows(result.run_dir)
    assert budget.stopped and len(rows) == 9  # 3 candidates: 90 s + 30 s more + 15 s refit > 120 s
    assert clock.now + 15 <= 120 + 1e-9  # the refit's share was kept back
    assert "time budget ended the search after 9 trials (3 of 9 candidates)" in result.stopped
    assert "--resume" in (result.run_dir / "report.md").read_text()
    status = json.loads((result.run_dir / "status.json").read_text())
    assert status["status"] == "completed" and status["budget_exhausted"] is True
    saved_base, saved_plan = saved_search(result.run_dir, ExperimentConfig)
    task = TimedTask(clock)
    done = run_cv(_spec(task), saved_plan, saved_base, runs_dir=tmp_path, resume=result.run_dir)
    assert task.calls == 27 - 9 and len(_rows(done.run_dir)) == 27 and not done.stopped
    assert done.best.params == {"regularization.l2": 1e-3, "regularization.dropout": 0.3}
    status = json.loads((done.run_dir / "status.json").read_text())
    assert status["budget_exhausted"] is False


def test_the_budget_holds_for_tpe_with_pruning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import regapps.shared.selection.sequential as sequential

    clock = Clock()
    monkeypatch.setattr(sequential.time, "perf_counter", clock)
    base, plan = _plan(n_iter=30, epochs=27, prune=True)
    budget = Budget(5.0, clock=clock)
    result = run_cv(_spec(TimedTask(clock)), plan, base, runs_dir=tmp_path, budget=budget)
    assert budget.stopped and clock.now <= 300
    assert 0 < len({r["candidate"] for r in _rows(result.run_dir)}) < 30
    assert math.isfinite(result.best.score)


# --- report ---------------------------------------------------------------------------------

def test_report_shows_history_importance_and_parallel_coordinates(tmp_path: Path) -> None:
    base, plan = _plan(n_iter=12)
    result = run_cv(_spec(FakeTask()), plan, base, runs_dir=tmp_path)
    run = result.run_dir
    for name in ("optimization_history.png", "parallel_coordinates.png", "report.md"):
        assert (run / name).is_file(), name
    report = (run / "report.md").read_text()
    assert "## Search space" in report and "regularization.l2=1e-05..0.1:log" in report
    assert "## Hyperparameter importance" in report
    assert set(result.importance) == {"regularization.l2", "regularization.dropout"}
    assert abs(sum(result.importance.values()) - 1) < 0.01
    # the fake score moves three times more with dropout over its range than with log l2
    assert result.importance["regularization.dropout"] > result.importance["regularization.l2"]
    best = [p["best"] for p in result.history]
    assert len(result.history) == 12 and best == sorted(best)  # best so far never falls
    saved = json.loads((run / "cv_summary.json").read_text())
    assert saved["history"] == result.history and saved["importance"] == result.importance
