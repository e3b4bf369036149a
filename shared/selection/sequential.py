"""The ``sequential`` executor: trials in this process, one after the other. It is the engine's
default, so it lives apart from the process executors (executors.py re-exports it)."""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence

from .protocols import CVTask, Finished, Trial, TrialSpec


class SequentialExecutor:
    """Runs each trial here and keeps those the engine may continue (``spec.keep``), so a halving
    survivor goes on training at the next rung instead of training again from scratch. A kept
    trial is let go when the engine :meth:`forget` s it (its candidate was dropped or pruned),
    or when a later rung of it is asked for from scratch."""

    name = "sequential"
    workers = 1

    def __init__(self) -> None:
        self._task: CVTask | None = None
        self._kept: dict[tuple[int, int, int], tuple[int, Trial]] = {}  # lineage -> (rung, trial)

    def run(self, task: CVTask, specs: Sequence[TrialSpec]) -> Iterator[Finished]:
        if task is not self._task:
            self.close()
            self._task = task
        # go on only from the rung just before
        follows = {spec.lineage: spec.rung - 1 for spec in specs}
        self._kept = {k: v for k, v in self._kept.items() if follows.get(k, v[0]) == v[0]}
        for spec in specs:
            start = time.perf_counter()
            kept = self._kept.pop(spec.lineage, None)
            trial = kept[1] if kept else task.start(spec.config, spec.train_idx, spec.val_idx)
            result = trial.advance(spec.epochs)
            if spec.keep:
                self._kept[spec.lineage] = (spec.rung, trial)
            yield Finished(spec, result, time.perf_counter() - start)

    def forget(self, lineages: Iterable[tuple[int, int, int]]) -> None:
        """Let go of the kept trials of these (candidate, fold, seed): they will not go on."""
        for lineage in lineages:
            self._kept.pop(lineage, None)

    def close(self) -> None:
        """Let go of every kept trial."""
        self._kept.clear()
        self._task = None
