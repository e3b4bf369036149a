"""``regapps ts``: thin Typer commands over :mod:`regapps.apps.ts.task`."""
from __future__ import annotations

from typing import Annotated, Any

import typer
from regapps.apps import commands as c
from regapps.apps import options as o
from regapps.apps.spaces import TS_SPACE

app = typer.Typer(help="Stock-price and weather forecasting: a stacked LSTM trained with Adam, "
                       "judged by walk-forward backtests against naive, seasonal naive, drift and "
                       "moving-average baselines.",
                  no_args_is_help=True)

D, M, B = "Data", "Model", "Backtest"
Source = Annotated[str | None, typer.Option("--source", help="yahoo (yfinance, cached; default), csv, sample (offline prices: AAPL, IBM, MSFT, GOOG 2000-2013) or weather (offline Seattle weather, see --series).", rich_help_panel=D)]
Series_ = Annotated[str | None, typer.Option("--series", help="Weather series: seattle-daily (2012-2015, target temp_max; also temp_min, precipitation, wind) or seattle-hourly (2010, temp).", rich_help_panel=D)]
Season = Annotated[int | None, typer.Option("--season", help="Seasonal period in rows for seasonal naive (default: inferred from the timestamps: a day or week for hourly data, a week or year for daily).", rich_help_panel=D)]
Features = Annotated[str | None, typer.Option("--features", help="Exogenous columns used as inputs, comma-separated, e.g. temp_min,precipitation,wind (their past values only).", rich_help_panel=D)]
Ticker = Annotated[str | None, typer.Option("--ticker", help="Ticker symbol, e.g. AAPL.", rich_help_panel=D)]
Csv = Annotated[str | None, typer.Option("--csv", help="CSV in Yahoo download format, or any dated series (with --date-col/--target-col).", rich_help_panel=D)]
DateCol = Annotated[str | None, typer.Option("--date-col", help="Date column of --csv (default Date).", rich_help_panel=D)]
TargetCol = Annotated[str | None, typer.Option("--target-col", help="Target column (default Adj Close, else Close).", rich_help_panel=D)]
Start = Annotated[str | None, typer.Option("--start", help="First date kept, YYYY-MM-DD.", rich_help_panel=D)]
End = Annotated[str | None, typer.Option("--end", help="Last date kept, YYYY-MM-DD.", rich_help_panel=D)]
Interval = Annotated[str | None, typer.Option("--interval", help="yfinance bars: 1d, 1wk or 1mo.", rich_help_panel=D)]
Transform = Annotated[str | None, typer.Option("--transform", help="auto (default: level for a mean-reverting series, log returns for a positive wandering one, else diff), log, diff, or level (differences with the level and calendar cycles as inputs).", rich_help_panel=D)]
Lookback = Annotated[int | None, typer.Option("--lookback", help="Days of features per input window (default 30).", rich_help_panel=M)]
Horizon = Annotated[int | None, typer.Option("--horizon", help="Steps ahead to forecast (default 1).", rich_help_panel=M)]
Units = Annotated[int | None, typer.Option("--units", help="LSTM units per layer (default 32).", rich_help_panel=M)]
Layers = Annotated[int | None, typer.Option("--layers", help="Stacked LSTM layers (default 2).", rich_help_panel=M)]
RecDropout = Annotated[float | None, typer.Option("--recurrent-dropout", help="Dropout on the recurrent state (default 0).", rich_help_panel=o.REG)]
Shrink = Annotated[bool | None, typer.Option("--shrink/--no-shrink", help="Shrink forecasts toward the random walk by a factor fitted on the validation tail (default on).", rich_help_panel=M, show_default=False)]
TestSize = Annotated[int | None, typer.Option("--test-size", help="Forecast origins in the walk-forward test (default 500).", rich_help_panel=B)]
RefitEvery = Annotated[int | None, typer.Option("--refit-every", help="Refit every this many origins (default 250).", rich_help_panel=B)]
MaWindow = Annotated[int | None, typer.Option("--ma-window", help="Moving-average baseline window (default 20).", rich_help_panel=B)]
Level = Annotated[float | None, typer.Option("--interval-level", help="Prediction-interval level (default 0.9).", rich_help_panel=B)]
Quantiles = Annotated[str | None, typer.Option("--quantiles", help="Quantile levels of the distribution forecasts, comma-separated, each in (0, 1) (default 0.05,0.10,...,0.95).", rich_help_panel=B)]
SelectOn = Annotated[str | None, typer.Option("--select-on", help="What cv minimises: mase (the point forecast, default) or interval_score (the LSTM's intervals).", rich_help_panel=B)]


def _csv_means_source(values: dict[str, Any]) -> None:
    if values.get("csv") and not values.get("source"):
        values["source"] = "csv"


def _flags(*names: str, table: dict[str, c.Flag]) -> tuple[c.Flag, ...]:
    return tuple(table[n] for n in names)


MODEL = {f.name: f for f in (
    c.Flag("lookback", Lookback, "model.lookback"), c.Flag("horizon", Horizon, "model.horizon"),
    c.Flag("units", Units, "model.units"), c.Flag("layers", Layers, "model.layers"),
    c.Flag("recurrent_dropout", RecDropout, "model.recurrent_dropout"), c.Flag("shrink", Shrink, "model.shrink"),
    c.Flag("test_size", TestSize, "backtest.test_size"), c.Flag("refit_every", RefitEvery, "backtest.refit_every"),
    c.Flag("ma_window", MaWindow, "backtest.ma_window"), c.Flag("interval_level", Level, "backtest.interval_level"),
    c.Flag("quantiles", Quantiles, "backtest.quantiles"), c.Flag("select_on", SelectOn, "backtest.select_on"),
)}
TS = c.AppCommands(
    name="ts", task="regapps.apps.ts.task", app_object="TS",
    data=(c.Flag("source", Source, "data.source"), c.Flag("ticker", Ticker, "data.ticker"),
          c.Flag("csv", Csv, "data.csv"), c.Flag("date_col", DateCol, "data.date_col"),
          c.Flag("target_col", TargetCol, "data.target_col"), c.Flag("start", Start, "data.start"),
          c.Flag("end", End, "data.end"), c.Flag("interval", Interval, "data.interval"),
          c.Flag("transform", Transform, "data.transform"), c.Flag("series", Series_, "data.series"),
          c.Flag("season", Season, "data.season"), c.Flag("features", Features, "data.features")),
    cv=_flags("lookback", "horizon", "test_size", "refit_every", "interval_level", "select_on", table=MODEL),
    compare=_flags("lookback", "horizon", "test_size", table=MODEL),
    tensorflow_first=False, many_fits=True, adjust=_csv_means_source,
)
FIT = (*(f for n, f in MODEL.items() if n != "select_on"), *(c.TRAINING[n] for n in (
    "l1", "l2", "dropout", "optimizer", "learning_rate", "weight_decay", "schedule", "batch_size", "epochs",
    "patience", "early_stopping", "validation_split", "seed", "time_budget", "strategy", "precision",
    "tensorboard")), *c.CONFIG, *c.OUTPUT)


def _fit_command(command: str, human: Any, doc: str) -> None:
    """backtest and forecast: the same flags, a config, one call of the task."""
    flags = (*TS.data, *FIT)

    def body(values: dict[str, Any]) -> None:
        from regapps.shared.config import build_config

        from .config import TsConfig

        _csv_means_source(values)
        v = values
        cfg = build_config(TsConfig, config_file=v["config"], flags=c.config_flags(flags, v), sets=v["set_"] or [])
        verbosity = o.keras_verbosity(v["json_"], v["verbose"], many_fits=True)

        def run() -> Any:
            from . import task

            return getattr(task, command)(cfg, runs_dir=v["runs_dir"], name=v["name"], verbose=verbosity)

        o.run_command(v["json_"], v["verbose"], run, human, tensorflow=False,
                      mlflow=o.mlflow_target(v["mlflow_uri"], "ts", command))

    c.add_command(app, command, flags, body, doc)


def _backtest_human(r: dict[str, Any]) -> str:
    from .report import text_table

    cov = r["interval_coverage"]
    return (f"ts backtest: {r['n_test']} origins, {r['horizon']}-step ahead, "
            f"{r['test_start']} to {r['test_end']}\n{text_table(r['metrics'])}\n"
            f"{r['interval_level']:.0%} interval coverage: "
            f"{'n/a' if cov is None else f'{cov:.3f}'} (n={r['interval_n']})\n"
            f"{_probabilistic_lines(r)}-> {r['run_dir']}")


def _probabilistic_lines(r: dict[str, Any]) -> str:
    methods = r.get("probabilistic") or {}
    if not methods:
        return ""
    lines = [f"distribution forecasts (n={r['probabilistic_n']}, vs {r['probabilistic_best_baseline']}):",
             f"{'method':<12}{'coverage':>10}{'int.score':>12}{'pinball':>12}{'DM p':>8}"]
    lines += [f"{m:<12}{_n(v['coverage']):>10}{v['interval_score']:>12.5g}{v['pinball']:>12.5g}"
              f"{_n(v['dm_p_value']):>8}" for m, v in methods.items()]
    return "\n".join(lines) + "\n"



def _forecast_human(r: dict[str, Any]) -> str:
    level = r["interval_level"]
    lines = [f"ts forecast from {r['last_date']} (last {r['last_value']:.4f}), "
             f"{level:.0%} intervals:",
             f"{'date':<12}{'forecast':>12}{'lower':>12}{'upper':>12}"]
    lines += [f"{p['date']:<12}{p['forecast']:>12.4f}{p['lower']:>12.4f}{p['upper']:>12.4f}"
              for p in r["forecast"]]
    b = r["backtest"]
    lines.append(f"backtest MASE: lstm {_n(b['lstm']['mase'])} vs naive {_n(b['naive']['mase'])}"
                 f" (DM p {_n(b['lstm']['dm_p_value'])}); interval coverage "
                 f"{_n(r['backtest_interval_coverage'])}\nintervals: {r['interval_source']} "
                 f"({r['interval_choice']}) -> {r['run_dir']}")
    return "\n".join(lines)



def _n(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


_fit_command("backtest", _backtest_human,
             "Walk-forward backtest (expanding window) of the LSTM against naive, drift and moving average.")
_fit_command("forecast", _forecast_human,
             "Fit on all data and forecast the next --horizon steps with prediction intervals.\n\n"
             "The walk-forward backtest runs first, so the model's real skill (MASE vs naive) is shown.")
c.add_cv(app, TS, "Choose hyperparameters by walk-forward cross-validation (MASE) on the history before the "
         "backtest's test window, then backtest the best configuration on that window once.",
         spaces=" ".join(TS_SPACE) + ".")
c.add_compare(app, TS, "Train each optimizer or regularizer on the same walk-forward split, budget and seed.")
