"""The series' structure chosen from its history: the seasonal period (from the timestamps),
the transform (levels for a mean-reverting series, log returns for prices, differences
otherwise), the calendar and exogenous inputs, and the seasonal-naive baseline."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from regapps.apps.ts.backtest import baseline_paths
from regapps.apps.ts.data import clean_frame
from regapps.apps.ts.features import prepare
from regapps.apps.ts.structure import choose_transform, infer_season, variance_ratio
from regapps.shared.errors import DataError

from .synth import ar1_returns, seasonal_frame, series


def _seasonal(n: int = 2000, **kwargs: object):  # type: ignore[no-untyped-def]
    frame = seasonal_frame(n, **kwargs)  # type: ignore[arg-type]
    features = ["lead"] if kwargs.get("exogenous") else None
    return clean_frame(frame, "generated", date_col="date", target_col="temp", features=features)


@pytest.mark.parametrize("freq, period, expected", [("h", 24, 24), ("D", 7, 7), ("h", 168, 168)])
def test_season_is_inferred_from_the_spacing_and_the_history(freq: str, period: int, expected: int) -> None:
    data = _seasonal(4000, freq=freq, period=period)
    season, why = infer_season(data.dates, data.values, 3000, None, "generated")
    assert season == expected and "seasonal-naive MAE" in why


def test_business_days_and_a_pinned_season() -> None:
    data = series(ar1_returns(800, 0.0))
    season, why = infer_season(data.dates, data.values, 700, None, "prices")
    assert season == 5 and why.startswith("business-daily")
    assert infer_season(data.dates, data.values, 700, 9, "prices") == (9, "given by --season")
    with pytest.raises(DataError, match="season 400 is longer than half the 700 rows"):
        infer_season(data.dates, data.values, 700, 400, "prices")


def test_transform_follows_the_series() -> None:
    prices = series(np.random.default_rng(0).normal(0, 0.01, 1500)).values
    temps = _seasonal(3000).values
    walk = np.cumsum(np.random.default_rng(1).normal(0, 1, 1500))  # crosses zero
    assert choose_transform(prices, 1000, "auto", "p", 5)[0] == "log"
    kind, why = choose_transform(temps, 2500, "auto", "t", 24)
    assert kind == "level" and "mean-reverting" in why
    assert choose_transform(walk, 1000, "auto", "w", 5)[0] == "diff"
    assert choose_transform(temps, 2500, "diff", "t", 24) == ("diff", "given by --transform")
    with pytest.raises(DataError, match="log returns are undefined"):
        choose_transform(walk, 1000, "log", "w", 5)
    # the ratio itself: about 1 on a random walk, near 0 on a cycle judged over whole seasons
    assert 0.8 < variance_ratio(np.cumsum(np.random.default_rng(2).normal(0, 1, 5000)), 30)[0] < 1.2
    assert variance_ratio(temps, 48)[0] < 0.1


def test_transform_is_judged_on_the_history_only() -> None:
    """The test window cannot change the choice: a series that reverts in its history and
    wanders afterwards is still modelled on its level."""
    temps = _seasonal(3000).values.copy()
    temps[2500:] += np.cumsum(np.random.default_rng(3).normal(0, 3, 500))
    assert choose_transform(temps, 2500, "auto", "t", 24)[0] == "level"


def test_level_inputs_calendar_and_exogenous_columns_are_causal() -> None:
    data = _seasonal(2000, exogenous=True)
    full = prepare(data, history=1500)
    assert full.transform == "level" and full.season == 24
    names = full.feature_names
    assert names[:3] == ["return", "volatility_20", "level"] and names[-1] == "lead"
    assert {"time_of_day_sin", "time_of_day_cos"} <= set(names)
    np.testing.assert_allclose(full.features[:, names.index("level")], data.values)
    np.testing.assert_allclose(full.features[:, -1], data.frame["x:lead"].to_numpy())
    for cut in (600, 1200):
        short = type(data)(frame=data.frame.iloc[:cut], source="cut", target_name=data.target_name)
        part = prepare(short, "level", season=24)
        np.testing.assert_allclose(part.features[part.start:], full.features[part.start:cut])


def test_seasonal_naive_repeats_the_last_observed_season() -> None:
    data = _seasonal(500)
    prep = prepare(data, history=400)
    origins = np.array([100, 250])
    paths = baseline_paths(prep, origins, 30, 20)["seasonal_naive"]
    for i, o in enumerate(origins):
        for k in range(1, 31):
            source = o + k - 24 * int(np.ceil(k / 24))
            assert source <= o
            assert paths[i, k - 1] == pytest.approx(prep.y[source] - prep.y[o])


def test_unknown_or_target_feature_columns_are_refused() -> None:
    frame = seasonal_frame(100, exogenous=True)
    with pytest.raises(DataError, match="no feature column 'wind'.*check --features"):
        clean_frame(frame, "generated", date_col="date", target_col="temp", features=["wind"])
    with pytest.raises(DataError, match="is the target column"):
        clean_frame(frame, "generated", date_col="date", target_col="temp", features=["temp"])
    bad = frame.copy()
    bad.loc[5, "lead"] = "windy"
    with pytest.raises(DataError, match="column 'lead' has a non-numeric value 'windy'"):
        clean_frame(bad, "generated", date_col="date", target_col="temp", features=["lead"])


def test_future_dates_keep_an_hourly_spacing() -> None:
    from regapps.apps.ts.task import future_dates

    for n in (100, 120):  # ending on a Tuesday, with or without a Sunday in the last 30 hours
        data = _seasonal(n)
        nxt = future_dates(data.dates, 3)
        assert list(nxt) == [data.dates[-1] + pd.Timedelta(hours=h) for h in (1, 2, 3)]
    prep = prepare(_seasonal(120), history=100)
    assert prep.intraday and prep.stamp(119) == "2010-01-05 23:00"
