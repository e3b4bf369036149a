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
