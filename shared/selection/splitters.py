"""Splitters that yield index arrays and know nothing of models (scikit-learn's own)."""
from __future__ import annotations

import numpy as np

from ..errors import ConfigError

Split = tuple[np.ndarray, np.ndarray]


def stratified_kfold(y: np.ndarray, folds: int, seed: int) -> list[Split]:
    """Shuffled, stratified K folds; every class appears in every validation fold."""
    from sklearn.model_selection import StratifiedKFold

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    counts = np.bincount(np.asarray(y))
    smallest = int(counts[counts > 0].min())
    if folds > smallest:
        raise ConfigError(f"--folds {folds} is larger than the smallest class ({smallest} samples)")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def walk_forward(n: int, folds: int, gap: int, min_train: int) -> list[Split]:
    """Expanding-window folds in time order with ``gap`` samples dropped before each validation
    block, so no input window straddles the boundary. Training always precedes validation."""
    from sklearn.model_selection import TimeSeriesSplit

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    try:
        splits = list(TimeSeriesSplit(n_splits=folds, gap=gap).split(np.zeros(n)))
    except ValueError as exc:
        raise ConfigError(f"{n} samples are too few for {folds} walk-forward folds with a gap of {gap}") from exc
    if len(splits[0][0]) < min_train:
        raise ConfigError(f"the first walk-forward fold would train on {len(splits[0][0])} samples; "
                          f"at least {min_train} are needed: use fewer --folds")
    return splits
