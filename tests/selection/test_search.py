"""The cv engine: spaces, splitters, grid/random/halving, resume, summaries, seed noise."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from regapps.shared.config import ExperimentConfig
from regapps.shared.errors import ConfigError, ParameterError, RunDirError
from regapps.shared.selection.adapters import RefitTrial
from regapps.shared.selection.protocols import TrialResult
from regapps.shared.selection.runner import CVSpec, make_plan, run_cv
from regapps.shared.selection.space import parse_grid
from regapps.shared.selection.splitters import stratified_kfold, walk_forward


def test_stratified_kfold_is_stratified_and_disjoint() -> None:
    y = np.array([0] * 30 + [1] * 12 + [2] * 6)
    splits = stratified_kfold(y, 3, seed=1)
    seen = np.concatenate([val for _, val in splits])
    assert sorted(seen.tolist()) == list(range(len(y)))  # every sample validated exactly once
    for train, val in splits:
        assert not set(train) & set(val)
        assert np.bincount(y[val], minlength=3).tolist() == [10, 4, 2]


def test_walk_forward_never_trains_on_the_future() -> None:
    splits = walk_forward(200, 4, gap=10, min_train=20)
    for train, val in splits:
        assert train.max() + 10 < val.min()  # gap of lookback + horizon before validation
    sizes = [len(t) for t, _ in splits]
    assert sizes == sorted(sizes)  # expanding window


@pytest.mark.parametrize("call, fragment", [
    (lambda: stratified_kfold(np.array([0] * 10 + [1] * 2), 3, 0), r"^folds 3 is larger than the smallest class \(2"),
    (lambda: walk_forward(30, 5, gap=10, min_train=20), "30 samples are too few for 5 walk-forward folds.*fewer folds$"),
])
def test_splitter_errors(call: Any, fragment: str) -> None:
    """Only what depends on the data; ``folds >= 2`` is the plan's to check (make_plan)."""
    with pytest.raises(ParameterError, match=fragment) as info:
        call()
    assert info.value.param == "folds" and "--folds" in info.value.as_flag()


def test_parse_grid_aliases_and_values() -> None:
    space = parse_grid(["l2=0,1e-4,1e-3", "optimizer=adam,sgd", "batchnorm=true,false", "learning_rate=1e-3"])
    assert space == {"regularization.l2": [0, 1e-4, 1e-3], "optimizer.name": ["adam", "sgd"],
                     "regularization.batchnorm": [True, False], "optimizer.learning_rate": [1e-3]}


@pytest.mark.parametrize("grid, kwargs, fragment", [
    (["dropout=2"], {}, "grid regularization.dropout=2"),
    (["unknown_key=1"], {}, "unknown key 'unknown_key'"),
    (["l2="], {}, "grid l2= has no values"),
    (["l2"], {}, "grid expects key=v1,v2"),
    (["optimizer=adam,adamx"], {}, "unknown optimizer 'adamx'"),
    (["l2=0,1e-3"], {"folds": 1}, "folds must be at least 2"),
    (["l2=1e-3"], {"search": "halving"}, "halving needs at least 2 candidates"),
    (["l2=1e-3"], {"search": "bayes"}, "search 'bayes'"),
    ([], {}, "search space is empty"),
])
def test_plan_errors(grid: list[str], kwargs: dict[str, Any], fragment: str) -> None:
    options = {"search": "grid", "n_iter": 5, "folds": 3, "seeds": 1, "eta": 3, "seed": 0, **kwargs}
    with pytest.raises(ConfigError) as info:
        make_plan(ExperimentConfig, ExperimentConfig().to_dict(), grid=grid, **options)
    assert fragment in str(info.value) and not str(info.value).startswith("--")


@pytest.mark.parametrize("kwargs, message, flag", [
    ({"folds": 1}, "folds must be at least 2, got 1", "--folds must be at least 2, got 1"),
    ({"n_iter": 0}, "n_iter must be at least 1, got 0", "--n-iter must be at least 1, got 0"),
    ({"search": "halving", "grid": ["l2=1"]}, "search halving needs at least 2 candidates; widen the grid",
     "--search halving needs at least 2 candidates; widen the --grid"),
])
def test_plan_errors_name_parameters_and_render_flags(kwargs: dict[str, Any], message: str, flag: str) -> None:
    """Python callers see parameter names; the CLI prints the same error as its flags."""
    options = {"grid": ["l2=0,1"], "search": "grid", "n_iter": 5, "folds": 3, "seeds": 1, "eta": 3, "seed": 0,
               **kwargs}
    with pytest.raises(ParameterError) as info:
        make_plan(ExperimentConfig, ExperimentConfig().to_dict(), **options)
    assert (str(info.value), info.value.as_flag()) == (message, flag)


def test_random_search_samples_without_repeats() -> None:
    plan = make_plan(ExperimentConfig, ExperimentConfig().to_dict(), grid=["l2=0,1,2,3", "dropout=0,0.1,0.2"],
                     search="random", n_iter=5, folds=2, seeds=1, eta=3, seed=3)
    assert len(plan.candidates) == 5
    assert len({tuple(c.values()) for c in plan.candidates}) == 5


def test_halving_rungs() -> None:
    plan = make_plan(ExperimentConfig, {**ExperimentConfig().to_dict(), "training": {"epochs": 27}},
                     grid=["l2=0,1,2", "dropout=0,0.1,0.2", "l1=0,0.5,1"], search="halving",
                     n_iter=1, folds=2, seeds=1, eta=3, seed=0)
    assert plan.rung_sizes() == [27, 9, 3, 2]
    assert plan.rung_epochs() == [1, 3, 9, 27]


class FakeTask:
    """A 'model' whose validation score is a known function of the config: l2 near 1e-3 and
    dropout near 0.3 are best; the score rises with epochs. Counts its fits."""

    metric = "accuracy"
    greater_is_better = True

    def __init__(self, fail_after: int | None = None, noise: float = 0.0) -> None:
        self.calls = 0
        self.fail_after = fail_after
        self.noise = noise

    def splits(self, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return stratified_kfold(np.array([0, 1] * 10), folds, seed)

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> RefitTrial:
        return RefitTrial(self.fit_score, config, train_idx, val_idx)

    def release(self) -> None:
        pass

    def fit_score(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> TrialResult:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        r = config.regularization
        score = 1 - abs(math.log10(r.l2 + 1e-6) + 3) * 0.1 - abs(r.dropout - 0.3) \
            - 0.5 / config.training.epochs
        rng = np.random.default_rng([config.training.seed, int(val_idx[0]), int(r.l2 * 1e6), int(r.dropout * 10)])
        score += self.noise * rng.normal()
        return TrialResult(score, config.training.epochs, config.training.epochs, 0.01,
                           {"val_accuracy": [score]})


def _spec(task: FakeTask) -> CVSpec:
    def refit(best: Any, folder: Path) -> dict[str, Any]:
        return {"run_dir": str(folder / "refit"), "metrics": {"test": {"accuracy": 0.5}}}

    return CVSpec(app="fake", config_cls=ExperimentConfig, task=task, refit=refit, data_source="fake")


def _plan(search: str = "grid", seeds: int = 1) -> Any:
    base = {**ExperimentConfig().to_dict(), "training": {**ExperimentConfig().training.model_dump(), "epochs": 9}}
    return base, make_plan(ExperimentConfig, base, grid=["l2=0,1e-3,1e-1", "dropout=0,0.3,0.6"],
                           search=search, n_iter=4, folds=3, seeds=seeds, eta=3, seed=0)


def test_grid_search_finds_the_known_best_and_writes_everything(tmp_path: Path) -> None:
    base, plan = _plan()
    task = FakeTask()
    result = run_cv(_spec(task), plan, base, runs_dir=tmp_path)
    assert result.best.params == {"regularization.l2": 1e-3, "regularization.dropout": 0.3}
    assert task.calls == 9 * 3
    run = result.run_dir
    rows = (run / "cv_results.csv").read_text().splitlines()
    assert len(rows) == 1 + 27
    summary = (run / "summary.csv").read_text().splitlines()
    assert len(summary) == 1 + 9 and summary[1].split(",")[-1] == "1"  # best row ranked 1
    assert "l2: 0.001" in (run / "best_config.yaml").read_text()
    for name in ("heatmap.png", "validation_curve_regularization_l2.png", "report.md", "report.html"):
        assert (run / name).is_file()


def test_interrupted_search_resumes_without_redoing_trials(tmp_path: Path) -> None:
    base, plan = _plan()
    with pytest.raises(KeyboardInterrupt):
        run_cv(_spec(FakeTask(fail_after=10)), plan, base, runs_dir=tmp_path)
    run_dir = next((tmp_path / "fake").iterdir())
    assert '"interrupted"' in (run_dir / "status.json").read_text()
    assert len((run_dir / "cv_results.csv").read_text().splitlines()) == 1 + 10
    task = FakeTask()
    result = run_cv(_spec(task), plan, base, runs_dir=tmp_path, resume=run_dir)
    assert task.calls == 27 - 10
    assert result.best.params["regularization.dropout"] == 0.3
    with pytest.raises(RunDirError, match="already finished"):
        run_cv(_spec(FakeTask()), plan, base, runs_dir=tmp_path, resume=run_dir)


def test_resume_with_another_space_is_refused(tmp_path: Path) -> None:
    base, plan = _plan()
    with pytest.raises(KeyboardInterrupt):
        run_cv(_spec(FakeTask(fail_after=2)), plan, base, runs_dir=tmp_path)
    run_dir = next((tmp_path / "fake").iterdir())
    _, other = _plan(search="random")
    with pytest.raises(RunDirError, match="different search space") as info:
        run_cv(_spec(FakeTask()), other, base, runs_dir=tmp_path, resume=run_dir)
    assert isinstance(info.value, ParameterError) and str(info.value).endswith(
        "resume it with the same grid, search, folds, seeds and flags")
    assert info.value.as_flag() == (f"{run_dir} was made with a different search space or settings; "
                                    "resume it with the same --grid, --search, --folds, --seeds and flags")
    with pytest.raises(RunDirError, match="not a regapps run directory"):
        run_cv(_spec(FakeTask()), plan, base, runs_dir=tmp_path, resume=tmp_path)


def test_resume_alone_continues_with_the_saved_search(tmp_path: Path) -> None:
    from regapps.shared.selection.runner import saved_search

    base, plan = _plan(search="halving")
    with pytest.raises(KeyboardInterrupt):
        run_cv(_spec(FakeTask(fail_after=5)), plan, base, runs_dir=tmp_path)
    run_dir = next((tmp_path / "fake").iterdir())
    saved_base, saved_plan = saved_search(run_dir, ExperimentConfig)
    assert saved_plan.candidates == plan.candidates and saved_plan.rung_epochs() == plan.rung_epochs()
    task = FakeTask()
    result = run_cv(_spec(task), saved_plan, saved_base, runs_dir=tmp_path, resume=run_dir)
    assert result.run_dir == run_dir and task.calls == plan.total_trials() - 5
    with pytest.raises(RunDirError, match="already finished"):
        saved_search(run_dir, ExperimentConfig)
    with pytest.raises(RunDirError, match="not a regapps run"):
        saved_search(tmp_path, ExperimentConfig)


def test_halving_spends_less_and_keeps_the_winner(tmp_path: Path) -> None:
    base, plan = _plan(search="halving")
    task = FakeTask()
    result = run_cv(_spec(task), plan, base, runs_dir=tmp_path)
    assert plan.rung_sizes() == [9, 3, 2] and plan.rung_epochs() == [1, 3, 9]
    assert task.calls == (9 + 3 + 2) * 3  # the fake task refits from scratch at every rung
    assert result.best.params == {"regularization.l2": 1e-3, "regularization.dropout": 0.3}


def test_seed_noise_is_reported(tmp_path: Path) -> None:
    base, plan = _plan(seeds=3)
    result = run_cv(_spec(FakeTask(noise=0.5)), plan, base, runs_dir=tmp_path)
    assert "within seed noise" in result.seed_note
    base, plan = _plan(seeds=2)
    quiet = run_cv(_spec(FakeTask(noise=0.0)), plan, base, runs_dir=tmp_path)
    assert "exceeds the seed noise" in quiet.seed_note
