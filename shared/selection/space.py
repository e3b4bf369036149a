"""Search spaces from ``--grid key=v1,v2`` flags or a config file's ``search`` mapping.

Keys are the dotted names ``--set`` takes (``optimizer.learning_rate``) or a short alias
(``learning_rate``). Every value is validated against the app's config class before anything
trains, so ``--grid dropout=2`` fails at once.
"""
from __future__ import annotations

import math
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Range:
    """A continuous (or, for an integer key, integer) range ``low..high``, sampled uniformly or
    on a log scale. Grid search cannot enumerate one; random and TPE search sample it."""

    low: float
    high: float
    log: bool = False

    def contains(self, value: Any) -> bool:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and self.low <= value <= self.high)

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log}

    def __str__(self) -> str:
        return f"{self.low:g}..{self.high:g}" + (":log" if self.log else "")


Dimension = list[Any] | Range
Space = dict[str, Dimension]
RANGE_KEYS = {"low", "high", "log"}


def parse_grid(items: Iterable[str], param: str = "grid") -> Space:
    """``["l2=0,1e-4", "lr=1e-4..1e-2:log"]`` -> ``{"regularization.l2": [0, 1e-4],
    "optimizer.learning_rate": Range(1e-4, 1e-2, log=True)}``. ``param`` names the flag in
    errors (``--grid`` or ``--space``: both take lists and ranges)."""
    space: Space = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(param, "{param} expects key=v1,v2,... or key=low..high, got {item!r}", item=item)
        name = canonical_key(key)
        if name in space:
            raise ParameterError(param, "{param} {key} is given twice", key=key)
        space[name] = _parse_dimension(param, key, raw.strip())
    return space


def _parse_dimension(param: str, key: str, raw: str) -> Dimension:
    if ".." in raw:
        body, _, suffix = raw.partition(":")
        if suffix not in ("", "log"):
            raise ParameterError(param, "{param} {key}={raw}: a range ends in nothing or ':log', not {suffix!r}",
                                 key=key, raw=raw, suffix=":" + suffix)
        low, _, high = body.partition("..")
        bounds = [parse_value(b.strip()) if b.strip() else None for b in (low, high)]
        return make_range(bounds[0], bounds[1], suffix == "log",
                          lambda why: ParameterError(param, "{param} {key}={raw}: {why}", key=key, raw=raw, why=why))
    values = [parse_value(v.strip()) for v in raw.split(",") if v.strip()]
    if not values:
        raise ParameterError(param, "{param} {key}= has no values", key=key)
    return _dedupe(values)


def make_range(low: Any, high: Any, log: Any, error: Callable[[str], ConfigError]) -> Range:
    """A checked :class:`Range`; ``error(why)`` makes the exception for a bad one."""
    if low is None or high is None:
        raise error("a range needs both bounds: low..high")
    if not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in (low, high)):
        raise error("range bounds must be numbers")
    if not isinstance(log, bool):
        raise error("log must be true or false")
    if low == high:
        raise error(f"the range is empty; give one value as a list ({low})")
    if low > high:
        raise error(f"the range is reversed: {low} > {high}")
    if log and low <= 0:
        raise error("a ':log' range needs bounds > 0")
    return Range(low, high, log)


def space_from_mapping(mapping: Any) -> Space:
    """A config file's ``search:`` section: keys to lists of values, or to ranges
    ``{low: 1e-4, high: 1e-2, log: true}``."""
    if not isinstance(mapping, Mapping):
        raise ConfigError("search: expected a mapping of keys to lists of values "
                          f"(search: {{l2: [0, 1e-4]}}), not {shape_of(mapping)}")
    space: Space = {}
    for key, values in mapping.items():
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"search: keys are dotted names or aliases such as l2, not {key!r}")
        name = canonical_key(key.strip())
        if name in space:
            raise ConfigError(f"search: {name} is given twice")
        space[name] = dimension_from_value(values, f"search.{key}")
    return space


def dimension_from_value(values: Any, where: str) -> Dimension:
    """A list, a ``{low, high, log}`` mapping, a :class:`Range` or a ``"low..high:log"`` string."""
    if isinstance(values, Range):
        return values
    if isinstance(values, str) and ".." in values:
        return _parse_dimension("space", where, values)
    if isinstance(values, Mapping):
        unknown = sorted(set(map(str, values)) - RANGE_KEYS)
        if unknown:
            raise ConfigError(f"{where}: a range takes low, high and log, not {unknown[0]!r}")
        return make_range(values.get("low"), values.get("high"), values.get("log", False),
                          lambda why: ConfigError(f"{where}: {why}"))
    if not isinstance(values, (list, tuple)):
        raise ConfigError(f"{where}: expected a list of values ([a, b]) or a range "
                          f"({{low: a, high: b, log: true}}), not {shape_of(values)}")
    if not values:
        raise ConfigError(f"{where}: the search space key has no values")
    return _dedupe(list(values))


def in_dimension(dim: Dimension, value: Any) -> bool:
    return dim.contains(value) if isinstance(dim, Range) else value in dim


def space_to_json(space: Space) -> dict[str, Any]:
    return {k: v.to_dict() if isinstance(v, Range) else v for k, v in space.items()}


def describe_space(space: Space) -> list[str]:
    """``["regularization.l2=1e-06..0.01:log", "optimizer.name=adam,rmsprop"]``."""
    return [f"{k}={v}" if isinstance(v, Range) else f"{k}=" + ",".join(map(str, v)) for k, v in space.items()]


def _dedupe(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def key_kind(cls: type[ExperimentConfig], key: str) -> str:
    """``int``, ``float`` or ``categorical``: what a dotted key's field holds (None allowed);
    ``unknown`` for no such field (building the config names it)."""
    model: Any = cls
    annotation: Any = None
    for part in key.split("."):
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return "unknown"
        annotation = model = field.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    if any(a is bool for a in args):
        return "categorical"
    if any(a is float for a in args):
        return "float"
    if any(a is int for a in args):
        return "int"
    return "categorical"


def validate_space(cls: type[ExperimentConfig], base: Mapping[str, Any], space: Mapping[str, Dimension],
                   label: str | None = None, param: str = "grid") -> None:
    """Build the config once per (key, value), and at both bounds of a range, so a bad value
    fails before any training (a value is set as given: ``null`` is a value, not "not given").
    A range must fit its key: numbers for a number field, integers for an integer one, none for
    a categorical one. ``label`` names where the space came from in errors (``search:``, a
    saved plan); None: the ``param`` flag."""
    if not space:
        raise ParameterError(param, "the search space is empty: give at least one {param} key=v1,v2")

    def fail(text: str, cause: Exception | None = None) -> ConfigError:
        return ParameterError(param, "{param} {error}", error=text) if label is None else ConfigError(f"{label} {text}")

    for key, values in space.items():
        if isinstance(values, Range):
            kind = key_kind(cls, key)
            if kind == "categorical":
                raise fail(f"{key}={values}: {key} takes one of a list of values, not a range")
            if kind == "int" and not all(float(b).is_integer() for b in (values.low, values.high)):
                raise fail(f"{key}={values}: {key} is an integer; give integer bounds")
            values = [values.low, values.high]
        for value in values:
            try:
                build_config(cls, base=base, values={key: value})
            except ConfigError as exc:
                raise fail(str(exc)) from exc


def candidates(space: Mapping[str, Dimension], search: str, n_iter: int, seed: int,
               kinds: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The configurations to try: the full grid (grid, halving) or a seeded sample (random;
    ranges sampled uniformly or log-uniformly, integer keys as integers: ``kinds``)."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    ranged = [k for k, v in space.items() if isinstance(v, Range)]
    if search != "random":
        if ranged:
            raise ParameterError("search", "{param} {search} cannot enumerate the range {key}={range}; give a "
                                 "list of values, or {param} random or tpe", search=search, key=ranged[0],
                                 range=space[ranged[0]])
        grid = list(ParameterGrid({k: list(v) for k, v in space.items()}))  # type: ignore[arg-type]
        return [{k: c[k] for k in space} for c in grid]  # keep the user's key order
    if not ranged:
        lists = {k: list(v) for k, v in space.items()}  # type: ignore[arg-type]
        if n_iter >= len(ParameterGrid(lists)):
            return candidates(space, "grid", n_iter, seed)
        return [{k: c[k] for k in space} for c in ParameterSampler(lists, n_iter=n_iter, random_state=seed)]
    kinds = kinds or {}
    dists = {k: _Sampled(v, kinds.get(k) == "int") if isinstance(v, Range) else list(v)
             for k, v in space.items()}
    return [{k: c[k] for k in space} for c in ParameterSampler(dists, n_iter=n_iter, random_state=seed)]


class _Sampled:
    """A scipy-like distribution (``rvs``) over a :class:`Range`, for ParameterSampler."""

    def __init__(self, bounds: Range, integer: bool):
        self.bounds, self.integer = bounds, integer

    def rvs(self, random_state: Any) -> float | int:
        b = self.bounds
        lo, hi = (b.low - 0.5, b.high + 0.5) if self.integer else (b.low, b.high)  # integers equally wide
        if b.log:
            lo, hi = max(lo, b.low / 2), hi  # keep a log range's bounds > 0
            value = math.exp(random_state.uniform(math.log(lo), math.log(hi)))
        else:
            value = random_state.uniform(lo, hi)
        return int(min(b.high, max(b.low, round(value)))) if self.integer else clip(tidy(float(value)), b)


def clip(value: float, bounds: Range) -> float:
    return min(bounds.high, max(bounds.low, value))


def tidy(value: Any) -> Any:
    """A sampled float to 4 significant digits (readable configs; far below any score's noise)."""
    if isinstance(value, float) and value != 0 and math.isfinite(value):
        return float(f"{value:.4g}")
    return value
