"""Distribution forecasts: the scores by hand, no look past an origin for any method, the
choice of the forecast's intervals, and on a GARCH process (whose true distribution is known)
intervals near their nominal coverage that beat the unconditional baseline."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from regapps.apps.ts.backtest import run_backtest
from regapps.apps.ts.config import TsConfig
from regapps.apps.ts.features import prepare
from regapps.apps.ts.metrics import dm_test
from regapps.apps.ts.model import LstmForecaster
from regapps.apps.ts.probabilistic import (
    TAUS,
    central_pairs,
    choose_intervals,
    garch_method,
    historical_method,
    interval_score,
    pinball,
    walk_forward_quantiles,
)
from regapps.shared.config import build_config

from .synth import garch_returns, series


def test_pinball_and_interval_score_by_hand() -> None:
    y = np.array([1.0, 3.0])
    q = np.array([[0.0, 2.0], [0.0, 2.0]])  # quantiles at 0.1 and 0.9
    taus = np.array([0.1, 0.9])
    # y=1: 0.1*1 and 0.1*1 -> mean 0.1; y=3: 0.1*3 and 0.9*1 -> mean 0.6
    np.testing.assert_allclose(pinball(y, q, taus), [0.1, 0.6])
    lo, hi = np.array([0.0, 0.0, 0.0]), np.array([2.0, 2.0, 2.0])
    # width 2; a miss of 1 above or below adds 2 / (1 - 0.8) = 10 per unit
    np.testing.assert_allclose(interval_score(np.array([1.0, 3.0, -0.5]), lo, hi, 0.8), [2.0, 12.0, 7.0])
    assert [p[0] for p in central_pairs(TAUS)] == pytest.approx([0.1 * i for i in range(1, 10)])


def test_dm_test_sign_and_no_difference() -> None:
    rng = np.random.default_rng(0)
    d = rng.normal(-0.5, 1.0, 400)  # the model's loss is lower
    stat, p = dm_test(d, 1)
    assert stat is not None and stat < 0 and p is not None and p < 1e-6
    assert dm_test(np.zeros(50), 1) == (None, None)


def test_no_method_reads_past_the_origin() -> None:
    prep = prepare(series(garch_returns(900, seed=1)))
    origins = np.arange(600, 700)
    cut = 650
    changed = prepare(series(np.r_[garch_returns(900, seed=1)[:cut + 1], np.full(900 - cut - 1, 0.2)]))
    for method in (lambda p: historical_method(p, origins, 3, 0.9),
                   lambda p: garch_method(p, origins, 3, 0.9, refit_every=200)):
        a, b = method(prep), method(changed)
        early = origins <= cut  # forecasts made at origins up to the cut see the same rows
        np.testing.assert_allclose(a.quantiles[early], b.quantiles[early])
        np.testing.assert_allclose(a.lower[early], b.lower[early])
        assert not np.allclose(a.quantiles[~early], b.quantiles[~early])
    z = np.random.default_rng(2).normal(size=(100, 2))
    z2 = z.copy()
    z2[60:] *= 40
    q, q2 = walk_forward_quantiles(z, TAUS, 10), walk_forward_quantiles(z2, TAUS, 10)
    np.testing.assert_array_equal(q[:61, 0], q2[:61, 0])  # z[j, 0] is known at origin j + 1
    np.testing.assert_array_equal(q[:62, 1], q2[:62, 1])


def test_forecast_uses_the_lstm_intervals_only_when_they_win() -> None:
    scores: dict[str, Any] = {"best_baseline": "garch", "methods": {
        "lstm": {"interval_score": 1.0}, "garch": {"interval_score": 1.1}, "ewma": {"interval_score": 1.2}}}
    assert choose_intervals(scores)[0] == "lstm"
    scores["methods"]["lstm"]["interval_score"] = 1.15
    method, why = choose_intervals(scores)
    assert method == "garch" and "do not beat the best baseline" in why


@pytest.mark.slow
def test_lstm_intervals_on_a_garch_process_are_calibrated_and_beat_historical() -> None:
    """Returns from a GARCH(1,1)-t process: volatility clusters, so the intervals must follow
    it. The LSTM's 90% intervals cover 85-95% of 600 origins, and their interval score beats the
    unconditional historical quantiles'; fitted GARCH, the true model, is near nominal too."""
    cfg = build_config(TsConfig, sets=["model.lookback=20", "model.units=8", "model.layers=1",
                                       "training.epochs=12", "training.batch_size=128",
                                       "backtest.test_size=600", "backtest.refit_every=600"])
    prep = prepare(series(garch_returns(3000, seed=3)))
    bt = run_backtest(prep, cfg, lambda: LstmForecaster(cfg))
    methods = bt.probabilistic["methods"]
    print({m: (round(r["coverage"], 3), round(r["interval_score"], 5)) for m, r in methods.items()})
    assert bt.probabilistic["n"] == 600
    assert 0.85 <= methods["lstm"]["coverage"] <= 0.95
    assert 0.85 <= methods["garch"]["coverage"] <= 0.95
    assert methods["lstm"]["interval_score"] < methods["historical"]["interval_score"]
    assert methods["garch"]["interval_score"] < methods["historical"]["interval_score"]
