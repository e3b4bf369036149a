"""From a cleaned series to model inputs, with nothing computed from the future.

Every feature at row ``t`` uses rows ``<= t`` only (point-wise ratios and trailing windows), so
one matrix serves every forecast origin; scaling is fitted per refit on the rows before the
origin (:class:`Scaler`). The target is the change of ``y`` = log(price) (log returns) or of the
raw value (``diff``; ``level`` adds the value itself and the calendar cycles as inputs, for a
mean-reverting series); :mod:`.structure` chooses which from the history before the test window.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .data import EXOG, TsData
from .structure import Structure, calendar_inputs, describe

ROLL = 20  # trailing window for realised volatility and the volume baseline
EPS = 1e-12


@dataclass
class Prepared:
    dates: pd.DatetimeIndex
    level: np.ndarray  # the series as given (prices)
    y: np.ndarray  # log(level) or level
    ret: np.ndarray  # y[t] - y[t-1]; NaN at t = 0
    features: np.ndarray  # (N, F) float64, NaN where a trailing window is not yet full
    feature_names: list[str]
    transform: str  # "log", "diff" or "level"
    start: int  # first row where every feature is defined
    sigma: np.ndarray  # EWMA volatility of ret known at t (causal), NaN before it is defined
    structure: Structure | None = None

    @property
    def season(self) -> int:
        return self.structure.season if self.structure else 1

    @cached_property
    def intraday(self) -> bool:
        """Whether any timestamp has a time of day (hourly data): dates are then written with it."""
        return bool((self.dates.normalize() != self.dates).any())

    def stamp(self, row: int) -> str:
        """Row ``row``'s timestamp as text: the date, and the time for intraday series."""
        return stamp(self.dates[row], self.intraday)

    def __len__(self) -> int:
        return len(self.y)

    def to_level(self, y: np.ndarray) -> np.ndarray:
        return np.exp(y) if self.transform == "log" else y

    def to_y(self, level: np.ndarray) -> np.ndarray:
        return np.log(level) if self.transform == "log" else level


def stamp(when: pd.Timestamp, intraday: bool) -> str:
    return when.strftime("%Y-%m-%d %H:%M" if intraday else "%Y-%m-%d")


def history_rows(n_rows: int, test_size: int, horizon: int) -> int:
    """Rows before the backtest's test window (at least half the series), where the series'
    structure is judged: the test window never informs the choice."""
    return max(n_rows // 2, n_rows - test_size - horizon)


def prepare(data: TsData, transform: str = "auto", ewma_lambda: float = 0.94, *,
            season: int | None = None, history: int | None = None) -> Prepared:
    frame = data.frame
    level = data.values
    structure = describe(data.dates, level, history or len(level), transform=transform,
                         season=season, where=data.source)
    kind = structure.transform
    y = np.log(level) if kind == "log" else level.copy()
    ret = np.concatenate([[np.nan], np.diff(y)])
    cols: dict[str, np.ndarray] = {"return": ret}
    r = pd.Series(ret)
    cols["volatility_20"] = r.rolling(ROLL, min_periods=ROLL).std().to_numpy()
    if kind == "level":
        cols["level"] = level.copy()
        cols.update(calendar_inputs(data.dates, structure.calendar))
    if kind == "log" and _positive(frame, "high", "low"):
        cols["log_high_low"] = np.log(frame["high"].to_numpy() / frame["low"].to_numpy())
    if kind == "log" and _positive(frame, "open", "close"):
        cols["log_close_open"] = np.log(frame["close"].to_numpy() / frame["open"].to_numpy())
    if "volume" in frame and np.nanstd(frame["volume"].to_numpy()) > 0 \
            and (frame["volume"].to_numpy() >= 0).all():
        logv = pd.Series(np.log1p(frame["volume"].to_numpy()))
        cols["volume_vs_20d"] = (logv - logv.rolling(ROLL, min_periods=ROLL).mean()).to_numpy()
    for name in data.exogenous:
        cols[name] = frame[EXOG + name].to_numpy(dtype=np.float64)
    features = np.column_stack(list(cols.values())).astype(np.float64)
    finite = np.asarray(np.isfinite(features).all(axis=1))
    start = int(np.argmax(finite)) if finite.any() else len(y)
    if finite.any() and not finite[start:].all():  # defensive: ratios of zero prices
        features[~np.isfinite(features)] = 0.0
    return Prepared(dates=data.dates, level=level, y=y, ret=ret, features=features,
                    feature_names=list(cols), transform=kind, start=start,
                    sigma=ewma_sigma(ret, ewma_lambda), structure=structure)


def _positive(frame: pd.DataFrame, *names: str) -> bool:
    return all(n in frame for n in names) and all(bool((frame[n].to_numpy() > 0).all()) for n in names)


def ewma_sigma(ret: np.ndarray, lam: float) -> np.ndarray:
    """RiskMetrics volatility: ``s2[t] = lam * s2[t-1] + (1 - lam) * r[t]^2``, started at row
    ``ROLL`` from the variance of the first ``ROLL`` returns (all at or before that row)."""
    out = np.full(len(ret), np.nan)
    if len(ret) <= ROLL:
        return out
    s2 = float(np.var(ret[1:ROLL + 1])) + EPS
    out[ROLL] = np.sqrt(s2)
    for t in range(ROLL + 1, len(ret)):
        s2 = lam * s2 + (1 - lam) * ret[t] ** 2
        out[t] = np.sqrt(s2)
    return out


@dataclass
class Scaler:
    """Feature standardisation and a target scale, fitted on training rows only. The target
    is divided by its standard deviation but not centred, so an output of 0 is the random walk."""

    mean: np.ndarray
    std: np.ndarray
    target_scale: float

    @classmethod
    def fit(cls, prep: Prepared, last_row: int) -> Scaler:
        rows = slice(prep.start, last_row + 1)
        feats = prep.features[rows]
        std = feats.std(axis=0)
        ret = prep.ret[max(prep.start, 1):last_row + 1]
        return cls(mean=feats.mean(axis=0), std=np.where(std > EPS, std, 1.0),
                   target_scale=float(max(np.std(ret), EPS)))

    def features(self, prep: Prepared) -> np.ndarray:
        return ((prep.features - self.mean) / self.std).astype(np.float32)


def windows(scaled: np.ndarray, ends: np.ndarray, lookback: int) -> np.ndarray:
    """Input windows ``scaled[end - lookback + 1 : end + 1]`` for each end row: (n, L, F)."""
    index = np.asarray(ends)[:, None] + np.arange(-lookback + 1, 1)[None, :]
    return scaled[index]


def targets(ret: np.ndarray, ends: np.ndarray, horizon: int) -> np.ndarray:
    """The next ``horizon`` returns after each end row: (n, H)."""
    index = np.asarray(ends)[:, None] + np.arange(1, horizon + 1)[None, :]
    return ret[index]


def first_window_end(prep: Prepared, lookback: int) -> int:
    """The earliest row whose whole input window has defined features."""
    return prep.start + lookback - 1
