"""The sequential executor keeps a trial the engine may continue and lets go of the others."""
from __future__ import annotations

from typing import Any

import numpy as np
from regapps.shared.selection.executors import SequentialExecutor, make_executor
from regapps.shared.selection.protocols import TrialResult, TrialSpec


class Counting:
    """A trial whose score is the epochs it has trained so far."""

    def __init__(self) -> None:
        self.epochs = 0

    def advance(self, epochs: int) -> TrialResult:
        self.epochs = epochs
        return TrialResult(float(epochs), epochs, epochs)


class Task:
    metric, greater_is_better = "accuracy", True

    def __init__(self) -> None:
        self.started: list[Counting] = []

    def splits(self, folds: int, seed: int) -> list[Any]:
        return []

    def start(self, config: Any, train_idx: np.ndarray, val_idx: np.ndarray) -> Counting:
        self.started.append(Counting())
        return self.started[-1]

    def release(self) -> None:
        pass


def _spec(cand: int, rung: int, epochs: int, keep: bool) -> TrialSpec:
    return TrialSpec((cand, rung, 0, 0), None, np.arange(2), np.arange(2, 4), epochs, keep=keep)


def test_survivors_go_on_and_the_rest_are_let_go() -> None:
    task, executor = Task(), make_executor("sequential")
    assert isinstance(executor, SequentialExecutor)
    first = list(executor.run(task, [_spec(c, 0, 2, keep=True) for c in range(3)]))
    assert [f.result.score for f in first] == [2.0] * 3 and len(task.started) == 3
    assert all(f.seconds >= 0 for f in first)
    last = list(executor.run(task, [_spec(1, 1, 6, keep=False)]))  # candidate 1 survived
    assert len(task.started) == 3 and task.started[1].epochs == 6 and last[0].result.epochs_run == 6
    assert set(executor._kept) == {(0, 0, 0), (2, 0, 0)}  # kept until the engine drops them
    executor.forget([(0, 0, 0), (2, 0, 0)])
    assert executor._kept == {}  # the last rung keeps nothing


def test_only_the_next_rung_continues_a_kept_trial() -> None:
    task, executor = Task(), SequentialExecutor()
    list(executor.run(task, [_spec(0, 0, 2, keep=True)]))
    list(executor.run(task, [_spec(0, 0, 2, keep=True)]))  # a new search's rung 0: from scratch
    assert len(task.started) == 2
    list(executor.run(Task(), [_spec(0, 1, 6, keep=False)]))  # another task: from scratch
    assert task.started[1].epochs == 2
    list(executor.run(task, [_spec(0, 0, 2, keep=True)]))
    executor.close()
    list(executor.run(task, [_spec(0, 1, 6, keep=False)]))
    assert len(task.started) == 4  # closed: nothing kept
