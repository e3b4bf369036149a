"""Generated series with known structure for the time-series tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from regapps.apps.ts.data import TsData, clean_frame


def ar1_returns(n: int, phi: float, sigma: float = 0.01, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, sigma, n)
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = phi * r[t - 1] + e[t]
    return r


def price_frame(returns: np.ndarray, start: str = "2000-01-03", ohlcv: bool = False,
                seed: int = 0) -> pd.DataFrame:
    """A Yahoo-format frame (strings) whose Adj Close is 100 * exp(cumsum(returns))."""
    dates = pd.bdate_range(start, periods=len(returns))
    close = 100.0 * np.exp(np.cumsum(returns))
    frame = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d")})
    if ohlcv:
        rng = np.random.default_rng(seed + 1)
        spread = np.abs(rng.normal(0, 0.005, len(close)))
        frame["Open"] = close * np.exp(rng.normal(0, 0.003, len(close)))
        frame["High"] = np.maximum(close, frame["Open"]) * np.exp(spread)
        frame["Low"] = np.minimum(close, frame["Open"]) * np.exp(-spread)
        frame["Close"] = close
        frame["Adj Close"] = close
        frame["Volume"] = rng.integers(1_000_000, 2_000_000, len(close))
    else:
        frame["Close"] = close
    return frame.astype(str)


def series(returns: np.ndarray, **kwargs: object) -> TsData:
    return clean_frame(price_frame(returns, **kwargs), "synthetic", date_col="Date")  # type: ignore[arg-type]


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def seasonal_frame(n: int, *, freq: str = "h", period: int = 24, amplitude: float = 8.0,
                   phi: float = 0.9, noise: float = 0.5, base: float = 50.0, seed: int = 0,
                   exogenous: bool = False) -> pd.DataFrame:
    """A temperature-like series (strings, ``date,temp``): a cycle of ``period`` rows whose
    amplitude drifts slowly, plus AR(1) weather noise; with ``exogenous``, a column ``lead``
    that moves the next row's temperature (so only a model that reads it can use it)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    amp = amplitude * (1 + 0.3 * np.sin(2 * np.pi * t / (period * 60)))
    noise_ar = ar1_returns(n, phi, noise, seed=seed + 1)
    temp = base + amp * np.sin(2 * np.pi * t / period) + noise_ar
    frame = pd.DataFrame({"date": pd.date_range("2010-01-01", periods=n, freq=freq).strftime("%Y-%m-%d %H:%M")})
    if exogenous:
        lead = rng.normal(0, 1, n)
        temp[1:] += 2.0 * lead[:-1]
        frame["lead"] = lead
    frame["temp"] = temp
    return frame.astype(str)


def garch_returns(n: int, omega: float = 2e-6, alpha: float = 0.1, beta: float = 0.88,
                  nu: float = 6.0, seed: int = 0) -> np.ndarray:
    """GARCH(1,1) returns with unit-variance Student-t innovations: the true one-step
    distribution is known at every row (scale ``sqrt(h[t])``)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_t(nu, n) / np.sqrt(nu / (nu - 2))
    r, h = np.zeros(n), np.full(n, omega / (1 - alpha - beta))
    for t in range(1, n):
        h[t] = omega + alpha * r[t - 1] ** 2 + beta * h[t - 1]
        r[t] = np.sqrt(h[t]) * z[t]
    return r
