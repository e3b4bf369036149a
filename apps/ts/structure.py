"""What kind of series this is, decided from the data before the test window: its seasonal
period (for seasonal naive and the calendar inputs) and the transform the model works in.

- Season: candidates follow the timestamps' spacing (hourly: a day or a week; daily: a week or a
  year; business days: a week or a year of sessions; weekly: a year; monthly: a year; ...); the
  one whose seasonal-naive forecast has the smaller in-sample error wins. ``--season N`` pins it.
- Transform: a series that reverts to its (seasonal) mean, which the Lo-MacKinlay variance ratio
  shows as ``Var(y[t+k] - y[t]) << k Var(y[t+1] - y[t])``, is modelled on its ``level`` (the model
  sees the level and predicts changes); a wandering positive series (prices) on log returns; any
  other on differences. Temperatures revert (variance ratio near 0.1 at a month), prices do not
  (0.4 to 1.2 on every window of AAPL, MSFT and SPY from 250 to 2,500 days).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from regapps.shared.errors import DataParameterError

log = logging.getLogger(__name__)

REVERTING_VR = 0.25  # variance ratio below this (and significant) = mean-reverting
REVERTING_P = 0.05
VR_LAG = 30  # rows over which reversion is judged (at most a tenth of the history)
MIN_JUDGED = 20  # values needed to judge reversion at all (a lag of at least 2)
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Structure:
    season: int
    season_reason: str
    transform: str  # "log", "diff" or "level"
    transform_reason: str
    calendar: tuple[tuple[str, float], ...]  # (name, period in days) of the calendar inputs


# calendar cycle (name, period in days) per candidate season of each spacing
YEAR = ("day_of_year", 365.25)
CYCLES = {"intraday": [("time_of_day", 1.0), ("day_of_week", 7.0)],
          "business-daily": [("day_of_week", 7.0), YEAR], "daily": [("day_of_week", 7.0), YEAR],
          "weekly": [YEAR], "monthly": [YEAR], "quarterly": [YEAR], "sparse": []}


def season_candidates(dates: pd.DatetimeIndex) -> tuple[list[int], str]:
    """Seasonal periods (rows) the spacing suggests, and a word for the spacing."""
    step = pd.Series(dates[-min(len(dates), 200):]).diff().median()
    if step <= 1.5 * HOUR:
        per_day = max(1, round(DAY / step))
        return [per_day, 7 * per_day], "intraday"
    if step <= 1.5 * DAY:
        if bool((dates.dayofweek < 5).all()):
            return [5, 252], "business-daily"
        return [7, 365], "daily"
    if step <= 8 * DAY:
        return [52], "weekly"
    if step <= 32 * DAY:
        return [12], "monthly"
    if step <= 95 * DAY:
        return [4], "quarterly"
    return [], "sparse"


def calendar_cycles(dates: pd.DatetimeIndex, season: int) -> tuple[tuple[str, float], ...]:
    """The calendar cycles given to a mean-reverting series' model: the one of its season (and
    the shorter ones below it) and the year when the history spans two of them."""
    candidates, spacing = season_candidates(dates)
    cycles = CYCLES[spacing]
    chosen = [c for m, c in zip(candidates, cycles, strict=False) if m <= season]
    span_days = (dates[-1] - dates[0]) / DAY
    if span_days >= 2 * 365 and YEAR not in chosen:
        chosen.append(YEAR)
    return tuple(chosen)


def infer_season(dates: pd.DatetimeIndex, y: np.ndarray, history: int, requested: int | None,
                 where: str) -> tuple[int, str]:
    """The seasonal period over the first ``history`` rows (the data before the test window)."""
    if requested is not None:
        if requested >= history // 2:
            raise DataParameterError("season", "{param} " + str(requested) + " is longer than half "
                                     f"the {history} rows before the test window of {where}; give a "
                                     "shorter season or a longer series")
        return requested, "given by --season"
    candidates, spacing = season_candidates(dates[:history])
    fits = [(m, float(np.mean(np.abs(y[m:history] - y[:history - m])))) for m in candidates
            if m < history // 2]
    if not fits:
        return 1, f"{spacing} spacing, no seasonal period fits the history"
    best, _ = min(fits, key=lambda f: f[1])
    errors = ", ".join(f"{m}: {e:.4g}" for m, e in fits)
    return best, (f"{spacing} spacing; the period with the smaller in-sample seasonal-naive MAE "
                  f"({errors})")


def variance_ratio(y: np.ndarray, lag: int) -> tuple[float, float]:
    """Lo-MacKinlay variance ratio at ``lag`` (overlapping, heteroskedasticity-robust) and the
    p-value of its test against a random walk (from the ``arch`` package)."""
    from arch.unitroot import VarianceRatio

    test = VarianceRatio(y, lags=lag, trend="c", overlap=True, robust=True)
    return float(test.vr), float(test.pvalue)


def choose_transform(y: np.ndarray, history: int, requested: str, where: str,
                     season: int = 1) -> tuple[str, str]:
    """``(transform, reason)`` from the first ``history`` values (see the module docstring).
    Reversion is judged over a whole number of seasons, so a daily cycle is not mistaken for it."""
    part = y[:history]
    positive = bool(np.all(y > 0))
    if requested == "log" and not positive:
        raise DataParameterError("transform", "{where} has values <= 0, so log returns are undefined; "
                                 "use {param} diff or level", where=where)
    if requested != "auto":
        return requested, "given by --transform"
    lag = season * math.ceil(VR_LAG / season)
    if lag > len(part) // 10:  # too few seasons to judge over whole ones
        lag = min(VR_LAG, max(2, len(part) // 10))
    if len(part) >= MIN_JUDGED and np.std(np.diff(part)) > 0:
        vr, p = variance_ratio(part, lag)
        if math.isfinite(vr) and vr < REVERTING_VR and p < REVERTING_P:
            return "level", (f"mean-reverting: variance ratio {vr:.3f} at lag {lag} (p = {p:.2g}), "
                             f"below {REVERTING_VR}")
        judged = f"variance ratio {vr:.3f} at lag {lag}: not mean-reverting"
    else:
        judged = "too short to judge reversion"
    if positive:
        return "log", f"{judged}; positive, so log returns"
    return "diff", f"{judged}; has values <= 0, so differences"


def calendar_inputs(dates: pd.DatetimeIndex, cycles: tuple[tuple[str, float], ...]) -> dict[str, np.ndarray]:
    """Sine and cosine of each cycle's phase at every row: known from the timestamp alone."""
    days = (dates - pd.Timestamp("2000-01-01")) / DAY
    days = np.asarray(days, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    for name, period in cycles:
        phase = 2 * np.pi * days / period
        out[f"{name}_sin"], out[f"{name}_cos"] = np.sin(phase), np.cos(phase)
    return out


def describe(dates: pd.DatetimeIndex, y: np.ndarray, history: int, *, transform: str,
             season: int | None, where: str) -> Structure:
    """The series' structure judged on its first ``history`` rows."""
    history = max(2, min(history, len(y)))
    period, season_why = infer_season(dates, y, history, season, where)
    kind, why = choose_transform(y, history, transform, where, period)
    calendar = calendar_cycles(dates[:history], period) if kind == "level" else ()
    log.debug("%s: transform %s (%s); season %d (%s)", where, kind, why, period, season_why)
    return Structure(season=period, season_reason=season_why, transform=kind, transform_reason=why,
                     calendar=calendar)
