"""One search engine for grid, random and successive-halving search.

Candidates come from scikit-learn's ``ParameterGrid`` / ``ParameterSampler`` (space.py); splits
from scikit-learn's splitters (splitters.py). The engine runs every (candidate, fold, seed) of
each rung through a :class:`CVTask`, records each result the moment it finishes, and on resume
skips what is recorded. Halving trains every candidate for a few epochs, keeps the best
``1/eta``, and repeats with ``eta`` times the epochs until two remain, which get the full
budget (so the report can weigh the winner against the runner-up, seed noise included).

Trials run on an :class:`~.protocols.Executor`. On the sequential one (the default) halving is
warm-started: a survivor's trial goes on from where its last rung stopped instead of training
again from scratch, and every trial's schedule is laid out for the full budget, so a
rung's score is the score the full-budget run has at that epoch (as in asynchronous successive
halving). A trial that is not in memory (a resumed search, a worker process) is retrained from
scratch to the rung's epoch, which gives the same result. The engine sees apps only through the
protocols (protocols.py); the adapters apps build tasks from live in adapters.py.
"""
from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ExperimentConfig, build_config
from ..errors import ConfigError
from .budget import Budget, trial_seconds, wall_seconds
from .plan import SearchPlan
from .protocols import CVTask, Executor, OnTrial, Progress, TrialKey, TrialResult, TrialSpec
from .sequential import SequentialExecutor
from .splitters import Split
from .trials import TrialStore, encode_param, param_column

log = logging.getLogger(__name__)


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
               executor: Executor | None = None, budget: Budget | None = None) -> None:
    """Run every trial not yet in ``store``, rung by rung, on ``executor`` (by default a
    :class:`SequentialExecutor`: here, one after the other, halving survivors going on
    training). Each result is recorded the moment it comes back. With ``budget``, no group of
    trials starts that would not finish inside it (``budget.stopped`` tells). The task's shared
    compiled models are let go at the end, and the executor too when it is the default one."""
    own = executor is None
    runner = SequentialExecutor() if executor is None else executor
    engine = _Engine(task, cls, base, plan, store, splits, progress, on_trial, tensorboard_root, runner, budget)
    try:
        if plan.adaptive:
            from .adaptive import run_adaptive

            run_adaptive(engine)
        else:
            engine.run_rungs()
    finally:
        if own:
            runner.close()
        task.release()


@dataclass
class _Engine:
    """What one search runs with; the rung loop here, the ask-and-tell loop in adaptive.py."""

    task: CVTask
    cls: type[ExperimentConfig]
    base: Mapping[str, Any]
    plan: SearchPlan
    store: TrialStore
    splits: Sequence[Split]
    progress: Progress | None
    on_trial: OnTrial | None
    tensorboard_root: Path | None
    executor: Executor
    budget: Budget | None
    finished: int = 0

    def __post_init__(self) -> None:
        self.finished = len(self.store.rows)
        self.epochs = [e or self.plan.max_epochs for e in self.plan.rung_epochs()]
        self.workers = max(1, int(getattr(self.executor, "workers", 1)))

    def trials_of(self, cands: Sequence[int], rung: int) -> list[TrialKey]:
        return [(c, rung, fold, seed) for c in cands for seed in self.plan.seeds for fold in range(len(self.splits))]

    def run(self, keys: Sequence[TrialKey], epochs: int | None, keep: bool) -> None:
        """Train and record the trials ``keys`` not recorded yet: the rung's ``epochs``, or
        (None) each config's own."""
        done = self.store.done()
        pending = [k for k in keys if k not in done]
        configs = {key: self.config(key) for key in pending}
        specs = [TrialSpec(key, configs[key], *self.splits[key[2]],
                           epochs if epochs is not None else configs[key].training.epochs, keep=keep)
                 for key in pending]
        for item in self.executor.run(self.task, specs):
            self.record(item.spec.key, item.spec.epochs, item.result, item.seconds)

    def config(self, key: TrialKey) -> ExperimentConfig:
        cand, rung, fold, seed = key
        board = self.tensorboard_root / trial_name(cand, fold, seed, rung) if self.tensorboard_root else None
        return trial_config(self.cls, self.base, self.plan.candidates[cand], seed, board)

    def record(self, key: TrialKey, budget: int, result: TrialResult, seconds: float) -> None:
        cand, rung, fold, seed = key
        row: dict[str, Any] = {"candidate": cand, "rung": rung, "fold": fold, "seed": seed, "epochs": budget,
                               "score": float(result.score), "epochs_run": result.epochs_run,
                               "best_epoch": result.best_epoch, "seconds": round(seconds, 3)}
        row.update({param_column(k): encode_param(v) for k, v in self.plan.candidates[cand].items()})
        self.store.add(row)
        if self.on_trial is not None:
            self.on_trial(row, result)
        self.finished += 1
        if self.progress is not None:
            self.progress(self.finished, self.plan.total_trials(), row)

    def fits(self, cands: Sequence[int], rungs: Sequence[int]) -> bool:
        """Whether the unrecorded trials of ``cands`` at ``rungs`` fit the budget, the refit kept back."""
        if self.budget is None:
            return True
        done = self.store.done()
        groups = [(trial_seconds(self.store, r, self.epochs), sum(k not in done for k in self.trials_of(cands, r)))
                  for r in rungs]
        last = trial_seconds(self.store, len(self.epochs) - 1, self.epochs)
        refit = None if last is None else last * self.plan.folds / (self.plan.folds - 1)
        return self.budget.fits(wall_seconds([g for g in groups if g[1]], self.workers), refit)

    def forget(self, cands: Sequence[int]) -> None:
        self.executor.forget((c, fold, seed) for c in cands for seed in self.plan.seeds
                             for fold in range(len(self.splits)))

    def mean(self, cand: int, rung: int) -> float:
        return _mean(self.store.scores(cand, rung))

    def run_rungs(self) -> None:
        """Grid, random and halving: each rung's candidates in groups as wide as the executor
        (with a budget, checked before each group; without, the whole rung at once)."""
        plan = self.plan
        alive = list(range(len(plan.candidates)))
        sizes, epochs_per_rung = plan.rung_sizes(), plan.rung_epochs()
        for rung, epochs in enumerate(epochs_per_rung):
            more = rung + 1 < len(sizes)  # a later rung may go on with this rung's trials
            width = len(alive) if self.budget is None else max(1, math.ceil(self.workers / len(self.trials_of([0], 0))))
            for at in range(0, len(alive), width):
                group = alive[at:at + width]
                if not self.fits(group, [rung]):
                    log.warning("time budget: %d of %d trials finished; resume the run to go on",
                                len(self.store.rows), plan.total_trials())
                    return
                self.run(self.trials_of(group, rung), epochs, more)
            if more:
                kept = _top(self.store, alive, rung, sizes[rung + 1], self.task.greater_is_better)
                self.forget([c for c in alive if c not in kept])
                alive = kept
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
