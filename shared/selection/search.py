"""One search engine for grid, random and successive-halving search.

Candidates come from scikit-learn's ``ParameterGrid`` / ``ParameterSampler`` (space.py); splits
from scikit-learn's splitters (splitters.py). The engine runs every (candidate, fold, seed) of
each rung through a :class:`CVTask`, records each result the moment it finishes, and on resume
skips what is recorded. Halving trains every candidate for a few epochs, keeps the best
``1/eta``, and repeats with ``eta`` times the epochs until two remain, which get the full
budget (so the report can weigh the winner against the runner-up, seed noise included).

Halving is warm-started: a survivor's trial goes on from where its last rung stopped instead of
training again from scratch, and every trial's schedule is laid out for the full budget, so a
rung's score is the score the full-budget run has at that epoch (as in asynchronous successive
halving). A trial that is not in memory (a resumed search) is retrained from scratch to the
rung's epoch, which gives the same result.
"""
from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..config import ExperimentConfig, build_config
from ..errors import ConfigError
from ..model_pool import ModelPool
from .splitters import Split
from .trials import TrialStore, encode_param, param_column

if TYPE_CHECKING:  # pragma: no cover
    from .executors import Executor

log = logging.getLogger(__name__)


@dataclass
class TrialResult:
    score: float
    epochs_run: int
    best_epoch: int
    seconds: float = 0.0
    history: dict[str, list[Any]] | None = None


class Trial(Protocol):
    """One configuration training on one fold: ``advance(n)`` trains up to epoch ``n`` (going on
    from any earlier call) and scores the result on the fold's validation part."""

    def advance(self, epochs: int) -> TrialResult: ...


class CVTask(Protocol):
    """What the engine needs from an app; it never sees a concrete one."""

    metric: str
    greater_is_better: bool

    def splits(self, folds: int, seed: int) -> list[Split]: ...

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> Trial: ...

    def release(self) -> None:
        """Let go of anything the trials shared (compiled models): the search or variant is over."""
        ...


class FitJob(Protocol):
    """An app's model in training (for :class:`WarmTrial`): a :class:`~regapps.shared.training.Trainer`
    and a scorer for the fold's validation part."""

    trainer: Any

    def validate(self) -> dict[str, Any]: ...


class WarmTrial:
    """A trial that keeps its model between calls: each ``advance`` trains only the new epochs,
    then scores the best weights so far (training goes on from the last ones)."""

    def __init__(self, job: FitJob, metric: str):
        self.job, self.metric = job, metric

    def advance(self, epochs: int) -> TrialResult:
        trainer = self.job.trainer
        try:
            trainer.train_until(epochs)
            with trainer.best_weights():
                score = float(self.job.validate()[self.metric])
        finally:
            trainer.park()  # a pooled model goes back for the next trial; this one's state waits
        fit = trainer.result()
        return TrialResult(score, fit.epochs_run, fit.best_epoch, fit.seconds, fit.history)


class RefitTrial:
    """A trial for tasks that cannot go on training: each ``advance`` fits again from scratch
    with ``training.epochs`` set to the epochs asked for."""

    def __init__(self, fit_score: Callable[[Any, np.ndarray, np.ndarray], TrialResult], config: Any,
                 train_idx: np.ndarray, val_idx: np.ndarray):
        self.fit_score, self.config, self.train_idx, self.val_idx = fit_score, config, train_idx, val_idx

    def advance(self, epochs: int) -> TrialResult:
        return self.fit_score(self.config.with_training(epochs=epochs), self.train_idx, self.val_idx)


@dataclass
class SearchPlan:
    space: dict[str, list[Any]]
    candidates: list[dict[str, Any]]
    search: str  # grid | random | halving
    folds: int
    seeds: list[int]
    max_epochs: int
    eta: int = 3

    def rung_sizes(self) -> list[int]:
        if self.search != "halving":
            return [len(self.candidates)]
        if len(self.candidates) < 2:
            raise ConfigError("--search halving needs at least 2 candidates; widen the --grid")
        sizes = [len(self.candidates)]
        while sizes[-1] > 2:  # the last pair gets the full budget: winner against runner-up
            sizes.append(max(2, math.ceil(sizes[-1] / self.eta)))
        return sizes

    def rung_epochs(self) -> list[int | None]:
        """Epochs per rung; ``None`` keeps the config's own epochs (grid and random)."""
        sizes = self.rung_sizes()
        if self.search != "halving":
            return [None]
        last = len(sizes) - 1
        return [max(1, round(self.max_epochs / self.eta ** (last - r))) for r in range(len(sizes))]

    def total_trials(self) -> int:
        return sum(self.rung_sizes()) * self.folds * len(self.seeds)

    def describe(self) -> dict[str, Any]:
        return {"space": self.space, "search": self.search, "folds": self.folds, "seeds": self.seeds,
                "candidates": self.candidates, "max_epochs": self.max_epochs, "eta": self.eta}


Progress = Callable[[int, int, Mapping[str, Any]], None]
OnTrial = Callable[[Mapping[str, Any], TrialResult], None]  # a recorded trial, e.g. for MLflow


def trial_config(cls: type[ExperimentConfig], base: Mapping[str, Any], params: Mapping[str, Any],
                 seed: int, tensorboard_dir: Path | None = None) -> ExperimentConfig:
    values: dict[str, Any] = {**params, "training.seed": seed}  # a candidate's None is a value
    if tensorboard_dir is not None:
        values["training.tensorboard_dir"] = str(tensorboard_dir)
    return build_config(cls, base=base, values=values)


def trial_name(cand: int, fold: int, seed: int, rung: int = 0) -> str:
    """A trial's folder name (TensorBoard logs). A warm-started trial keeps its rung-0 name
    across rungs; one retrained from scratch at a later rung gets its own."""
    return f"c{cand}-f{fold}-s{seed}" + (f"-r{rung}" if rung else "")


def run_search(task: CVTask, cls: type[ExperimentConfig], base: Mapping[str, Any], plan: SearchPlan,
               store: TrialStore, *, splits: Sequence[Split], progress: Progress | None = None,
               on_trial: OnTrial | None = None, tensorboard_root: Path | None = None,
               executor: Executor | None = None) -> None:
    """Run every trial not yet in ``store``, rung by rung: here, one after the other (halving
    survivors go on training), or all trials of a rung at once on ``executor``'s processes.
    Each result is recorded the moment it comes back. The task's shared compiled models are let
    go at the end."""
    try:
        _run_rungs(task, cls, base, plan, store, splits=splits, progress=progress, on_trial=on_trial,
                   tensorboard_root=tensorboard_root, executor=executor)
    finally:
        task.release()


def _run_rungs(task: CVTask, cls: type[ExperimentConfig], base: Mapping[str, Any], plan: SearchPlan,
               store: TrialStore, *, splits: Sequence[Split], progress: Progress | None,
               on_trial: OnTrial | None, tensorboard_root: Path | None, executor: Executor | None) -> None:
    from .executors import TrialSpec

    done = store.done()
    alive = list(range(len(plan.candidates)))
    sizes, epochs_per_rung = plan.rung_sizes(), plan.rung_epochs()
    total, finished = plan.total_trials(), len(done)
    warm: dict[tuple[int, int, int], Trial] = {}  # (candidate, fold, seed) -> trial kept for the next rung

    def fresh_config(cand: int, rung: int, fold: int, seed: int) -> ExperimentConfig:
        board = tensorboard_root / trial_name(cand, fold, seed, rung) if tensorboard_root else None
        return trial_config(cls, base, plan.candidates[cand], seed, board)

    def record(key: tuple[int, int, int, int], budget: int, result: TrialResult, seconds: float) -> None:
        nonlocal finished
        cand, rung, fold, seed = key
        row = {"candidate": cand, "rung": rung, "fold": fold, "seed": seed, "epochs": budget,
               "score": float(result.score), "epochs_run": result.epochs_run,
               "best_epoch": result.best_epoch, "seconds": round(seconds, 3)}
        row.update({param_column(k): encode_param(v) for k, v in plan.candidates[cand].items()})
        store.add(row)
        if on_trial is not None:
            on_trial(row, result)
        finished += 1
        if progress is not None:
            progress(finished, total, row)

    for rung, epochs in enumerate(epochs_per_rung):
        more = rung + 1 < len(sizes)
        pending = [(cand, rung, fold, seed) for cand in alive for seed in plan.seeds
                   for fold in range(len(splits)) if store.key(cand, rung, fold, seed) not in done]
        configs = {key: fresh_config(*key) for key in pending}
        # the rung's epochs (halving), or the candidate's own (grid, random)
        budgets = {key: epochs if epochs is not None else configs[key].training.epochs for key in pending}
        if executor is not None:
            specs = [TrialSpec(key, configs[key], *splits[key[2]], budgets[key]) for key in pending]
            for item in executor.run(task, specs):
                record(item.spec.key, item.spec.epochs, item.result, item.seconds)
        else:
            for key in pending:
                cand, _, fold, seed = key
                start = time.perf_counter()
                trial = warm.pop((cand, fold, seed), None) or task.start(configs[key], *splits[fold])
                result = trial.advance(budgets[key])
                if more:
                    warm[(cand, fold, seed)] = trial
                record(key, budgets[key], result, time.perf_counter() - start)
        if more:
            alive = _top(store, alive, rung, sizes[rung + 1], task.greater_is_better)
            warm = {key: trial for key, trial in warm.items() if key[0] in alive}
            log.info("halving rung %d (%s epochs): %d candidates go on", rung, epochs, len(alive))


def _top(store: TrialStore, alive: Sequence[int], rung: int, keep: int, greater: bool) -> list[int]:
    means = {c: _mean(store.scores(c, rung)) for c in alive}
    ordered = sorted(alive, key=lambda c: (-means[c] if greater else means[c], c))
    return sorted(ordered[:keep])


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.fmean(finite) if finite else math.nan


@dataclass
class Summary:
    rows: list[dict[str, Any]]
    best: dict[str, Any]
    seed_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def summarize(plan: SearchPlan, store: TrialStore, greater: bool) -> Summary:
    """Per candidate at the last rung it reached: mean, std, 95% CI, rank (1 = best)."""
    from scipy import stats

    rows = []
    for cand, params in enumerate(plan.candidates):
        rungs = [r["rung"] for r in store.rows if r["candidate"] == cand]
        if not rungs:
            continue
        rung = max(rungs)
        scores = [s for s in store.scores(cand, rung) if math.isfinite(s)]
        n = len(scores)
        mean = statistics.fmean(scores) if scores else math.nan
        std = statistics.stdev(scores) if n > 1 else 0.0
        half = float(stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)) if n > 1 else math.nan
        epochs = [r["epochs"] for r in store.rows if r["candidate"] == cand and r["rung"] == rung]
        rows.append({"candidate": cand, **params, "rung": rung, "epochs": epochs[0], "n": n,
                     "mean": mean, "std": std, "ci95_low": mean - half, "ci95_high": mean + half})
    if not rows:
        raise ConfigError("no trial finished, so there is nothing to summarize")
    rows.sort(key=lambda r: (-r["rung"], math.inf if math.isnan(r["mean"]) else (-r["mean"] if greater else r["mean"])))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return Summary(rows, rows[0], _seed_note(plan, store, rows))


def _seed_note(plan: SearchPlan, store: TrialStore, rows: list[dict[str, Any]]) -> str:
    if len(plan.seeds) < 2 or len(rows) < 2 or rows[1]["rung"] != rows[0]["rung"]:
        return ""
    best, second = rows[0], rows[1]

    def seed_std(row: dict[str, Any]) -> float:
        per_seed = [_mean([r["score"] for r in store.rows if r["candidate"] == row["candidate"]
                           and r["rung"] == row["rung"] and r["seed"] == s]) for s in plan.seeds]
        return statistics.stdev(per_seed) if len(per_seed) > 1 else 0.0

    lead = abs(best["mean"] - second["mean"])
    noise = max(seed_std(best), seed_std(second))
    if lead <= noise:
        return (f"The winner's lead over the runner-up ({lead:.4f}) is within seed noise (the "
                f"score's standard deviation across seeds is up to {noise:.4f}): treat them as tied.")
    return f"The winner's lead over the runner-up ({lead:.4f}) exceeds the seed noise ({noise:.4f})."


class StratifiedCVTask:
    """A classification task for the engine: stratified k-fold over ``labels``; ``job(config,
    train_idx, val_idx, pool)`` makes the app's :class:`FitJob` (preprocessing fitted on the
    training indices inside it), training on a compiled model from ``pool`` (the task's own,
    shared by all its trials in this process: ``shared/model_pool.py``)."""

    metric = "accuracy"
    greater_is_better = True

    def __init__(self, labels: np.ndarray, job: Callable[[Any, np.ndarray, np.ndarray, ModelPool], FitJob]):
        self.labels = labels
        self.job = job
        self.pool = ModelPool()

    def splits(self, folds: int, seed: int) -> list[Split]:
        from .splitters import stratified_kfold

        return stratified_kfold(self.labels, folds, seed)

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> Trial:
        return WarmTrial(self.job(config, train_idx, val_idx, self.pool), self.metric)

    def release(self) -> None:
        """Let go of the compiled models this process's trials shared (the search is over)."""
        if len(self.pool):
            log.debug("the trials in this process trained on %d compiled model(s)", len(self.pool))
        self.pool.clear()
