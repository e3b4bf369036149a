"""Time-series PNGs: the backtest (actual vs forecasts with the interval band) and the forecast
(recent history and the forecast band). Written atomically, matplotlib's Agg backend."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from regapps.shared.runs import atomic_path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, plt: Any, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def backtest(dates: Any, actual: np.ndarray, forecasts: dict[str, np.ndarray], lower: np.ndarray,
             upper: np.ndarray, path: Path, title: str, level: float) -> Path:
    """Top: actual and each method's forecast for the target dates, with the model's band.
    Bottom: cumulative absolute error minus naive's; a line falling below 0 beats the random walk."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    top.fill_between(dates, lower, upper, color="tab:blue", alpha=0.15, linewidth=0,
                     label=f"lstm {level:.0%} interval")
    top.plot(dates, actual, color="black", linewidth=1.0, label="actual")
    naive_err = np.abs(forecasts["naive"] - actual) if "naive" in forecasts else 0.0
    for name, values in forecasts.items():
        top.plot(dates, values, linewidth=0.8, alpha=0.9, label=name)
        if name != "naive":
            bottom.plot(dates, np.nancumsum(np.abs(values - actual) - naive_err), linewidth=1.0, label=name)
    bottom.axhline(0.0, color="black", linewidth=0.6)
    top.set_title(title)
    top.legend(fontsize=8, ncol=3)
    top.grid(alpha=0.3)
    bottom.set_ylabel("cum. |error| - naive's")
    bottom.legend(fontsize=8, ncol=4)
    bottom.grid(alpha=0.3)
    return _save(fig, plt, path)


def forecast(history_dates: Any, history: np.ndarray, dates: Any, values: np.ndarray,
             lower: np.ndarray, upper: np.ndarray, path: Path, title: str, level: float) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(history_dates, history, color="black", linewidth=1.0, label="history")
    join_d = [history_dates[-1], *dates]
    ax.plot(join_d, [history[-1], *values], color="tab:blue", marker=".", label="forecast")
    ax.fill_between(join_d, [history[-1], *lower], [history[-1], *upper], color="tab:blue",
                    alpha=0.2, linewidth=0, label=f"{level:.0%} interval")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, plt, path)


def probabilistic(levels: list[float], reliability: dict[str, list[float]], dates: Any,
                  widths: dict[str, np.ndarray], path: Path, title: str, level: float) -> Path:
    """Left: reliability diagram, each method's observed coverage of its central intervals
    against the nominal level (on the diagonal = calibrated). Right: the width of each method's
    interval at ``level`` over the test window, in units of ``y``, 20-origin rolling mean."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.6]})
    left.plot([0, 1], [0, 1], color="black", linewidth=0.6)
    for name, observed in reliability.items():
        left.plot(levels, observed, marker="o", markersize=3, linewidth=1.0, label=name)
    left.set_xlabel("nominal coverage")
    left.set_ylabel("observed coverage")
    left.set_title("reliability (last horizon step)")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    for name, width in widths.items():
        rolled = pd.Series(width).rolling(20, min_periods=1).mean().to_numpy()
        right.plot(dates, rolled, linewidth=1.0, label=name)
    right.set_title(f"{title}: {level:.0%} interval width")
    right.legend(fontsize=8, ncol=4)
    right.grid(alpha=0.3)
    return _save(fig, plt, path)
