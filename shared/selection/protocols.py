"""What the parts of cv selection agree on, and nothing else: the engine (search.py), the
executors (executors.py, sequential.py) and the apps' tasks (adapters.py and apps/*/cv.py) meet
here and never import one another."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .splitters import Split


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
    """An app's model in training (for :class:`~.adapters.WarmTrial`): a
    :class:`~regapps.shared.training.Trainer` and a scorer for the fold's validation part."""

    trainer: Any

    def validate(self) -> dict[str, Any]: ...


TrialKey = tuple[int, int, int, int]  # (candidate, rung, fold, seed)


@dataclass
class TrialSpec:
    """One (candidate, rung, fold, seed) trial to train up to ``epochs``. ``keep``: the engine
    asks for the same (candidate, fold, seed) at the next rung if the candidate survives, so an
    executor that keeps trials in memory may go on training this one then; others retrain from
    scratch, which gives the same result."""

    key: TrialKey
    config: Any
    train_idx: np.ndarray
    val_idx: np.ndarray
    epochs: int
    keep: bool = False

    @property
    def rung(self) -> int:
        return self.key[1]

    @property
    def lineage(self) -> tuple[int, int, int]:
        """(candidate, fold, seed): the same trial across rungs."""
        cand, _, fold, seed = self.key
        return cand, fold, seed


@dataclass
class Finished:
    spec: TrialSpec
    result: TrialResult
    seconds: float  # the trial's own wall time, where it ran


class Executor(Protocol):
    """Runs the trials of one rung; the engine records each as it is yielded."""

    name: str

    @property
    def workers(self) -> int:
        """Trials it runs at once."""
        ...

    def run(self, task: CVTask, specs: Sequence[TrialSpec]) -> Iterator[Finished]:
        """Run ``specs``; yield each as it finishes (in any order)."""
        ...

    def forget(self, lineages: Iterable[tuple[int, int, int]]) -> None:
        """The engine will not continue these (candidate, fold, seed) trials: let go of any kept."""
        ...

    def close(self) -> None: ...


Progress = Callable[[int, int, Mapping[str, Any]], None]
OnTrial = Callable[[Mapping[str, Any], TrialResult], None]  # a recorded trial, e.g. for MLflow
