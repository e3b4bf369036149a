"""The ts CLI: help without TensorFlow, one-line errors with exit code 2, and end-to-end runs
on the bundled sample and on a generated CSV with --json."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ..helpers import assert_one_error, modules_imported_by
from .synth import ar1_returns, price_frame, seasonal_frame, write_csv

FAST = ["--lookback", "10", "--units", "8", "--layers", "1", "--epochs", "3", "--batch-size", "128"]


def test_help_does_not_import_tensorflow() -> None:
    loaded = modules_imported_by([['ts', '--help'], ['ts', 'backtest', '--help'], ['ts', 'forecast', '--help'], ['ts', 'backtest', '--horizon', '0'], ['ts', 'forecast', '--ticker', '../../etc']],
                                 ("tensorflow", "keras", "yfinance"))
    assert not any(loaded.values()), loaded




@pytest.mark.parametrize("args, needles", [
    (["--ticker", "../../etc"], ["data.ticker", "invalid ticker"]),
    (["--horizon", "0"], ["model.horizon=0"]),
    (["--lookback", "1"], ["model.lookback=1"]),
    (["--interval-level", "1.5"], ["backtest.interval_level"]),
    (["--source", "sample", "--ticker", "TSLA"], ["no ticker 'TSLA'"]),
    (["--source", "csv"], ["--csv PATH"]),
    (["--series", "seattle-daily"], ["--series names a weather series", "--source weather"]),
    (["--source", "weather", "--series", "paris"], ["data.series"]),
    (["--season", "1"], ["data.season=1"]),
    (["--features", "a,a"], ["named twice"]),
    (["--quantiles", "0.05,0.5,1.2"], ["backtest.quantiles", "strictly between 0 and 1, not 1.2"]),
    (["--quantiles", "0,0.5"], ["strictly between 0 and 1, not 0.0"]),
])
def test_bad_flags(cli: Any, args: list[str], needles: list[str], tmp_path: Path) -> None:
    for command in ("backtest", "forecast"):
        assert_one_error(cli("ts", command, *args, "--runs-dir", str(tmp_path)), *needles)
    assert not (tmp_path / "ts").exists()  # no run directory for rejected input


def test_unknown_ticker_offline_fails_fast(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from regapps.apps.ts import yahoo

    monkeypatch.setattr(yahoo, "YAHOO_URL", "http://127.0.0.1:9")
    start = time.perf_counter()
    result = cli("ts", "backtest", "--ticker", "ZZZZZZZZ", "--runs-dir", str(tmp_path))
    assert time.perf_counter() - start < 10
    assert_one_error(result, "ZZZZZZZZ", "--csv", "--source sample")


def test_bad_csv_files(cli: Any, tmp_path: Path) -> None:
    no_date = write_csv(tmp_path / "nodate.csv", pd.DataFrame({"Close": np.arange(1.0, 301.0)}))
    assert_one_error(cli("ts", "backtest", "--csv", str(no_date), "--runs-dir", str(tmp_path)),
                    "no date column", "--date-col")
    short = write_csv(tmp_path / "short.csv", price_frame(ar1_returns(30, 0.0)))
    assert_one_error(cli("ts", "backtest", "--csv", str(short), "--lookback", "60",
                        "--runs-dir", str(tmp_path)), "has 30 rows", "lookback 60")
    assert_one_error(cli("ts", "forecast", "--csv", str(tmp_path / "missing.csv")), "not found")
    hourly = write_csv(tmp_path / "hourly.csv", seasonal_frame(600, exogenous=True))
    base = ["--csv", str(hourly), "--date-col", "date", "--target-col", "temp", "--runs-dir", str(tmp_path)]
    assert_one_error(cli("ts", "backtest", *base, "--features", "lead,wind"),
                     "no feature column 'wind'", "--features")
    assert_one_error(cli("ts", "backtest", *base, "--season", "500"),
                     "--season 500 is longer than half", "rows before the test window")
    assert_one_error(cli("ts", "cv", *base, "--features", "temp"), "is the target column")
    assert not (tmp_path / "ts").exists()


def _finite_metrics(metrics: dict[str, Any]) -> None:
    assert set(metrics) == {"lstm", "naive", "seasonal_naive", "drift", "moving_average"}
    for name, row in metrics.items():
        for key in ("mae", "rmse", "mape", "mase"):
            assert isinstance(row[key], float) and math.isfinite(row[key]) and row[key] > 0, (name, key)


@pytest.mark.slow
def test_sample_backtest_end_to_end(cli: Any, tmp_path: Path) -> None:
    result = cli("ts", "backtest", "--source", "sample", "--ticker", "MSFT", "--test-size", "150",
                 "--refit-every", "150", *FAST, "--runs-dir", str(tmp_path), "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    _finite_metrics(out["metrics"])
    lstm, naive, drift = out["metrics"]["lstm"], out["metrics"]["naive"], out["metrics"]["drift"]
    assert 0.3 < naive["mase"] < 1.7  # in-sample-scaled naive error: ~1 up to the volatility regime
    assert naive["directional_accuracy"] is None and naive["dm_p_value"] is None
    assert lstm["mase"] <= naive["mase"] * 1.05  # shrinkage keeps it near the random walk
    assert 0.4 < drift["directional_accuracy"] < 0.6 and 0 <= drift["dm_p_value"] <= 1
    # the EWMA residual pool starts from the pre-test rows (as many as the LSTM's validation tail)
    assert 0.75 <= out["interval_coverage"] <= 1.0 and out["interval_n"] == 150
    prob = out["probabilistic"]
    assert set(prob) == {"lstm", "ewma", "garch", "historical"} and out["probabilistic_n"] == 150
    for name, row in prob.items():
        assert 0.7 <= row["coverage"] <= 1.0 and row["interval_score"] > row["width"] * 0.99 > 0, name
        assert row["pinball"] > 0 and row["versus"] == out["probabilistic_best_baseline"]
        assert (row["dm_p_value"] is None) == (name == out["probabilistic_best_baseline"])
    assert out["reliability"]["levels"][-1] == pytest.approx(0.9) and len(out["reliability"]["lstm"]) == 9
    assert out["n_test"] == 150 and out["test_end"] == "2013-03-01"
    run = Path(out["run_dir"])
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    for name in ("config.json", "metrics.json", "metrics.csv", "predictions.csv", "refits.csv",
                 "backtest.png", "probabilistic.png", "probabilistic.csv", "report.md", "report.html"):
        assert (run / name).is_file(), name
    meta = json.loads((run / "config.json").read_text())["meta"]
    assert meta["transform"] == "log" and meta["target_column"] == "Adj Close"
    predictions = pd.read_csv(run / "predictions.csv")
    assert len(predictions) == 150  # naive = the previous actual: one-step random walk
    np.testing.assert_allclose(predictions["naive"].iloc[1:], predictions["actual"].iloc[:-1], rtol=1e-12)


@pytest.mark.slow
def test_csv_forecast_end_to_end(cli: Any, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "ar1.csv", price_frame(ar1_returns(900, 0.6, seed=4), ohlcv=True))
    result = cli("ts", "forecast", "--csv", str(csv), "--horizon", "5", "--test-size", "120",
                 "--refit-every", "120", *FAST, "--runs-dir", str(tmp_path), "--tensorboard", "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    _finite_metrics(out["backtest"])
    board = Path(out["run_dir"]) / "tensorboard"  # the walk-forward refit and the final fit
    refits = [p.name for p in board.iterdir() if p.name.startswith("refit-")]
    assert len(refits) == 1 and any((board / refits[0] / "train").iterdir())
    assert any((board / "train").iterdir())
    rows = out["forecast"]
    assert out["last_date"] == "2003-06-13"  # a Friday: the next 5 business days follow
    assert [r["date"] for r in rows] == ["2003-06-16", "2003-06-17", "2003-06-18", "2003-06-19", "2003-06-20"]
    for r in rows:
        assert r["lower"] < r["forecast"] < r["upper"]
    widths = [r["upper"] - r["lower"] for r in rows]
    assert widths[-1] > widths[0]  # uncertainty grows with the horizon
    run = Path(out["run_dir"])
    for name in ("forecast.csv", "forecast.png", "backtest.png", "probabilistic.png", "model.keras",
                 "scale_model.keras", "history.csv", "report.md", "report.html"):
        assert (run / name).is_file(), name
    assert len(pd.read_csv(run / "forecast.csv")) == 5
    human = cli("ts", "forecast", "--csv", str(csv), "--horizon", "2", "--test-size", "60",
                "--refit-every", "60", *FAST, "--runs-dir", str(tmp_path))
    assert human.code == 0 and "backtest MASE: lstm" in human.stdout
    lines = human.stdout.strip().splitlines()
    assert len(lines) == 2 + 2 + 2 and lines[-1].startswith("intervals: ")  # which method, and why


@pytest.mark.slow
def test_weather_backtest_end_to_end(cli: Any, tmp_path: Path) -> None:
    """The offline hourly weather: judged mean-reverting with a daily season, modelled on its
    level with the time of day, and scored against seasonal naive too."""
    result = cli("ts", "backtest", "--source", "weather", "--series", "seattle-hourly", "--horizon", "24",
                 "--test-size", "48", "--refit-every", "48", "--epochs", "2", "--units", "8",
                 "--runs-dir", str(tmp_path), "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    _finite_metrics(out["metrics"])
    assert out["transform"] == "level" and out["season"] == 24
    assert out["metrics"]["seasonal_naive"]["mase_seasonal"] > 0 and out["best_baseline"] in out["metrics"]
    assert out["test_end"] == "2010-12-31 23:00"  # hourly: stamps keep the time of day
    meta = json.loads((Path(out["run_dir"]) / "config.json").read_text())["meta"]
    assert "time_of_day_sin" in meta["features"] and "mean-reverting" in meta["transform_reason"]
    assert "Transform level" in (Path(out["run_dir"]) / "report.md").read_text()
