"""``cv --time-budget``: a wall-clock budget for a whole search. Before each group of trials the
engine asks whether it fits; the estimate comes from the trials finished so far (their recorded
seconds at the same rung, or at a shorter one scaled by epochs), and a share is kept back for
the refit of the winner. A group that would overrun is not started; with no finished trial yet
there is nothing to estimate from, so the first group always starts."""
from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence

from .trials import TrialStore


class Budget:
    """``minutes`` from now on ``clock``."""

    def __init__(self, minutes: float, *, clock: Callable[[], float] = time.monotonic):
        self.minutes = minutes
        self.clock = clock
        self.deadline = clock() + minutes * 60
        self.stopped = False  # set when a group was refused

    def fits(self, seconds: float | None, refit: float | None) -> bool:
        """Whether work estimated at ``seconds`` (None: no estimate yet) and the refit still fit."""
        if seconds is None:
            return not self.stopped
        fits = self.clock() + seconds + (refit or 0.0) <= self.deadline
        self.stopped = self.stopped or not fits
        return fits


def trial_seconds(store: TrialStore, rung: int, rung_epochs: Sequence[int]) -> float | None:
    """Expected seconds of one trial at ``rung``: the mean of those recorded there, else the
    nearest shorter rung's scaled by epochs (a trial retrained from scratch: an upper bound)."""
    for r in range(rung, -1, -1):
        seconds = [row["seconds"] for row in store.rows if row["rung"] == r]
        if seconds:
            return statistics.fmean(seconds) * rung_epochs[rung] / max(1, rung_epochs[r])
    return None


def wall_seconds(per_trial: Sequence[tuple[float | None, int]], workers: int) -> float | None:
    """Wall time of groups of ``(seconds per trial, trials)`` run one group after another on
    ``workers`` workers; None when any group has no estimate."""
    total = 0.0
    for seconds, count in per_trial:
        if seconds is None:
            return None
        total += seconds * math.ceil(count / max(1, workers))
    return total
