"""The walk-forward machinery without TensorFlow: baselines, scores, the DM test, intervals
and their coverage, origin planning and causal features. A stub forecaster stands in for the
LSTM where the model is not the point."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from regapps.apps.ts.backtest import baseline_paths, plan_origins, run_backtest
from regapps.apps.ts.config import TsConfig
from regapps.apps.ts.features import prepare
from regapps.apps.ts.metrics import diebold_mariano, point_metrics, walk_forward_bands
from regapps.apps.ts.model import shrink_factor
from regapps.shared.config import build_config
from regapps.shared.errors import DataError

from .synth import ar1_returns, series


class ZeroForecaster:
    """The random walk dressed as a model: forecasts no change."""

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon

    def fit(self, prep: Any, origin: int) -> dict[str, Any]:
        return {"origin": origin}

    def predict(self, prep: Any, origins: np.ndarray) -> np.ndarray:
        return np.zeros((len(origins), self.horizon))


def _config(**sets: Any) -> TsConfig:
    return build_config(TsConfig, sets=[f"{k}={v}" for k, v in sets.items()])


def test_point_metrics_by_hand() -> None:
    level_true = np.array([100.0, 110.0, 90.0, 100.0])
    level_fc = np.array([102.0, 108.0, 95.0, 100.0])
    y0 = np.log(np.array([101.0, 100.0, 100.0, 99.0]))
    m = point_metrics(level_true, level_fc, np.log(level_true), np.log(level_fc), y0, mase_scale=0.05)
    assert m["mae"] == pytest.approx((2 + 2 + 5 + 0) / 4)
    assert m["rmse"] == pytest.approx(np.sqrt((4 + 4 + 25 + 0) / 4))
    assert m["mape"] == pytest.approx(100 * (2 / 100 + 2 / 110 + 5 / 90 + 0) / 4)
    assert m["mase"] == pytest.approx(np.mean(np.abs(np.log(level_true / level_fc))) / 0.05)
    # directions from the origin: true (-, +, -, +), forecast (+, +, -, +)
    assert m["directional_accuracy"] == pytest.approx(3 / 4) and m["directional_n"] == 4
    assert m["directional_p_value"] == pytest.approx(5 / 16)  # P(X >= 3), X ~ Bin(4, 0.5)


def test_diebold_mariano() -> None:
    rng = np.random.default_rng(0)
    bench = rng.normal(0, 1.0, 500)
    assert diebold_mariano(bench, bench, 1) == (None, None)
    better = bench * 0.7
    stat, p = diebold_mariano(better, bench, 1)
    assert stat is not None and stat < -5 and p < 1e-6
    same_size = rng.normal(0, 1.0, 500)
    _, p_noise = diebold_mariano(same_size, bench, 3)
    assert p_noise is not None and p_noise > 0.01


def test_baselines_by_hand() -> None:
    prep = prepare(series(np.r_[0.0, np.full(59, 0.01)]))
    origins = np.array([40, 50])
    paths = baseline_paths(prep, origins, horizon=3, ma_window=5)
    assert np.all(paths["naive"] == 0)
    assert paths["drift"][0] == pytest.approx([0.01, 0.02, 0.03])  # constant growth: drift = 0.01/row
    expected = np.log(prep.level[36:41].mean()) - prep.y[40]
    assert paths["moving_average"][0] == pytest.approx([expected] * 3)


def test_naive_mase_is_one_on_a_random_walk_by_construction() -> None:
    prep = prepare(series(np.random.default_rng(3).normal(0, 0.01, 3000)))
    cfg = _config(**{"backtest.test_size": 1500, "backtest.refit_every": 1500})
    bt = run_backtest(prep, cfg, lambda: ZeroForecaster(1))
    assert bt.metrics["naive"]["mase"] == pytest.approx(1.0, abs=0.08)
    assert bt.metrics["lstm"]["mase"] == bt.metrics["naive"]["mase"]
    assert bt.metrics["naive"]["directional_accuracy"] is None  # the random walk calls no direction
    assert bt.metrics["moving_average"]["mase"] > 1.2  # a 20-day mean lags a random walk


def test_interval_coverage_is_near_nominal_under_changing_volatility() -> None:
    """Band: |coverage - 0.90| <= 0.03 over 2,000 origins (binomial s.d. ~0.007), on a random
    walk whose volatility triples halfway: the EWMA scaling has to adapt."""
    rng = np.random.default_rng(7)
    vol = np.r_[np.full(2500, 0.008), np.full(2500, 0.024)]
    prep = prepare(series(rng.standard_t(5, 5000) * vol / np.sqrt(5 / 3)))
    cfg = _config(**{"backtest.test_size": 2000, "backtest.refit_every": 2000})
    bt = run_backtest(prep, cfg, lambda: ZeroForecaster(1))
    assert bt.interval_n == 2000 - cfg.backtest.min_residuals
    assert bt.interval_coverage == pytest.approx(0.90, abs=0.03)
    h5 = _config(**{"backtest.test_size": 2000, "backtest.refit_every": 2000, "model.horizon": 5})
    bt5 = run_backtest(prep, h5, lambda: ZeroForecaster(5))
    assert bt5.interval_coverage == pytest.approx(0.90, abs=0.04)


@pytest.mark.parametrize("gamma", [0.0, 0.01])
def test_bands_only_use_residuals_known_at_the_origin(gamma: float) -> None:
    z = np.random.default_rng(1).normal(size=(200, 3))
    lo, hi, _ = walk_forward_bands(z, 0.9, 30, gamma)
    changed = z.copy()
    changed[120:] *= 50  # residuals completed after origin 120 (+k) must not matter before it
    lo2, hi2, _ = walk_forward_bands(changed, 0.9, 30, gamma)
    for k in range(3):
        last_unaffected = 120 + k  # z[j, k] and misses with j <= i - k - 1 < 120
        np.testing.assert_array_equal(lo[:last_unaffected + 1, k], lo2[:last_unaffected + 1, k])
        np.testing.assert_array_equal(hi[:last_unaffected + 1, k], hi2[:last_unaffected + 1, k])
        assert np.isnan(lo[: 30 + k, k]).all() and np.isfinite(lo[30 + k:, k]).all()
    assert not np.array_equal(hi[:, 0], hi2[:, 0])


def test_adaptive_level_repairs_a_drifting_residual_shape() -> None:
    """Residuals whose spread doubles halfway (and that the volatility scaling does not see):
    fixed empirical quantiles under-cover the second half; the adaptive level widens the band."""
    rng = np.random.default_rng(4)
    z = np.r_[rng.normal(size=1500), 2 * rng.normal(size=1500)][:, None]
    covered = {}
    for gamma in (0.0, 0.005):
        lo, hi, final = walk_forward_bands(z, 0.9, 30, gamma)
        late = slice(1500, 3000)
        covered[gamma] = float(np.mean((lo[late, 0] <= z[late, 0]) & (z[late, 0] <= hi[late, 0])))
    assert covered[0.0] < 0.80
    assert covered[0.005] == pytest.approx(0.90, abs=0.03)
    assert final[0] > 0.9  # the level a forecast after the data would use


def test_features_are_causal() -> None:
    data = series(ar1_returns(400, 0.5, seed=2), ohlcv=True)
    full = prepare(data)
    assert full.feature_names == ["return", "volatility_20", "log_high_low", "log_close_open", "volume_vs_20d"]
    for cut in (100, 250):
        short = type(data)(frame=data.frame.iloc[:cut], source="cut", target_name=data.target_name)
        part = prepare(short)
        np.testing.assert_allclose(part.features[part.start:], full.features[part.start:cut])
        np.testing.assert_allclose(part.sigma[20:], full.sigma[20:cut])


def test_origin_planning_and_short_series() -> None:
    prep = prepare(series(ar1_returns(30, 0.0)))
    with pytest.raises(DataError, match="has 30 rows; lookback 60 and horizon 1 need at least"):
        plan_origins(prep, _config(**{"model.lookback": 60}))
    prep = prepare(series(ar1_returns(600, 0.0)))
    origins, notes = plan_origins(prep, _config(**{"model.horizon": 5}))
    assert origins[-1] == 600 - 1 - 5 and len(origins) < 500
    assert notes and "using the last" in notes[0]


def test_shrink_factor() -> None:
    rng = np.random.default_rng(0)
    pred = rng.normal(size=500)
    assert shrink_factor(pred, rng.normal(size=500)) < 0.05  # no skill: the random walk
    assert shrink_factor(pred, 0.8 * pred + 0.1 * rng.normal(size=500)) == pytest.approx(0.8, abs=0.02)
    assert shrink_factor(pred, -pred) == 0.0
    assert shrink_factor(np.zeros(10), pred[:10]) == 0.0


def test_series_with_values_below_zero_backtests_on_differences() -> None:
    """A weather-like series (a seasonal sine plus noise, crossing zero): auto sees it revert
    to its seasonal mean and models its level; on the diff path MASE is the classic one on the
    raw scale and MAPE skips exact zeros."""
    import pandas as pd
    from regapps.apps.ts.data import clean_frame

    t = np.arange(1500)
    temp = 10 * np.sin(2 * np.pi * t / 365.25) + np.random.default_rng(2).normal(0, 2, len(t))
    temp[100] = 0.0
    frame = pd.DataFrame({"day": pd.date_range("2001-01-01", periods=len(t)).strftime("%Y-%m-%d"),
                          "temp": temp}).astype(str)
    data = clean_frame(frame, "weather", date_col="day", target_col="temp")
    auto = prepare(data)
    assert auto.transform == "level" and "variance ratio" in auto.structure.transform_reason
    assert auto.feature_names[:3] == ["return", "volatility_20", "level"]
    assert {"day_of_year_sin", "day_of_year_cos"} <= set(auto.feature_names)
    prep = prepare(data, "diff")
    assert prep.transform == "diff" and prep.feature_names == ["return", "volatility_20"]
    cfg = _config(**{"backtest.test_size": 300, "backtest.refit_every": 300})
    bt = run_backtest(prep, cfg, lambda: ZeroForecaster(1))
    assert bt.metrics["naive"]["mase"] == pytest.approx(1.0, abs=0.15)
    assert all(np.isfinite(m["mape"]) for m in bt.metrics.values())
