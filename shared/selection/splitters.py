"""Splitters that yield index arrays and know nothing of models (scikit-learn's own). They take
``folds >= 2`` as given: the plan checks it (runner.make_plan), and scikit-learn refuses fewer."""
from __future__ import annotations

import numpy as np

from ..checks import check_classes
from ..errors import ParameterError

Split = tuple[np.ndarray, np.ndarray]


def stratified_kfold(y: np.ndarray, folds: int, seed: int) -> list[Split]:
    """Shuffled, stratified K folds; every class appears in every validation fold."""
    from sklearn.model_selection import StratifiedKFold

    check_classes(y, [])
    counts = np.bincount(np.asarray(y))
    smallest = int(counts[counts > 0].min())
    if folds > smallest:
        raise ParameterError("folds", "{param} {k} is larger than the smallest class ({smallest} samples)",
                             k=folds, smallest=smallest)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def walk_forward(n: int, folds: int, gap: int, min_train: int) -> list[Split]:
    """Expanding-window folds in time order with ``gap`` samples dropped before each validation
    block, so no input window straddles the boundary. Training always precedes validation."""
    from sklearn.model_selection import TimeSeriesSplit

    # equal validation blocks at the end, as large as n / (folds + 1) when the history allows,
    # shrunk so that the first fold still trains on at least min_train samples
    block = min(n // (folds + 1), (n - gap - min_train) // folds)
    if block < 1:
        raise ParameterError("folds", "{n} samples are too few for {k} walk-forward folds: each needs "
                             "{min_train} training samples and a gap of {gap}; use fewer {param}",
                             n=n, k=folds, min_train=min_train, gap=gap)
    return list(TimeSeriesSplit(n_splits=folds, gap=gap, test_size=block).split(np.zeros(n)))
