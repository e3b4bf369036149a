"""The LSTM on generated series: it must find real structure (AR(1) returns), keep to the random
walk on pure noise, and never use data after a forecast origin."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from regapps.apps.ts.backtest import Backtest, run_backtest
from regapps.apps.ts.config import TsConfig
from regapps.apps.ts.data import TsData
from regapps.apps.ts.features import prepare
from regapps.apps.ts.model import LstmForecaster
from regapps.shared.config import build_config

from .synth import ar1_returns, series

SMALL = {"model.lookback": 10, "model.units": 8, "model.layers": 1, "training.epochs": 20,
         "training.batch_size": 64}


def _config(**sets: Any) -> TsConfig:
    return build_config(TsConfig, sets=[f"{k}={v}" for k, v in {**SMALL, **sets}.items()])


def _backtest(returns: np.ndarray, **sets: Any) -> Backtest:
    cfg = _config(**{"backtest.test_size": 300, "backtest.refit_every": 300, **sets})
    return run_backtest(prepare(series(returns)), cfg, lambda: LstmForecaster(cfg))


@pytest.fixture(scope="module")
def ar1() -> Backtest:
    return _backtest(ar1_returns(1400, 0.7, seed=1))


def test_lstm_beats_naive_on_ar1_returns(ar1: Backtest) -> None:
    """With r[t] = 0.7 r[t-1] + e the best forecast cuts the naive error by ~29%
    (sqrt(1 - 0.7^2)); the LSTM must cut MASE by at least 10% and call directions well."""
    lstm, naive = ar1.metrics["lstm"], ar1.metrics["naive"]
    assert lstm["mase"] < 0.90 * naive["mase"]
    assert lstm["rmse"] < 0.90 * naive["rmse"]
    assert lstm["directional_accuracy"] > 0.62 and lstm["directional_p_value"] < 1e-4
    assert lstm["dm_stat"] < 0 and lstm["dm_p_value"] < 0.01
    assert ar1.refits[0]["alpha"] > 0.8  # real skill on the validation tail: barely shrunk


def test_interval_coverage_on_ar1(ar1: Backtest) -> None:
    """Band: 90% intervals cover 84-96% of 300 origins (binomial s.d. ~1.7 points): every
    origin has one, the residual pool starting from the rows before the test window. The LSTM's
    own intervals (its scale model) hold the same band."""
    assert ar1.interval_n == 300
    assert 0.84 <= ar1.interval_coverage <= 0.96
    assert 0.84 <= ar1.probabilistic["methods"]["lstm"]["coverage"] <= 0.96


def test_lstm_falls_back_to_the_random_walk_on_noise() -> None:
    bt = _backtest(ar1_returns(1000, 0.0, seed=5), **{"training.epochs": 8})
    lstm, naive = bt.metrics["lstm"], bt.metrics["naive"]
    assert lstm["mase"] <= naive["mase"] * 1.01
    assert bt.refits[0]["alpha"] < 0.2


def _perturbed(data: TsData, after_row: int, seed: int) -> TsData:
    frame = data.frame.copy()
    rng = np.random.default_rng(seed)
    factor = np.exp(np.cumsum(rng.normal(0, 0.05, len(frame) - after_row - 1)))
    for col in frame.columns:
        values = frame[col].to_numpy().copy()
        values[after_row + 1:] *= factor
        frame[col] = values
    return TsData(frame=frame, source="perturbed", target_name=data.target_name)


def test_no_look_ahead() -> None:
    """Changing every value after an origin never changes a forecast (model or baseline) or an
    interval made at or before that origin, across refits. Shrinkage is off so the raw
    network's forecasts are compared (shrunk to zero they would match trivially)."""
    cfg = _config(**{"model.lookback": 5, "model.units": 4, "model.horizon": 3,
                     "model.shrink": "false", "training.epochs": 2, "backtest.test_size": 40, "backtest.refit_every": 20,
                     "backtest.min_residuals": 5})
    data = series(ar1_returns(420, 0.5, seed=3), ohlcv=True)
    base = run_backtest(prepare(data), cfg, lambda: LstmForecaster(cfg))
    cut = 25  # an origin inside the second refit block
    row = int(base.origins[cut])
    changed = run_backtest(prepare(_perturbed(data, row, 11)), cfg, lambda: LstmForecaster(cfg))
    np.testing.assert_array_equal(base.origins, changed.origins)
    assert np.abs(base.paths["lstm"][:cut + 1]).max() > 0  # the raw network, not all zeros
    for name in base.paths:
        np.testing.assert_array_equal(base.paths[name][:cut + 1], changed.paths[name][:cut + 1])
    np.testing.assert_array_equal(base.lower[:cut + 1], changed.lower[:cut + 1])
    np.testing.assert_array_equal(base.upper[:cut + 1], changed.upper[:cut + 1])
    assert set(base.distributions) == {"lstm", "ewma", "garch", "historical"}
    for name, dist in base.distributions.items():  # every distribution method, the LSTM's scale too
        other = changed.distributions[name]
        for field in ("quantiles", "lower", "upper"):
            np.testing.assert_array_equal(getattr(dist, field)[:cut + 1], getattr(other, field)[:cut + 1],
                                          err_msg=f"{name}.{field}")
    # the perturbation is real: later forecasts (same fit, later inputs) do change
    assert not np.array_equal(base.paths["lstm"][cut + 1:], changed.paths["lstm"][cut + 1:])
    assert not np.array_equal(base.paths["drift"][cut + 1:], changed.paths["drift"][cut + 1:])


def test_lstm_beats_seasonal_naive_on_a_seasonal_series() -> None:
    """Hourly temperatures: a daily cycle whose amplitude drifts plus AR(1) weather. Seasonal
    naive repeats yesterday; the model, on the level with the time of day, must do clearly
    better than the best of naive, seasonal naive and drift at 24 hours ahead."""
    from regapps.apps.ts.backtest import skill_ratio
    from regapps.apps.ts.data import clean_frame

    from .synth import seasonal_frame

    data = clean_frame(seasonal_frame(2400, seed=4), "hourly", date_col="date", target_col="temp")
    cfg = _config(**{"model.horizon": 24, "model.lookback": 30, "backtest.test_size": 300,
                     "backtest.refit_every": 300})
    prep = prepare(data, history=2400 - 300 - 24)
    assert prep.transform == "level" and prep.season == 24
    bt = run_backtest(prep, cfg, lambda: LstmForecaster(cfg))
    ratio, best = skill_ratio(bt.metrics)
    print({m: round(v["mase"], 4) for m, v in bt.metrics.items()}, ratio)
    # at 24 hours ahead naive and seasonal naive both repeat the value of 24 hours before
    assert bt.metrics["naive"]["mase"] == pytest.approx(bt.metrics["seasonal_naive"]["mase"])
    assert best in ("naive", "seasonal_naive") and ratio is not None and ratio < 0.85
    assert bt.metrics["lstm"]["mase_seasonal"] < 0.85 * bt.metrics["seasonal_naive"]["mase_seasonal"]
