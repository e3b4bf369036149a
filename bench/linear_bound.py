"""How much a series' past can tell at all: ridge regression on the LSTM's own inputs, as a bound.

For a backtest's test window (``predictions.csv``: one row per origin, the last horizon step),
two ridge regressions of the target ``horizon`` steps ahead on the last ``lookback`` rows of the
target and its ``--features`` columns plus the sine and cosine of the target time's calendar
cycles (day of year; hour of day for sub-daily data):
- ``ridge_past``: fit once on the history before the first origin (reads no later row), a
  forecaster of the LSTM's kind, linear;
- ``ridge_oracle``: fit on the test window itself, answers included. No forecaster that reads only
  the past is expected to do much better than this linear fit that reads the future.
Each is reported as its MAE over the best baseline's MAE (naive, seasonal naive, drift) on the
same rows, beside the LSTM's, so the ratios read like the backtest's skill ratio.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

BASELINES = ("naive", "seasonal_naive", "drift")
ALPHAS = np.logspace(-3, 4, 15)


def _calendar(dates: pd.DatetimeIndex) -> np.ndarray:
    year = 2 * np.pi * (dates.day_of_year.to_numpy() - 1) / 365.25
    cycles = [np.sin(year), np.cos(year), np.sin(2 * year), np.cos(2 * year)]
    steps = np.diff(dates.asi8)
    if len(steps) and np.median(steps) < pd.Timedelta(days=1).value:
        day = 2 * np.pi * (dates.hour.to_numpy() + dates.minute.to_numpy() / 60) / 24
        cycles += [np.sin(day), np.cos(day), np.sin(2 * day), np.cos(2 * day)]
    return np.column_stack(cycles)


def _design(frame: pd.DataFrame, horizon: int, lookback: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows t with a full window: X = lags 0..lookback-1 of every column at t + calendar at t+h; y = target[t+h]."""
    values = frame.to_numpy(dtype=np.float64)
    n = len(values)
    t = np.arange(lookback - 1, n - horizon)
    lags = np.concatenate([values[t - k] for k in range(lookback)], axis=1)
    dates = pd.DatetimeIndex(frame.index)
    x = np.concatenate([lags, _calendar(dates[t + horizon])], axis=1)
    return x, values[t + horizon, 0], t


def ridge_bounds(frame: pd.DataFrame, predictions: pd.DataFrame, horizon: int, lookback: int) -> dict[str, Any]:
    """``frame``: the series (first column the target, then its features) indexed by date.
    ``predictions``: the backtest's predictions.csv."""
    frame = frame.dropna()
    x, y, t = _design(frame, horizon, lookback)
    index = {d: i for i, d in enumerate(pd.DatetimeIndex(frame.index))}
    origins = np.array([index.get(pd.Timestamp(d), -1) for d in predictions["origin_date"]])
    rows = {int(o): i for i, o in enumerate(t)}
    keep = np.array([o in rows for o in origins])
    test = np.array([rows[int(o)] for o in origins[keep]])
    pred = predictions.loc[keep]
    actual = pred["actual"].to_numpy(dtype=np.float64)
    if not np.allclose(actual, y[test]):
        raise ValueError("predictions.csv does not line up with the series")
    past = t + horizon < origins[keep].min()  # targets observed before the first origin

    def fit(rows_: np.ndarray) -> Any:
        return make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS)).fit(x[rows_], y[rows_])

    best_mae = min(float(np.mean(np.abs(actual - pred[b].to_numpy()))) for b in BASELINES)

    def ratio(forecast: np.ndarray) -> float:
        return float(np.mean(np.abs(actual - forecast))) / best_mae

    return {"n": int(keep.sum()), "lstm": ratio(pred["lstm"].to_numpy(dtype=np.float64)),
            "ridge_past": ratio(fit(np.flatnonzero(past)).predict(x[test])),
            "ridge_oracle": ratio(fit(test).predict(x[test]))}
