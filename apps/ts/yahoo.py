"""Daily (weekly, monthly) prices from Yahoo Finance through yfinance, cached per ticker and
interval under ``<cache>/yfinance/``.

Refresh rule: a cached series younger than ``refresh_hours`` is used as is; an older one is
downloaded again, and kept (with a warning) when the download fails. yfinance raises nothing
when offline or for an unknown ticker: it returns an empty frame and logs the cause, so the
host is probed first (fail fast) and emptiness is checked here.
"""
from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from regapps.shared.errors import DataError, DataUnavailableError
from regapps.shared.net import ensure_reachable, net_timeout
from regapps.shared.runs import atomic_write_text

from .config import TICKER_RE

log = logging.getLogger(__name__)

YAHOO_URL = "https://query1.finance.yahoo.com"
OFFLINE_HINT = ("Use --csv PATH with a Yahoo-format download (Date,Open,High,Low,Close,Adj Close,"
                "Volume), or --source sample --ticker AAPL|IBM|MSFT|GOOG (offline).")
COLUMNS = ["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]


def cache_file(cache: Path, ticker: str, interval: str) -> Path:
    if not TICKER_RE.match(ticker):  # config validates too; never build a path from anything else
        raise DataError(f"invalid ticker {ticker!r}")
    return cache / "yfinance" / f"{ticker.replace('^', 'idx_')}_{interval}.csv"


def load_yahoo(ticker: str, interval: str, cache: Path, *, refresh_hours: float = 24.0,
               download: Callable[..., Any] | None = None) -> pd.DataFrame:
    """The full history of ``ticker`` as a string frame in Yahoo download format."""
    path = cache_file(cache, ticker, interval)
    age_hours = (time.time() - path.stat().st_mtime) / 3600 if path.is_file() else None
    if age_hours is not None and age_hours < refresh_hours:
        log.info("using cached %s (%.1f h old)", path, age_hours)
        return _read_cache(path)
    try:
        ensure_reachable(YAHOO_URL, what=f"downloading {ticker} from Yahoo Finance", hint=OFFLINE_HINT)
        frame = fetch(ticker, interval, download=download)
    except DataUnavailableError as exc:
        if age_hours is None:
            raise
        log.warning("%s; using the cached copy from %.0f hours ago", exc, age_hours)
        return _read_cache(path)
    atomic_write_text(path, frame.to_csv(index=False))
    log.info("cached %d rows of %s at %s", len(frame), ticker, path)
    return frame


def fetch(ticker: str, interval: str, *, download: Callable[..., Any] | None = None) -> pd.DataFrame:
    if download is None:
        import yfinance as yf

        download = yf.download
    with _captured("yfinance") as messages:
        try:
            raw = download(ticker, period="max", interval=interval, auto_adjust=False,
                           actions=False, progress=False, threads=False,
                           multi_level_index=False, timeout=net_timeout())
        except Exception as exc:  # yfinance raises many types for network faults
            if "RateLimit" in type(exc).__name__:
                raise DataUnavailableError(f"Yahoo Finance is rate-limiting requests for {ticker}; "
                                           f"try again later. {OFFLINE_HINT}") from exc
            raise DataUnavailableError(f"yfinance failed for {ticker} ({type(exc).__name__}: "
                                       f"{str(exc).splitlines()[0][:150] if str(exc) else ''}). "
                                       f"{OFFLINE_HINT}") from exc
    if raw is None or len(raw) == 0:
        cause = next((m for m in reversed(messages) if m.strip()), "")
        if "rate" in cause.lower() and "limit" in cause.lower():
            raise DataUnavailableError(f"Yahoo Finance is rate-limiting requests for {ticker}; "
                                       f"try again later. {OFFLINE_HINT}")
        detail = f": {cause.strip().splitlines()[-1][:200]}" if cause else ""
        raise DataError(f"Yahoo Finance returned no data for {ticker!r} (unknown or delisted "
                        f"ticker, or no connection{detail}). {OFFLINE_HINT}")
    return _to_yahoo_format(raw)


def _to_yahoo_format(raw: pd.DataFrame) -> pd.DataFrame:
    frame = raw.copy()
    if isinstance(frame.columns, pd.MultiIndex):  # older yfinance: (field, ticker)
        frame.columns = frame.columns.get_level_values(0)
    frame = frame.reset_index()
    first = frame.columns[0]
    frame = frame.rename(columns={first: "Date", "Datetime": "Date"})
    dates = pd.to_datetime(frame["Date"])
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    frame["Date"] = dates.dt.strftime("%Y-%m-%d")
    missing = [c for c in COLUMNS if c not in frame.columns and c != "Adj Close"]
    if missing:
        raise DataError(f"yfinance returned unexpected columns (missing {', '.join(missing)})")
    keep = [c for c in COLUMNS if c in frame.columns]
    return frame[keep].astype(str)


def _read_cache(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cached series {path} is unreadable; delete it and retry") from exc


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextlib.contextmanager
def _captured(logger_name: str) -> Iterator[list[str]]:
    """Collect a library's log messages and stray stderr writes instead of showing them."""
    messages: list[str] = []
    logger = logging.getLogger(logger_name)
    handler = _Collect(messages)
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stderr(buffer):
            yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved
        messages.extend(line for line in buffer.getvalue().splitlines() if line.strip())
