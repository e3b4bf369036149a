"""`regapps ts cv` / `compare`: walk-forward folds stay before the test window, the scaler is
fitted inside each fold, a learnable configuration beats a crippled one, the test is backtested once."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from regapps.apps.ts.config import TsConfig
from regapps.apps.ts.cv import TsCVTask
from regapps.apps.ts.features import prepare
from regapps.shared.config import build_config

from ..helpers import assert_one_error, main_json
from ..ts.synth import ar1_returns, price_frame, series, write_csv


def _config(**flags: Any) -> TsConfig:
    return build_config(TsConfig, flags={"data.source": "csv", "backtest.test_size": 100, **flags})


def test_folds_precede_the_test_window_with_a_gap() -> None:
    config = _config(**{"model.lookback": 20})
    prep = prepare(series(ar1_returns(900, 0.5, seed=1)))
    task = TsCVTask(prep, config)
    splits = task.splits(3, 0)
    assert len(splits) == 3
    for train, val in splits:
        assert train.max() + 20 + 1 < val.min()  # gap of lookback + horizon
        assert val.max() < task.test_start


def test_scaler_is_fitted_inside_the_fold() -> None:
    from regapps.apps.ts.features import Scaler

    prep = prepare(series(ar1_returns(900, 0.5, seed=1)))
    task = TsCVTask(prep, _config())
    train, _ = task.splits(3, 0)[0]
    fold_scaler, full_scaler = Scaler.fit(prep, int(train[-1])), Scaler.fit(prep, len(prep) - 1)
    assert not np.allclose(fold_scaler.target_scale, full_scaler.target_scale)


@pytest.mark.slow
def test_ts_cv_prefers_a_trainable_model(tmp_path: Path) -> None:
    """Without the ridge-started linear path (which alone captures AR(1) returns), a learning
    rate that trains must win over one that leaves the network at its random-walk start."""
    path = write_csv(tmp_path / "ar.csv", price_frame(ar1_returns(2000, 0.7, seed=2), ohlcv=True))
    result = main_json("ts", "cv", "--csv", str(path), "--grid", "learning_rate=3e-3,1e-7",
                       "--folds", "2", "--epochs", "8", "--test-size", "100", "--set", "model.shrink=false",
                       "--set", "model.linear_skip=false", "--set", "training.batch_size=64",
                       "--runs-dir", str(tmp_path / "runs"), "--json")
    assert result["best"]["params"]["optimizer.learning_rate"] == 3e-3
    assert result["best"]["metric"] == "mase" and result["best"]["score"] < 0.95
    with open(Path(result["run_dir"]) / "summary.csv", newline="") as handle:
        rows = {float(r["optimizer.learning_rate"]): float(r["mean"]) for r in csv.DictReader(handle)}
    assert rows[3e-3] < rows[1e-7]  # a learning rate too small to move the zero-initialised head
    assert result["test"]["lstm_mase"] > 0 and Path(result["refit_run_dir"], "backtest.png").is_file()


def test_ts_cv_bad_input(cli: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "short.csv", price_frame(ar1_returns(300, 0.1)))
    assert_one_error(cli("ts", "cv", "--csv", str(path), "--grid", "dropout=2", "--runs-dir", str(tmp_path)),
                     "--grid regularization.dropout=2")
    assert_one_error(cli("ts", "cv", "--csv", str(path), "--grid", "l2=0,1e-3", "--folds", "2",
                         "--runs-dir", str(tmp_path)), "samples are too few for 2 walk-forward folds")
    assert not (tmp_path / "ts").exists()


@pytest.mark.slow
def test_ts_cv_selects_on_interval_score(tmp_path: Path) -> None:
    """On GARCH returns, cv can rank configurations by the LSTM's interval score (lower is
    better); the refit's test metrics carry every method's interval score."""
    from ..ts.synth import garch_returns

    path = write_csv(tmp_path / "garch.csv", price_frame(garch_returns(1600, seed=5), ohlcv=True))
    result = main_json("ts", "cv", "--csv", str(path), "--grid", "dropout=0,0.3", "--folds", "2",
                       "--select-on", "interval_score", "--epochs", "4", "--test-size", "100",
                       "--set", "model.units=8", "--set", "model.layers=1", "--set", "model.lookback=15",
                       "--runs-dir", str(tmp_path / "runs"), "--json")
    assert result["best"]["metric"] == "interval_score"
    with open(Path(result["run_dir"]) / "summary.csv", newline="") as handle:
        means = [float(r["mean"]) for r in csv.DictReader(handle)]
    assert len(means) == 2 and result["best"]["score"] == pytest.approx(min(means))
    assert 0 < result["best"]["score"] < 1  # log-return units: a 90% band is a few percent wide
    assert {"lstm_interval_score", "garch_interval_score", "ewma_interval_score"} <= set(result["test"])
