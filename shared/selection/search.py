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
from ..errors import ConfigError, ParameterError
from .protocols import CVTask, Executor, OnTrial, Progress, TrialKey, TrialResult, TrialSpec
from .sequential import SequentialExecutor
from .splitters import Split
from .trials import TrialStore, encode_param, param_column

log = logging.getLogger(__name__)


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
            raise ParameterError("search", "{param} halving needs at least 2 candidates; widen the {grid}")
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
    """Run every trial not yet in ``store``, rung by rung, on ``executor`` (by default a
    :class:`SequentialExecutor`: here, one after the other, halving survivors going on
    training). Each result is recorded the moment it comes back. The task's shared compiled
    models are let go at the end, and the executor too when it is the default one."""
    own = executor is None
    runner = SequentialExecutor() if executor is None else executor
    try:
        _run_rungs(task, cls, base, plan, store, splits=splits, progress=progress, on_trial=on_trial,
                   tensorboard_root=tensorboard_root, executor=runner)
    finally:
        if own:
            runner.close()
        task.release()


def _run_rungs(task: CVTask, cls: type[ExperimentConfig], base: Mapping[str, Any], plan: SearchPlan,
               store: TrialStore, *, splits: Sequence[Split], progress: Progress | None,
               on_trial: OnTrial | None, tensorboard_root: Path | None, executor: Executor) -> None:
    done = store.done()
    alive = list(range(len(plan.candidates)))
    sizes, epochs_per_rung = plan.rung_sizes(), plan.rung_epochs()
    total, finished = plan.total_trials(), len(done)

    def fresh_config(cand: int, rung: int, fold: int, seed: int) -> ExperimentConfig:
        board = tensorboard_root / trial_name(cand, fold, seed, rung) if tensorboard_root else None
        return trial_config(cls, base, plan.candidates[cand], seed, board)

    def record(key: TrialKey, budget: int, result: TrialResult, seconds: float) -> None:
        nonlocal finished
        cand, rung, fold, seed = key
        row: dict[str, Any] = {"candidate": cand, "rung": rung, "fold": fold, "seed": seed, "epochs": budget,
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
        more = rung + 1 < len(sizes)  # a later rung may go on with this rung's trials
        pending = [(cand, rung, fold, seed) for cand in alive for seed in plan.seeds
                   for fold in range(len(splits)) if store.key(cand, rung, fold, seed) not in done]
        configs = {key: fresh_config(*key) for key in pending}
        # the rung's epochs (halving), or the candidate's own (grid, random)
        specs = [TrialSpec(key, configs[key], *splits[key[2]],
                           epochs if epochs is not None else configs[key].training.epochs, keep=more)
                 for key in pending]
        for item in executor.run(task, specs):
            record(item.spec.key, item.spec.epochs, item.result, item.seconds)
        if more:
            alive = _top(store, alive, rung, sizes[rung + 1], task.greater_is_better)
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
