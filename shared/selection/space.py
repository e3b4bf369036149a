"""Search spaces from ``--grid key=v1,v2`` flags or a config file's ``search`` mapping.

Keys are the dotted names ``--set`` takes (``optimizer.learning_rate``) or a short alias
(``learning_rate``). Every value is validated against the app's config class before anything
trains, so ``--grid dropout=2`` fails at once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..config import ExperimentConfig, build_config, parse_value, shape_of
from ..errors import ConfigError, ParameterError

ALIASES = {
    "l1": "regularization.l1", "l2": "regularization.l2", "dropout": "regularization.dropout",
    "batchnorm": "regularization.batchnorm", "optimizer": "optimizer.name",
    "learning_rate": "optimizer.learning_rate", "lr": "optimizer.learning_rate",
    "weight_decay": "optimizer.weight_decay", "momentum": "optimizer.momentum",
    "schedule": "schedule.name", "batch_size": "training.batch_size",
    "epochs": "training.epochs", "label_smoothing": "training.label_smoothing",
}


def canonical_key(key: str) -> str:
    return ALIASES.get(key, key)


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["l2=0,1e-4", "optimizer=adam,sgd"]`` -> ``{"regularization.l2": [0, 1e-4], ...}``."""
    space: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError("grid", "{param} expects key=v1,v2,..., got {item!r}", item=item)
        values = [parse_value(v.strip()) for v in raw.split(",") if v.strip()]
        if not values:
            raise ParameterError("grid", "{param} {key}= has no values", key=key)
        name = canonical_key(key)
        if name in space:
            raise ParameterError("grid", "{param} {key} is given twice", key=key)
        space[name] = _dedupe(values)
    return space


def space_from_mapping(mapping: Any) -> dict[str, list[Any]]:
    """A config file's ``search: {key: [values]}`` section: a mapping of keys to lists."""
    if not isinstance(mapping, Mapping):
        raise ConfigError("search: expected a mapping of keys to lists of values "
                          f"(search: {{l2: [0, 1e-4]}}), not {shape_of(mapping)}")
    space: dict[str, list[Any]] = {}
    for key, values in mapping.items():
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"search: keys are dotted names or aliases such as l2, not {key!r}")
        if not isinstance(values, list):
            raise ConfigError(f"search.{key}: expected a list of values ({key}: [a, b]), "
                              f"not {shape_of(values)}")
        if not values:
            raise ConfigError(f"search space key {key!r} has no values")
        name = canonical_key(key.strip())
        if name in space:
            raise ConfigError(f"search: {name} is given twice")
        space[name] = _dedupe(values)
    return space


def _dedupe(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def validate_space(cls: type[ExperimentConfig], base: Mapping[str, Any],
                   space: Mapping[str, list[Any]], label: str | None = None) -> None:
    """Build the config once per (key, value) so a bad value fails before any training (a value
    is set as given: ``null`` is a value, not "not given"). ``label`` names where the space came
    from in errors (``search:``, a saved plan); None: the ``grid`` parameter."""
    if not space:
        raise ParameterError("grid", "the search space is empty: give at least one {param} key=v1,v2")
    for key, values in space.items():
        for value in values:
            try:
                build_config(cls, base=base, values={key: value})
            except ConfigError as exc:
                if label is None:
                    raise ParameterError("grid", "{param} {error}", error=str(exc)) from exc
                raise ConfigError(f"{label} {exc}") from exc


def candidates(space: Mapping[str, list[Any]], search: str, n_iter: int, seed: int) -> list[dict[str, Any]]:
    """The configurations to try: the full grid (grid, halving) or a seeded sample (random)."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    grid = list(ParameterGrid({k: list(v) for k, v in space.items()}))
    ordered = [{k: c[k] for k in space} for c in grid]  # keep the user's key order
    if search == "random":
        if n_iter >= len(ordered):
            return ordered
        sampled = list(ParameterSampler({k: list(v) for k, v in space.items()}, n_iter=n_iter,
                                        random_state=seed))
        return [{k: c[k] for k in space} for c in sampled]
    return ordered

