"""The time-series app: its data and cross-validation as an :class:`~regapps.shared.app.App`,
and its Python API: backtest and forecast (each returns a plain dict and writes a complete run
directory: config.json with "meta", metrics.json, CSVs, PNG, report.md; status last), and cv
and compare, which the toolkit runs."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from regapps.shared import toolkit
from regapps.shared.environment import versions
from regapps.shared.errors import DataError
from regapps.shared.modelio import save_model
from regapps.shared.runs import Run

from . import plots
from .backtest import BASELINES, MODEL, Backtest, plan_origins, run_backtest, skill_ratio
from .config import TsConfig
from .data import DEFAULT_WEATHER, TsData, load_series
from .features import Prepared, history_rows, prepare, stamp
from .model import LstmForecaster
from .probabilistic import DESCRIPTIONS, choose_intervals, future_interval
from .report import backtest_report, forecast_report, metric_rows

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from regapps.shared.selection.compare import CompareResult
    from regapps.shared.selection.protocols import CVTask
    from regapps.shared.selection.runner import CVResult

log = logging.getLogger(__name__)
APP = "ts"
INTERVAL_METHOD = (
    "filtered historical simulation: empirical quantiles of the LSTM's walk-forward residuals, "
    "per horizon step, each divided by the EWMA volatility (RiskMetrics, lambda {lam}) known at "
    "its origin and rescaled by the volatility at the forecast origin; the quantile level adapts "
    "online to past misses (adaptive conformal inference, step {gamma}); in the backtest only "
    "residuals and misses already observed at each origin are used")


class Series(NamedTuple):
    """A loaded series and its features (unpacks as ``data, prep``)."""

    data: TsData
    prep: Prepared

    @property
    def source(self) -> str:
        return self.data.source

    @property
    def notes(self) -> list[str]:
        return self.data.notes

    def checksum(self) -> str:
        return self.data.checksum()


def load_prepared(config: TsConfig) -> Series:
    """The series, checked (a too-short one fails here, before a run directory exists), then
    TensorFlow, set up for ``training.strategy``: bad input fails in a second, before paying
    for TensorFlow."""
    from regapps.shared.distribute import check
    from regapps.shared.environment import ensure_tensorflow

    data = load_series(config.data)
    history = history_rows(len(data), config.backtest.test_size, config.model.horizon)
    prep = prepare(data, config.data.transform, config.backtest.ewma_lambda,
                   season=config.data.season, history=history)
    try:
        plan_origins(prep, config)
    except DataError as exc:
        raise DataError(f"{data.source}: {exc}") from exc
    ensure_tensorflow(config.training.strategy)
    check(config.training)
    return Series(data, prep)


class TsApp:
    """Forecasting one series; cv and compare score MASE on walk-forward folds."""

    name = APP
    config_cls = TsConfig

    def default_space(self, config: TsConfig) -> list[str]:
        """The LSTM's search space (``apps/spaces.py``)."""
        from regapps.apps.spaces import TS_SPACE

        return list(TS_SPACE)

    def load_data(self, config: TsConfig) -> Series:
        return load_prepared(config)

    def cv_task(self, config: TsConfig, data: Series) -> CVTask:
        from .cv import TsCVTask

        return TsCVTask(data.prep, config)

    def refit(self, best: TsConfig, data: Series, folder: Path) -> dict[str, Any]:
        """The best configuration backtested on the test window, once."""
        from .cv import flat_metrics

        result = backtest(best, folder=folder, name="best-backtest", prepared=data)
        rel = Path(result["run_dir"]).relative_to(folder)
        intervals = {f"{m}_interval_score": row["interval_score"] for m, row in result["probabilistic"].items()}
        return {"run_dir": result["run_dir"], "metrics": {"test": {**flat_metrics(result["metrics"]), **intervals}},
                "images": [("Walk-forward backtest of the best configuration against naive",
                            str(rel / "backtest.png"))]}


TS = TsApp()


def cv(config: TsConfig | None = None, space: Mapping[str, Any] | Sequence[str] | None = None,
       **options: Any) -> CVResult:
    """Walk-forward cross-validation (MASE) over ``space`` on the history before the backtest's
    test window (see :func:`regapps.shared.toolkit.cv` for the options), then one backtest of
    the best configuration on that window."""
    return toolkit.cv(TS, config, space, **options)


def compare(config: TsConfig | None, kind: toolkit.CompareKind, names: Sequence[str], *,
            runs_dir: Path = Path("runs"), name: str | None = None) -> CompareResult:
    """Each optimizer or regularizer on the same walk-forward split, budget and seed."""
    return toolkit.compare(TS, config, kind, names, runs_dir=runs_dir, name=name)


def backtest(config: TsConfig, *, runs_dir: Path = Path("runs"), name: str | None = None,
             verbose: int = 0, prepared: Series | None = None,
             folder: Path | None = None) -> dict[str, Any]:
    """Walk-forward evaluation of the LSTM and the baselines on the configured series (a run
    under ``runs_dir/ts``, or under ``folder``, e.g. a cv run's final test)."""
    data, prep = prepared or load_prepared(config)
    run = Run.create(runs_dir, APP, "backtest", name or _run_name(config, data), folder=folder)
    config = _with_board(config, run)
    with run.guard():
        run.write_json("config.json", {**config.to_dict(), "meta": _meta(data, prep, config)})
        bt = run_backtest(prep, config, lambda: LstmForecaster(config, verbose=verbose))
        _write_backtest(run, prep, config, bt, data)
        result = _backtest_summary(config, bt, prep, data)
        run.write_json("metrics.json", result)
        backtest_report(config, data, prep, bt, result).write(run.path)
        run.complete()
    return {"run_dir": str(run.path), **result}


def _with_board(config: TsConfig, run: Run) -> TsConfig:
    """``--tensorboard`` logs under the run directory (one folder per refit) unless a folder is set."""
    t = config.training
    if not t.tensorboard or t.tensorboard_dir:
        return config
    return config.with_training(tensorboard_dir=str(run.file("tensorboard")))


def forecast(config: TsConfig, *, runs_dir: Path = Path("runs"), name: str | None = None,
             verbose: int = 0, prepared: Series | None = None) -> dict[str, Any]:
    """Backtest (for the model's real skill and its residuals), then fit on all data and
    forecast the next ``horizon`` steps with intervals from the walk-forward residuals."""
    data, prep = prepared or load_prepared(config)
    run = Run.create(runs_dir, APP, "forecast", name or _run_name(config, data))
    config = _with_board(config, run)
    with run.guard():
        run.write_json("config.json", {**config.to_dict(), "meta": _meta(data, prep, config)})
        bt = run_backtest(prep, config, lambda: LstmForecaster(config, verbose=verbose))
        _write_backtest(run, prep, config, bt, data)
        final = LstmForecaster(config, verbose=verbose)
        last = len(prep) - 1
        fit_info = final.fit(prep, last, run_dir=run.path)
        save_model(final.model, run.file("model.keras"))
        if final.scale_model is not None:
            save_model(final.scale_model, run.file("scale_model.keras"))
        method, why = choose_intervals(bt.probabilistic)
        rows = _future(prep, final, bt, config, method)
        run.write_csv("forecast.csv", rows, ["date", "forecast", "lower", "upper"])
        summary = _backtest_summary(config, bt, prep, data)
        result = {"forecast": rows, "backtest": summary["metrics"],
                  "backtest_interval_coverage": summary["probabilistic"].get(method, {}).get(
                      "coverage", summary["interval_coverage"]),
                  "interval_level": config.backtest.interval_level,
                  "interval_method": (summary["interval_method"] if method == "ewma" else DESCRIPTIONS[method]),
                  "interval_source": method,
                  "interval_choice": why, "probabilistic": summary["probabilistic"], "final_fit": fit_info,
                  "last_date": prep.stamp(last), "last_value": float(prep.level[last]),
                  "notes": summary["notes"]}
        run.write_json("metrics.json", result)
        hist = slice(max(0, last - 250), last + 1)
        plots.forecast(prep.dates[hist], prep.level[hist], pd.to_datetime([r["date"] for r in rows]),
                       np.array([r["forecast"] for r in rows]), np.array([r["lower"] for r in rows]),
                       np.array([r["upper"] for r in rows]), run.file("forecast.png"),
                       f"{data.source}: next {config.model.horizon} steps", config.backtest.interval_level)
        forecast_report(config, data, result).write(run.path)
        run.complete()
    return {"run_dir": str(run.path), **result}


def _future(prep: Prepared, final: LstmForecaster, bt: Backtest, config: TsConfig,
            method: str) -> list[dict[str, Any]]:
    """The next ``horizon`` steps: the final fit's point path, the interval by ``method``."""
    last = np.array([len(prep) - 1])
    path = np.cumsum(final.predict(prep, last)[0])
    scale = final.predict_scale(prep, last)[0] if final.scale_model is not None else None
    lower, upper = future_interval(method, prep, path, bt.distributions, scale, config.backtest.interval_level)
    centre = prep.y[last[0]] + path
    dates = future_dates(prep.dates, len(path))
    return [{"date": stamp(d, prep.intraday), "forecast": float(prep.to_level(c)),
             "lower": float(prep.to_level(lo)), "upper": float(prep.to_level(hi))}
            for d, c, lo, hi in zip(dates, centre, lower, upper, strict=True)]


def future_dates(dates: pd.DatetimeIndex, n: int) -> pd.DatetimeIndex:
    """The next ``n`` dates: business days for weekday-only daily data (exchange holidays are
    not known, so a holiday may appear), else the series' own frequency or median spacing."""
    last = dates[-1]
    recent = dates[-30:]
    step = pd.Series(recent).diff().median()
    daily = pd.Timedelta(hours=12) <= step <= pd.Timedelta(days=1.5)
    if daily and (recent.dayofweek < 5).all():
        return pd.bdate_range(last + pd.offsets.BDay(1), periods=n)
    freq = pd.infer_freq(recent) if len(recent) >= 3 else None
    if freq:
        return pd.date_range(last, periods=n + 1, freq=freq)[1:]
    return pd.DatetimeIndex([last + step * (i + 1) for i in range(n)])


def _backtest_summary(config: TsConfig, bt: Backtest, prep: Prepared, data: TsData) -> dict[str, Any]:
    ratio, best = skill_ratio(bt.metrics)
    return {"metrics": bt.metrics, "interval_coverage": bt.interval_coverage,
            "interval_level": config.backtest.interval_level, "interval_n": bt.interval_n,
            "interval_method": INTERVAL_METHOD.format(lam=config.backtest.ewma_lambda,
                                                      gamma=config.backtest.adapt_rate),
            "horizon": config.model.horizon, "n_test": int(len(bt.origins)),
            "test_start": prep.stamp(int(bt.origins[0])),
            "test_end": prep.stamp(int(bt.origins[-1]) + config.model.horizon),
            "mase_scale": bt.mase_scale, "season": prep.season, "transform": prep.transform,
            "skill_ratio": ratio, "best_baseline": best,
            "mase_note": (f"MASE on {'log values' if prep.transform == 'log' else 'values'} (y), "
                          "scaled by the in-sample naive MAE at the same horizon; mase_seasonal "
                          f"by the in-sample seasonal-naive MAE (season {prep.season}); "
                          "skill_ratio: the LSTM's MASE over the best of naive, seasonal naive "
                          "and drift"),
            "probabilistic": _probabilistic(bt.probabilistic),
            "probabilistic_n": bt.probabilistic.get("n", 0),
            "probabilistic_best_baseline": bt.probabilistic.get("best_baseline"),
            "probabilistic_by_step": bt.probabilistic.get("by_step", {}),
            "reliability": bt.probabilistic.get("reliability", {}),
            "refits": bt.refits, "notes": data.notes + bt.notes}


def _probabilistic(scores: dict[str, Any]) -> dict[str, Any]:
    """``{METHOD: {coverage, interval_score, pinball, dm_p_value, ...}}`` at the last step."""
    keys = ("coverage", "interval_score", "pinball", "dm_p_value", "width", "versus")
    return {m: {k: row.get(k) for k in keys} for m, row in scores.get("methods", {}).items()}


def _write_backtest(run: Run, prep: Prepared, config: TsConfig, bt: Backtest, data: TsData) -> None:
    h = config.model.horizon
    y0 = prep.y[bt.origins]
    target = bt.origins + h
    level = {m: prep.to_level(y0 + p[:, -1]) for m, p in bt.paths.items()}
    lower, upper = prep.to_level(bt.lower[:, -1]), prep.to_level(bt.upper[:, -1])
    frame = pd.DataFrame({"origin_date": [prep.stamp(int(o)) for o in bt.origins],
                          "target_date": [prep.stamp(int(t)) for t in target],
                          "actual": prep.level[target], **level, "lower": lower, "upper": upper})
    run.write_text("predictions.csv", frame.to_csv(index=False))
    run.write_csv("metrics.csv", metric_rows(bt.metrics))
    run.write_csv("refits.csv", bt.refits)
    plots.backtest(prep.dates[target], prep.level[target], {m: level[m] for m in (MODEL, *BASELINES)},
                   lower, upper, run.file("backtest.png"),
                   f"{data.source}: walk-forward, {h}-step ahead", config.backtest.interval_level)
    p = bt.probabilistic
    if p.get("reliability"):
        widths = {m: d.upper[:, -1] - d.lower[:, -1] for m, d in bt.distributions.items()}
        rel = dict(p["reliability"])
        plots.probabilistic(rel.pop("levels"), rel, prep.dates[target], widths,
                            run.file("probabilistic.png"), f"{h}-step", config.backtest.interval_level)
        run.write_csv("probabilistic.csv", [{"method": m, **row} for m, rows in p["by_step"].items()
                                            for row in rows])


def _run_name(config: TsConfig, data: TsData) -> str:
    d = config.data
    base = Path(d.csv).stem if d.csv else (d.series or DEFAULT_WEATHER) if d.source == "weather" else d.ticker
    return f"{base}-h{config.model.horizon}"


def _meta(data: TsData, prep: Prepared, config: TsConfig) -> dict[str, Any]:
    return {"app": APP, "created": datetime.now().isoformat(timespec="seconds"),
            "versions": versions(), "seed": config.training.seed, "data_source": data.source,
            "data_sha256": data.checksum(), "target_column": data.target_name,
            "transform": prep.transform, "transform_reason": _reason(prep, "transform"),
            "season": prep.season, "season_reason": _reason(prep, "season"),
            "features": prep.feature_names, "n_rows": len(prep),
            "first_date": prep.stamp(0), "last_date": prep.stamp(len(prep) - 1),
            "notes": data.notes}


def _reason(prep: Prepared, what: str) -> str | None:
    return getattr(prep.structure, f"{what}_reason") if prep.structure else None
