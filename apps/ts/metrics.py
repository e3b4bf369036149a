"""Forecast scores: point errors, MASE, directional accuracy with a binomial test, the
Diebold-Mariano test, and prediction intervals from walk-forward residuals.

Scales: MAE, RMSE and MAPE are on the series' own scale (prices) at the evaluated horizon;
MASE is on ``y`` (log prices for positive series), divided by the in-sample MAE of the naive
forecast at the same horizon, so it is scale-free even for a series that grew a hundredfold.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def point_metrics(level_true: np.ndarray, level_fc: np.ndarray, y_true: np.ndarray,
                  y_fc: np.ndarray, y_origin: np.ndarray, mase_scale: float) -> dict[str, Any]:
    from scipy.stats import binomtest

    err = level_fc - level_true
    nonzero = level_true != 0
    mape = 100 * float(np.mean(np.abs(err[nonzero]) / np.abs(level_true[nonzero]))) if nonzero.any() else math.nan
    true_move, fc_move = np.sign(y_true - y_origin), np.sign(y_fc - y_origin)
    called = (true_move != 0) & (fc_move != 0)  # a zero forecast calls no direction
    n_dir = int(called.sum())
    hits = int((true_move[called] == fc_move[called]).sum())
    return {
        "mae": _finite(float(np.mean(np.abs(err)))),
        "rmse": _finite(float(np.sqrt(np.mean(err ** 2)))),
        "mape": _finite(mape),
        "mase": _finite(float(np.mean(np.abs(y_true - y_fc))) / mase_scale),
        "directional_accuracy": hits / n_dir if n_dir else None,
        "directional_n": n_dir,
        # one-sided: H1 is "calls the direction better than a coin"
        "directional_p_value": float(binomtest(hits, n_dir, 0.5, alternative="greater").pvalue) if n_dir else None,
        "n": int(len(err)),
    }


def diebold_mariano(e_model: np.ndarray, e_bench: np.ndarray, horizon: int) -> tuple[float | None, float | None]:
    """DM test of equal squared-error loss (see :func:`dm_test`). A negative statistic means the
    model's errors are smaller than the benchmark's."""
    return dm_test(e_model ** 2 - e_bench ** 2, horizon)


def dm_test(d: np.ndarray, horizon: int) -> tuple[float | None, float | None]:
    """Diebold-Mariano test that the loss differential ``d`` (model minus benchmark) has mean
    zero, with the Harvey-Leybourne-Newbold correction and a rectangular HAC variance over
    ``horizon - 1`` lags; Student t with n - 1 df, two-sided. Negative: the model's loss is lower."""
    from scipy.stats import t as student_t

    n = len(d)
    if n < 10 or not np.any(d):
        return None, None
    centred = d - d.mean()
    gammas = [float(np.dot(centred[k:], centred[:n - k]) / n) for k in range(min(horizon, n - 1))]
    var = (gammas[0] + 2 * sum(gammas[1:])) / n
    if var <= 0:
        var = gammas[0] / n
    if var <= 0:
        return None, None
    stat = float(d.mean() / math.sqrt(var))
    stat *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return stat, float(2 * student_t.sf(abs(stat), n - 1))


def standardized_residuals(y: np.ndarray, origins: np.ndarray, paths: np.ndarray,
                           scale: np.ndarray) -> np.ndarray:
    """``z[i, k-1] = (y[o+k] - y[o] - path[i, k-1]) / scale[i, k-1]`` for origin ``o``: forecast
    errors in units of the scale forecast at the origin for the change to step ``k``."""
    horizon = paths.shape[1]
    steps = np.arange(1, horizon + 1)
    actual = y[origins[:, None] + steps[None, :]] - y[origins][:, None]
    return (actual - paths) / scale


def walk_forward_bands(z: np.ndarray, level: float, min_residuals: int, gamma: float = 0.0,
                       prefix: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per origin ``i`` and step ``k``: empirical quantiles of the residuals ``z[j, k]`` already
    observed at origin ``i`` (``j + k <= i`` for consecutive origins); NaN until
    ``min_residuals`` of them exist.

    With ``gamma > 0`` the miscoverage rate adapts online (adaptive conformal inference, Gibbs &
    Candes 2021): ``a <- a + gamma * (1 - level - miss)``, where ``miss`` is the outcome of the
    origin whose target has just been observed. Persistent misses widen the band, persistent
    hits narrow it, so long-run coverage tracks the nominal level even when the residuals' shape
    drifts. ``prefix`` (m, H): residuals known before the first origin (a fit's validation tail),
    pooled with the walk-forward ones. Returns (lower, upper, the adapted level per step after
    the last origin)."""
    n, horizon = z.shape
    before = np.empty((0, horizon)) if prefix is None else prefix
    lo, hi = np.full((n, horizon), np.nan), np.full((n, horizon), np.nan)
    target = 1.0 - level
    final = np.full(horizon, level)
    for k in range(1, horizon + 1):
        col = z[:, k - 1]
        rate = target
        miss = np.full(n, np.nan)
        for i in range(n):
            j = i - k  # the origin whose k-step outcome is y[origin i]: observed now
            if gamma > 0 and j >= 0 and not np.isnan(miss[j]):
                rate += gamma * (target - miss[j])
            known = max(0, i - k + 1)  # residuals z[0 .. i-k] are complete at origin i
            if known + len(before) >= min_residuals:
                a = float(np.clip(rate, 1e-3, 1 - 1e-3))
                pool = np.concatenate([before[:, k - 1], col[:known]])
                lo[i, k - 1], hi[i, k - 1] = np.quantile(pool, [a / 2, 1 - a / 2])
                miss[i] = float(not lo[i, k - 1] <= col[i] <= hi[i, k - 1])
        for j in range(max(0, n - k), n):  # outcomes observed after the last origin
            if gamma > 0 and not np.isnan(miss[j]):
                rate += gamma * (target - miss[j])
        final[k - 1] = 1.0 - float(np.clip(rate, 1e-3, 1 - 1e-3))
    return lo, hi, final


def final_bands(z: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of every walk-forward residual per step (at that step's adapted level), for a
    forecast after the data's end."""
    lo, hi = np.empty(z.shape[1]), np.empty(z.shape[1])
    for k in range(z.shape[1]):
        a = 1.0 - levels[k]
        lo[k], hi[k] = np.nanquantile(z[:, k], [a / 2, 1 - a / 2])
    return lo, hi
