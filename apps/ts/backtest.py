"""Walk-forward backtest with an expanding window, baselines, scores and intervals.

Origins are consecutive rows at the end of the series. The model is refitted every
``refit_every`` origins on everything up to that origin and forecasts from each origin until the
next refit; baselines are recomputed at every origin from data up to it. Nothing after an origin
is ever read to make the forecast from that origin.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from regapps.shared.errors import DataError

from .config import TsConfig
from .features import ROLL, Prepared, first_window_end
from .metrics import diebold_mariano, point_metrics, standardized_residuals
from .model import MIN_TRAIN, MIN_VAL
from .probabilistic import (
    Distribution,
    ewma_scale,
    garch_method,
    historical_method,
    scaled_residual_method,
    score_distributions,
)

log = logging.getLogger(__name__)

MODEL = "lstm"
BASELINES = ("naive", "seasonal_naive", "drift", "moving_average")
SKILL_BASELINES = ("naive", "seasonal_naive", "drift")  # the LSTM's skill is against the best
MIN_TEST = 10


class Forecaster(Protocol):
    def fit(self, prep: Prepared, origin: int) -> dict[str, Any]: ...
    def predict(self, prep: Prepared, origins: np.ndarray) -> np.ndarray: ...


@dataclass
class Backtest:
    origins: np.ndarray  # row indices of the forecast origins
    paths: dict[str, np.ndarray]  # method -> (n, H) cumulative change of y from the origin
    lower: np.ndarray  # (n, H) model interval in y, NaN before enough residuals exist
    upper: np.ndarray
    metrics: dict[str, dict[str, Any]]
    interval_coverage: float | None
    interval_n: int
    mase_scale: float
    seasonal_scale: float
    refits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    distributions: dict[str, Distribution] = field(default_factory=dict)
    probabilistic: dict[str, Any] = field(default_factory=dict)


def min_history(prep: Prepared, config: TsConfig) -> int:
    """The first row that can be a forecast origin (enough windows to train and validate)."""
    horizon, share = config.model.horizon, config.training.validation_split
    n = MIN_TRAIN + MIN_VAL + horizon - 1
    while n - max(MIN_VAL, int(round(n * share))) - (horizon - 1) < MIN_TRAIN:
        n += 1
    return max(first_window_end(prep, config.model.lookback) + n - 1 + horizon, prep.season)


def plan_origins(prep: Prepared, config: TsConfig) -> tuple[np.ndarray, list[str]]:
    """The test origins: the last ``test_size`` rows that still have ``horizon`` rows after them,
    shrunk (with a note) when the series is too short for the requested size."""
    m, size = config.model, config.backtest.test_size
    last = len(prep) - 1 - m.horizon
    earliest = min_history(prep, config)
    notes: list[str] = []
    if last - earliest + 1 < MIN_TEST:
        need = earliest + MIN_TEST + m.horizon
        raise DataError(f"the series has {len(prep)} rows; lookback {m.lookback} and horizon "
                        f"{m.horizon} need at least {need} (feature warm-up, training and "
                        f"validation windows, {MIN_TEST} test origins); use a longer series or "
                        "a smaller --lookback")
    if last - size + 1 < earliest:
        size = last - earliest + 1
        notes.append(f"series too short for --test-size {config.backtest.test_size}; "
                     f"using the last {size} origins")
    return np.arange(last - size + 1, last + 1), notes


def baseline_paths(prep: Prepared, origins: np.ndarray, horizon: int, ma_window: int) -> dict[str, np.ndarray]:
    steps = np.arange(1, horizon + 1)[None, :]
    m = prep.season
    back = steps - m * np.ceil(steps / m).astype(int)  # the same point of the last observed season
    seasonal = prep.y[origins[:, None] + back] - prep.y[origins][:, None]
    drift = (prep.y[origins] - prep.y[0]) / origins  # mean change per row up to the origin
    csum = np.concatenate([[0.0], np.cumsum(prep.level)])
    lo = np.maximum(origins + 1 - ma_window, 0)
    moving = (csum[origins + 1] - csum[lo]) / (origins + 1 - lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma_change = prep.to_y(moving) - prep.y[origins]
    return {"naive": np.zeros((len(origins), horizon)),
            "seasonal_naive": seasonal,
            "drift": drift[:, None] * steps,
            "moving_average": np.repeat(ma_change[:, None], horizon, axis=1)}


@dataclass
class WalkForward:
    steps: np.ndarray  # (n, H) forecast one-step changes from each origin
    refits: list[dict[str, Any]]
    scale: np.ndarray | None = None  # (n, H) scale of the cumulative changes (scale model)
    val_z: np.ndarray | None = None  # the first fit's standardized validation residuals


def walk_forward(prep: Prepared, origins: np.ndarray, refit_every: int,
                 make_forecaster: Callable[[], Forecaster]) -> WalkForward:
    """Forecasts from each origin, refitting every ``refit_every`` origins, with the
    forecaster's scales of the cumulative changes when it has a scale model."""
    blocks, scales, refits, val_z = [], [], [], None
    for start in range(0, len(origins), refit_every):
        block = origins[start:start + refit_every]
        forecaster = make_forecaster()
        refits.append(forecaster.fit(prep, int(block[0])))
        blocks.append(forecaster.predict(prep, block))
        if getattr(forecaster, "scale_model", None) is not None:
            scales.append(forecaster.predict_scale(prep, block))  # type: ignore[attr-defined]
            if val_z is None:
                val_z = forecaster.val_z  # type: ignore[attr-defined]
    scale = np.concatenate(scales, axis=0) if len(scales) == len(blocks) else None
    return WalkForward(np.concatenate(blocks, axis=0), refits, scale, val_z if scale is not None else None)


def run_backtest(prep: Prepared, config: TsConfig,
                 make_forecaster: Callable[[], Forecaster]) -> Backtest:
    m, b = config.model, config.backtest
    origins, notes = plan_origins(prep, config)
    horizon = m.horizon
    log.info("walk-forward: %d origins from %s to %s, refit every %d", len(origins),
             prep.stamp(int(origins[0])), prep.stamp(int(origins[-1])), b.refit_every)
    wf = walk_forward(prep, origins, b.refit_every, make_forecaster)
    refits = wf.refits
    paths = {MODEL: np.cumsum(wf.steps, axis=1),
             **baseline_paths(prep, origins, horizon, b.ma_window)}
    dists = distributions(prep, origins, paths[MODEL], wf, config, notes)
    lower, upper = dists["ewma"].lower, dists["ewma"].upper
    mase_scale = in_sample_naive_mae(prep, int(origins[0]), horizon)
    seasonal_scale = in_sample_naive_mae(prep, int(origins[0]), prep.season)
    metrics = score(prep, origins, paths, horizon, mase_scale, seasonal_scale)
    y_true = prep.y[origins + horizon]
    has = np.isfinite(lower[:, -1])
    covered = (lower[has, -1] <= y_true[has]) & (y_true[has] <= upper[has, -1])
    coverage = float(covered.mean()) if has.any() else None
    return Backtest(origins=origins, paths=paths, lower=lower, upper=upper, metrics=metrics,
                    interval_coverage=coverage, interval_n=int(has.sum()), mase_scale=mase_scale,
                    seasonal_scale=seasonal_scale, refits=refits, notes=notes, distributions=dists,
                    probabilistic=score_distributions(prep, origins, dists, b.interval_level,
                                                      np.asarray(b.quantiles)))


def ewma_prefix(prep: Prepared, first_origin: int, horizon: int, val_z: np.ndarray | None) -> np.ndarray | None:
    """The EWMA method's residuals known before the first origin, as many as the LSTM's
    validation residuals (so both start from an equal pool): naive's changes over the EWMA
    volatility at the rows whose ``horizon`` steps end by the first origin."""
    if val_z is None:
        return None
    ends = np.arange(max(ROLL + 1, first_origin - horizon - len(val_z) + 1), first_origin - horizon + 1)
    if len(ends) == 0:
        return None
    return standardized_residuals(prep.y, ends, np.zeros((len(ends), horizon)), ewma_scale(prep, ends, horizon))


def distributions(prep: Prepared, origins: np.ndarray, path: np.ndarray, wf: WalkForward,
                  config: TsConfig, notes: list[str]) -> dict[str, Distribution]:
    """Every method's distribution forecast (:mod:`.probabilistic`) around the LSTM's path."""
    b, horizon = config.backtest, config.model.horizon
    taus = np.asarray(b.quantiles)
    out: dict[str, Distribution] = {}
    if wf.scale is not None:
        out["lstm"] = scaled_residual_method(prep, origins, path, wf.scale, b.interval_level,
                                             b.min_residuals, b.adapt_rate, wf.val_z, taus)
    out["ewma"] = scaled_residual_method(prep, origins, path, ewma_scale(prep, origins, horizon), b.interval_level,
                                         b.min_residuals, b.adapt_rate,
                                         ewma_prefix(prep, int(origins[0]), horizon, wf.val_z), taus)
    try:
        out["garch"] = garch_method(prep, origins, horizon, b.interval_level, b.refit_every, taus)
    except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:  # arch's optimiser gave up
        notes.append(f"GARCH(1,1) could not be fitted ({exc}); its scores are left out")
    out["historical"] = historical_method(prep, origins, horizon, b.interval_level, taus)
    return out


def in_sample_naive_mae(prep: Prepared, first_origin: int, horizon: int) -> float:
    """MAE of the naive h-step forecast on ``y`` over the rows before the test (MASE's scale);
    with ``horizon`` = the season, seasonal naive's one-season MAE (seasonal MASE's scale)."""
    y = prep.y[:first_origin + 1]
    value = float(np.mean(np.abs(y[horizon:] - y[:-horizon])))
    if not value > 0:
        raise DataError("the series is constant before the test window; MASE is undefined")
    return value


def score(prep: Prepared, origins: np.ndarray, paths: dict[str, np.ndarray], horizon: int,
          mase_scale: float, seasonal_scale: float | None = None) -> dict[str, dict[str, Any]]:
    """Metrics at the last horizon step for every method; DM test of each against naive."""
    y0 = prep.y[origins]
    y_true = prep.y[origins + horizon]
    level_true = prep.level[origins + horizon]
    naive_err = y_true - (y0 + paths["naive"][:, -1])
    out: dict[str, dict[str, Any]] = {}
    for name, path in paths.items():
        y_fc = y0 + path[:, -1]
        with np.errstate(over="ignore", invalid="ignore"):
            level_fc = prep.to_level(y_fc)
        row = point_metrics(level_true, level_fc, y_true, y_fc, y0, mase_scale)
        if seasonal_scale:
            row["mase_seasonal"] = float(np.mean(np.abs(y_true - y_fc))) / seasonal_scale
        if name == "naive":
            row["dm_stat"], row["dm_p_value"] = None, None
        else:
            row["dm_stat"], row["dm_p_value"] = diebold_mariano(y_true - y_fc, naive_err, horizon)
        out[name] = row
    return out


def skill_ratio(metrics: dict[str, dict[str, Any]]) -> tuple[float | None, str | None]:
    """The LSTM's MASE over the best of naive, seasonal naive and drift (< 1: skill), and which."""
    scores = {m: metrics[m]["mase"] for m in SKILL_BASELINES if metrics.get(m, {}).get("mase")}
    lstm = metrics.get(MODEL, {}).get("mase")
    if not scores or lstm is None:
        return None, None
    best = min(scores, key=lambda m: scores[m])
    return float(lstm / scores[best]), best
