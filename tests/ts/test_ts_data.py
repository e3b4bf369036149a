"""Loaders and cleaning: Yahoo and generic CSVs, the missing-value policy, clean errors, the
yfinance paths (offline, empty, rate-limited, cache) and the bundled sample."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from regapps.apps.ts import yahoo
from regapps.apps.ts.config import TsConfig, TsDataConfig
from regapps.apps.ts.data import load_sample, load_series, read_csv_series
from regapps.apps.ts.features import prepare
from regapps.shared.config import build_config
from regapps.shared.errors import ConfigError, DataError, DataUnavailableError

YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2020-01-02,10,11,9,10.5,5.25,100
2020-01-03,10.5,12,10,11.0,5.5,200
2020-01-06,11,11.5,10.5,11.2,5.6,150
2020-01-07,11.2,11.8,11,11.5,5.75,120
"""


def _write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yahoo_csv_uses_adjusted_close(tmp_path: Path) -> None:
    data = read_csv_series(_write(tmp_path, YAHOO))
    assert data.target_name == "Adj Close"
    assert list(data.values) == [5.25, 5.5, 5.6, 5.75]
    assert set(data.frame.columns) == {"target", "open", "high", "low", "close", "volume"}
    assert data.dates[0] == pd.Timestamp("2020-01-02") and data.notes == []


def test_generic_csv_with_date_and_target_columns(tmp_path: Path) -> None:
    rows = "\n".join(f"2021-01-{d:02d},{t}" for d, t in zip(range(1, 8), [-3.5, -1, 0, 2.5, 1, -0.5, 4]))
    path = _write(tmp_path, "day,temp_c\n" + rows + "\n")
    data = read_csv_series(path, date_col="day", target_col="temp_c")
    assert data.values[0] == -3.5 and len(data) == 7
    prep = prepare(data)  # values <= 0: differences, not log returns
    assert prep.transform == "diff" and prep.ret[1] == pytest.approx(2.5)
    with pytest.raises(DataError, match="log returns are undefined"):
        prepare(data, "log")


@pytest.mark.parametrize("text, match", [
    ("When,Close\n2020-01-02,1\n", "no date column 'Date'.*--date-col"),
    ("Date,Price\n2020-01-02,1\n", "no target column.*--target-col"),
    ("Date,Close\n2020-01-02,1\n2020-01-03,abc\n", "non-numeric value 'abc' \\(data row 2\\)"),
    ("Date,Close\n2020-01-02,1\n2020-01-02,2\n", "duplicated dates.*2020-01-02"),
    ("Date,Close\n2020-01-02,1\nnot-a-date,2\n", "'not-a-date' \\(data row 2\\) is not a date"),
    ("Date,Close\n", "no rows"),
])
def test_bad_csv_gives_one_clear_error(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        read_csv_series(_write(tmp_path, text))


def test_mixed_date_forms_are_refused_naming_the_first_row_of_each(tmp_path: Path) -> None:
    # read one by one, 01/02/2020 would be January 2 next to 31/01/2020's January 31
    text = "Date,Close\n2020-01-30,1\n2020-01-31,2\n01/02/2020,3\n03/02/2020,4\n"
    with pytest.raises(DataError) as info:
        read_csv_series(_write(tmp_path, text))
    message = str(info.value)
    assert "mixes date forms" in message and "\n" not in message
    assert "data row 1 ('2020-01-30')" in message and "data row 3 ('01/02/2020')" in message
    both = "Date,Close\n30/01/2020,1\n01/31/2020,2\n"
    with pytest.raises(DataError, match=r"day first \(data row 1: '30/01/2020'\) and with the month "
                                        r"first \(data row 2: '01/31/2020'\)"):
        read_csv_series(_write(tmp_path, both, "both.csv"))


def test_day_first_dates_are_read_day_first_throughout(tmp_path: Path) -> None:
    text = "Date,Close\n30/01/2020,1\n31/01/2020,2\n01/02/2020,3\n03/02/2020,4\n"
    data = read_csv_series(_write(tmp_path, text))
    assert [str(d.date()) for d in data.dates] == ["2020-01-30", "2020-01-31", "2020-02-01", "2020-02-03"]
    assert data.notes == []  # in order as written: nothing was sorted
    either = read_csv_series(_write(tmp_path, "Date,Close\n01/02/2020,1\n01/03/2020,2\n", "e.csv"))
    assert [str(d.date()) for d in either.dates] == ["2020-01-02", "2020-01-03"]
    assert any("read either way" in n and "month first" in n for n in either.notes)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_csv_series(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="empty"):
        read_csv_series(_write(tmp_path, ""))


def test_unsorted_dates_are_sorted_with_a_note(tmp_path: Path) -> None:
    lines = YAHOO.splitlines()
    data = read_csv_series(_write(tmp_path, "\n".join([lines[0], lines[3], lines[1], lines[4], lines[2]])))
    assert list(data.values) == [5.25, 5.5, 5.6, 5.75]
    assert any("sorted" in n for n in data.notes)


def test_missing_value_policy(tmp_path: Path) -> None:
    text = YAHOO.replace("2020-01-03,10.5,12,10,11.0,5.5,200", "2020-01-03,10.5,12,10,11.0,null,200")
    text = text.replace("2020-01-06,11,11.5,10.5,11.2,5.6,150", "2020-01-06,,11.5,10.5,11.2,5.6,")
    data = read_csv_series(_write(tmp_path, text))
    # the row without a target is dropped; the missing open/volume are carried forward
    assert list(data.values) == [5.25, 5.6, 5.75]
    assert data.frame["open"].iloc[1] == 10.0 and data.frame["volume"].iloc[1] == 100
    assert any("dropped 1 rows" in n for n in data.notes)
    assert any("carried 2 missing" in n for n in data.notes)


def test_long_gap_is_reported(tmp_path: Path) -> None:
    dates = list(pd.bdate_range("2020-01-01", periods=30)) + list(pd.bdate_range("2021-01-01", periods=30))
    text = "Date,Close\n" + "\n".join(f"{d.date()},{100 + i}" for i, d in enumerate(dates)) + "\n"
    data = read_csv_series(_write(tmp_path, text))
    assert any("largest gap" in n and "not filled" in n for n in data.notes)


def test_date_slicing_and_timezone_offsets(tmp_path: Path) -> None:
    text = YAHOO.replace("2020-01-02,", "2020-01-02 00:00:00-05:00,")
    cfg = TsDataConfig(source="csv", csv=str(_write(tmp_path, text)), start="2020-01-03", end="2020-01-06")
    data = load_series(cfg)
    assert [str(d.date()) for d in data.dates] == ["2020-01-03", "2020-01-06"]
    with pytest.raises(DataError, match="no rows between"):
        load_series(TsDataConfig(source="csv", csv=cfg.csv, start="2030-01-01"))


@pytest.mark.parametrize("ticker", ["../../etc", "..", "a/b", "AAPL;rm", "", "A" * 30])
def test_ticker_is_validated_before_any_file_name(ticker: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.ticker"):
        build_config(TsConfig, flags={"data.ticker": ticker})
    with pytest.raises(DataError):
        yahoo.cache_file(tmp_path, ticker, "1d")


def test_good_tickers_and_ranges() -> None:
    cfg = build_config(TsConfig, flags={"data.ticker": "brk-b", "model.horizon": 5})
    assert cfg.data.ticker == "BRK-B" and cfg.model.horizon == 5
    assert build_config(TsConfig, flags={"data.ticker": "^GSPC"}).data.ticker == "^GSPC"
    for key, value in (("model.horizon", 0), ("model.lookback", 1),
                       ("backtest.interval_level", 1.0), ("data.start", "2020-13-01")):
        with pytest.raises(ConfigError, match=key):
            build_config(TsConfig, flags={key: value})


# --- yfinance -----------------------------------------------------------------------------

def _frame() -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.bdate_range("2020-01-01", periods=5, tz="America/New_York"), name="Date")
    values = np.arange(1, 6, dtype=float)
    return pd.DataFrame({"Adj Close": values, "Close": values, "High": values + 1, "Low": values - 0.5,
                         "Open": values, "Volume": values * 100}, index=index)


def test_yahoo_offline_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yahoo, "YAHOO_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    start = time.perf_counter()
    with pytest.raises(DataUnavailableError, match="cannot reach 127.0.0.1.*--source sample"):
        yahoo.load_yahoo("ZZZZZZZZ", "1d", tmp_path, download=lambda *a, **k: pytest.fail("no download"))
    assert time.perf_counter() - start < 5


def test_yahoo_empty_frame_and_rate_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yahoo, "ensure_reachable", lambda *a, **k: None)

    def empty(*args: object, **kwargs: object) -> pd.DataFrame:
        import logging

        logging.getLogger("yfinance").error("$ZZZZZZZZ: possibly delisted; no timezone found")
        return pd.DataFrame()

    with pytest.raises(DataError, match="no data for 'ZZZZZZZZ'.*possibly delisted"):
        yahoo.load_yahoo("ZZZZZZZZ", "1d", tmp_path, download=empty)

    class YFRateLimitError(Exception):
        pass

    def limited(*args: object, **kwargs: object) -> pd.DataFrame:
        raise YFRateLimitError("Too Many Requests")

    with pytest.raises(DataUnavailableError, match="rate-limiting"):
        yahoo.load_yahoo("AAPL", "1d", tmp_path, download=limited)
    assert not (tmp_path / "yfinance").exists() or not any((tmp_path / "yfinance").iterdir())


def test_yahoo_cache_and_refresh_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yahoo, "ensure_reachable", lambda *a, **k: None)
    calls: list[str] = []

    def download(ticker: str, **kwargs: object) -> pd.DataFrame:
        calls.append(ticker)
        return _frame()

    first = yahoo.load_yahoo("MSFT", "1d", tmp_path, download=download)
    assert list(first.columns) == yahoo.COLUMNS and first["Date"].iloc[0] == "2020-01-01"
    again = yahoo.load_yahoo("MSFT", "1d", tmp_path, download=download)  # fresh cache: no call
    assert calls == ["MSFT"] and again.equals(first)
    path = yahoo.cache_file(tmp_path, "MSFT", "1d")
    old = time.time() - 2 * 86400
    os.utime(path, (old, old))
    monkeypatch.setattr(yahoo, "YAHOO_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(yahoo, "ensure_reachable", __import__("regapps.shared.net", fromlist=["x"]).ensure_reachable)
    stale = yahoo.load_yahoo("MSFT", "1d", tmp_path, download=download)  # offline: stale copy kept
    assert stale.equals(first) and calls == ["MSFT"]


def test_sample_source_is_real_daily_prices(tmp_path: Path) -> None:
    data = load_sample("AAPL", tmp_path)
    assert data.target_name == "Adj Close" and len(data) == 3270
    assert str(data.dates[0].date()) == "2000-03-01" and str(data.dates[-1].date()).startswith("2013-03")
    assert data.values[0] == pytest.approx(4.186662803811)
    assert {"open", "high", "low", "close", "volume"} <= set(data.frame.columns)
    goog = load_sample("GOOG", tmp_path)
    assert str(goog.dates[0].date()).startswith("2004-08")
    with pytest.raises(DataError, match="no ticker 'ZZZ'.*AAPL, IBM, MSFT, GOOG"):
        load_sample("ZZZ", tmp_path)


def test_empty_side_column_is_ignored_and_leading_gaps_dropped(tmp_path: Path) -> None:
    text = ("Date,Open,Close,Volume\n2020-01-02,,10,\n2020-01-03,,11,\n2020-01-06,10.8,11.5,\n"
            "2020-01-07,11.4,11.2,\n")
    data = read_csv_series(_write(tmp_path, text))
    assert set(data.frame.columns) == {"target", "open", "close"}  # Volume is empty: unused
    assert list(data.values) == [11.5, 11.2]  # rows before the first Open are dropped
    assert any("no values" in n for n in data.notes) and any("dropped 2 leading" in n for n in data.notes)


def test_app_defaults_survive_partial_overrides() -> None:
    cfg = build_config(TsConfig, flags={"training.epochs": 5}, sets=["optimizer.learning_rate=0.01"])
    assert (cfg.training.epochs, cfg.training.monitor, cfg.training.patience, cfg.training.batch_size) \
        == (5, "val_mae", 4, 256)
    assert (cfg.optimizer.name, cfg.optimizer.learning_rate, cfg.optimizer.clipnorm) == ("adam", 0.01, 1.0)
    assert (cfg.regularization.l2, cfg.regularization.dropout) == (1e-3, 0.2)
    assert TsConfig.model_validate(cfg.to_dict()) == cfg  # a run's config.json reads back the same
