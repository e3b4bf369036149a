"""The time-series app's configuration: the shared sections plus ``data``, ``model`` and
``backtest``. Every user-facing range check lives here, so bad flags fail before any data or
TensorFlow is touched."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from regapps.shared.config import ExperimentConfig, Section

# Letters, digits and . - = after an optional leading ^ (index tickers such as ^GSPC):
# nothing that can form a path ("/", "..", "\\") ever reaches a file name.
TICKER_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.=-]{0,19}$")


class TsDataConfig(Section):
    source: Literal["yahoo", "csv", "sample", "weather"] = Field(
        "yahoo", description="yahoo (yfinance, cached), csv (--csv), sample (offline prices) or "
                             "weather (offline Seattle weather, --series)")
    series: Literal["seattle-daily", "seattle-hourly"] | None = Field(
        None, description="weather series: seattle-daily (2012-2015: temp_max, temp_min, "
                          "precipitation, wind) or seattle-hourly (2010: temp); default seattle-daily")
    ticker: str = Field("AAPL", description="ticker symbol (sample: AAPL, IBM, MSFT, GOOG)")
    csv: str | None = Field(None, description="CSV file: Yahoo download format or any dated series")
    date_col: str | None = Field(None, description="date column (default: Date)")
    target_col: str | None = Field(None, description="target column (default: Adj Close, else Close)")
    start: str | None = Field(None, description="first date kept (YYYY-MM-DD)")
    end: str | None = Field(None, description="last date kept (YYYY-MM-DD)")
    interval: Literal["1d", "1wk", "1mo"] = Field("1d", description="yfinance bar interval")
    transform: Literal["auto", "log", "diff", "level"] = Field(
        "auto", description="log returns (log), differences (diff), or differences with the level "
                            "as an input (level, for mean-reverting series); auto chooses from "
                            "the history before the test window")
    season: int | None = Field(None, ge=2, le=100_000, description="seasonal period in rows for "
                               "seasonal naive (default: inferred from the timestamps)")
    features: list[str] = Field(default_factory=list, description="exogenous CSV columns used as "
                                "inputs (their past values only)")
    refresh_hours: float = Field(24.0, ge=0, description="re-download a cached yfinance series older than this")

    @field_validator("ticker")
    @classmethod
    def _safe_ticker(cls, value: str) -> str:
        value = value.strip().upper()
        if not TICKER_RE.match(value):
            raise ValueError("invalid ticker: use letters, digits and . - = (optionally a leading ^), "
                             "at most 20 characters")
        return value

    @field_validator("start", "end")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValueError("expected a date as YYYY-MM-DD") from exc

    @model_validator(mode="after")
    def _consistent(self) -> TsDataConfig:
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        if self.csv and "source" in self.model_fields_set and self.source != "csv":
            raise ValueError(f"--csv reads a file; it cannot be combined with --source {self.source}")
        if self.series and self.source != "weather":
            raise ValueError("--series names a weather series; use it with --source weather")
        return self

    @field_validator("features", mode="before")
    @classmethod
    def _feature_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in (x.strip() for x in value.split(",")) if v]
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("a feature column is named twice")
        return value


class TsModelConfig(Section):
    lookback: int = Field(30, ge=2, le=2000, description="days of features in each input window")
    horizon: int = Field(1, ge=1, le=250, description="forecast this many steps ahead")
    units: int = Field(32, ge=1, le=1024, description="LSTM units per layer")
    layers: int = Field(2, ge=1, le=8, description="stacked LSTM layers")
    recurrent_dropout: float = Field(0.0, ge=0, lt=1, description="dropout on the recurrent state")
    loss: Literal["huber", "mse", "mae"] = Field("huber", description="loss on scaled returns")
    shrink: bool = Field(True, description="shrink forecasts toward the random walk by a factor "
                                           "fitted on the validation tail")
    linear_skip: bool = Field(True, description="add a linear autoregressive path from the input "
                                                "window to the output beside the LSTM")
    risk: bool = Field(True, description="also fit an LSTM scale network (Gaussian likelihood on "
                                         "the point model's residuals) for probabilistic forecasts")
    cumulative: bool = Field(True, description="train on the cumulative change to each horizon "
                                               "step (direct), not on one-step changes")


class TsBacktestConfig(Section):
    test_size: int = Field(500, ge=10, le=100_000, description="forecast origins in the walk-forward test")
    refit_every: int = Field(250, ge=1, description="refit the model every this many origins")
    ma_window: int = Field(20, ge=1, le=10_000, description="moving-average baseline window")
    interval_level: float = Field(0.9, gt=0, lt=1, description="prediction-interval level")
    min_residuals: int = Field(30, ge=5, description="past residuals needed before intervals are given")
    ewma_lambda: float = Field(0.94, gt=0, lt=1, description="EWMA volatility decay used to scale residuals")
    adapt_rate: float = Field(0.005, ge=0, le=0.1, description="adaptive conformal step for the "
                                                               "interval level (0: fixed level)")
    quantiles: list[float] = Field(default_factory=lambda: [round(0.05 * i, 2) for i in range(1, 20)],
                                   description="quantile levels of the distribution forecasts, "
                                               "scored by the pinball loss")
    select_on: Literal["mase", "interval_score"] = Field(
        "mase", description="what cv minimises: the point forecast's MASE or the LSTM's "
                            "interval score at the interval level")

    @field_validator("quantiles", mode="before")
    @classmethod
    def _quantile_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in (x.strip() for x in value.split(",")) if v]
        return value

    @field_validator("quantiles")
    @classmethod
    def _quantiles_in_unit_interval(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("give at least one quantile level")
        bad = [q for q in value if not 0 < q < 1]
        if bad:
            raise ValueError(f"quantile levels must lie strictly between 0 and 1, not {bad[0]}")
        if len(set(value)) != len(value):
            raise ValueError("a quantile level is given twice")
        return sorted(value)


# The app's defaults for the shared sections. Merged under whatever the user gives (file,
# flags, --set), key by key: setting training.epochs keeps the app's monitor and patience.
APP_DEFAULTS: dict[str, Any] = {
    "regularization": {"l2": 1e-3, "dropout": 0.2},
    "optimizer": {"name": "adam", "learning_rate": 1e-3, "clipnorm": 1.0},
    "training": {"epochs": 30, "batch_size": 256, "validation_split": 0.2, "monitor": "val_mae",
                 "patience": 4},
}


class TsConfig(ExperimentConfig):
    """Defaults are chosen for honesty on noisy prices and speed on 2 CPU cores: a small
    2x32 LSTM over 30 days, L2(1e-3) + Dropout(0.2), Adam(1e-3, clipnorm 1), Huber loss,
    early stopping on the validation MAE (patience 4; the loss would include the L2 penalty,
    which keeps falling) of a time-ordered 20% tail, forecasts shrunk toward the random walk
    by a factor fitted on that tail."""

    data: TsDataConfig = Field(default_factory=TsDataConfig)
    model: TsModelConfig = Field(default_factory=TsModelConfig)
    backtest: TsBacktestConfig = Field(default_factory=TsBacktestConfig)

    @classmethod
    def app_defaults(cls, given: Mapping[str, Any]) -> Mapping[str, Any]:
        return APP_DEFAULTS
