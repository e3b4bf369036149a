"""``regapps ts``: thin Typer commands over :mod:`regapps.apps.ts.task`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from regapps.apps import options as o

app = typer.Typer(help="Stock-price forecasting: a stacked LSTM trained with Adam, judged by "
                       "walk-forward backtests against naive, drift and moving-average baselines.",
                  no_args_is_help=True)

D, M, B = "Data", "Model", "Backtest"
Source = Annotated[Optional[str], typer.Option("--source", help="yahoo (yfinance, cached; default), csv, or sample (offline: AAPL, IBM, MSFT, GOOG 2000-2013).", rich_help_panel=D)]
Ticker = Annotated[Optional[str], typer.Option("--ticker", help="Ticker symbol, e.g. AAPL.", rich_help_panel=D)]
Csv = Annotated[Optional[str], typer.Option("--csv", help="CSV in Yahoo download format, or any dated series (with --date-col/--target-col).", rich_help_panel=D)]
DateCol = Annotated[Optional[str], typer.Option("--date-col", help="Date column of --csv (default Date).", rich_help_panel=D)]
TargetCol = Annotated[Optional[str], typer.Option("--target-col", help="Target column (default Adj Close, else Close).", rich_help_panel=D)]
Start = Annotated[Optional[str], typer.Option("--start", help="First date kept, YYYY-MM-DD.", rich_help_panel=D)]
End = Annotated[Optional[str], typer.Option("--end", help="Last date kept, YYYY-MM-DD.", rich_help_panel=D)]
Interval = Annotated[Optional[str], typer.Option("--interval", help="yfinance bars: 1d, 1wk or 1mo.", rich_help_panel=D)]
Transform = Annotated[Optional[str], typer.Option("--transform", help="auto, log (log returns) or diff (differences, for series with values <= 0).", rich_help_panel=D)]
Lookback = Annotated[Optional[int], typer.Option("--lookback", help="Days of features per input window (default 30).", rich_help_panel=M)]
Horizon = Annotated[Optional[int], typer.Option("--horizon", help="Steps ahead to forecast (default 1).", rich_help_panel=M)]
Units = Annotated[Optional[int], typer.Option("--units", help="LSTM units per layer (default 32).", rich_help_panel=M)]
Layers = Annotated[Optional[int], typer.Option("--layers", help="Stacked LSTM layers (default 2).", rich_help_panel=M)]
RecDropout = Annotated[Optional[float], typer.Option("--recurrent-dropout", help="Dropout on the recurrent state (default 0).", rich_help_panel=o.REG)]
Shrink = Annotated[Optional[bool], typer.Option("--shrink/--no-shrink", help="Shrink forecasts toward the random walk by a factor fitted on the validation tail (default on).", rich_help_panel=M, show_default=False)]
TestSize = Annotated[Optional[int], typer.Option("--test-size", help="Forecast origins in the walk-forward test (default 500).", rich_help_panel=B)]
RefitEvery = Annotated[Optional[int], typer.Option("--refit-every", help="Refit every this many origins (default 250).", rich_help_panel=B)]
MaWindow = Annotated[Optional[int], typer.Option("--ma-window", help="Moving-average baseline window (default 20).", rich_help_panel=B)]
Level = Annotated[Optional[float], typer.Option("--interval-level", help="Prediction-interval level (default 0.9).", rich_help_panel=B)]


def _build(config: Path | None, sets: list[str] | None, **flags: Any) -> Any:
    from regapps.shared.config import build_config

    from .config import TsConfig

    data = {k: flags.pop(k) for k in ("source", "ticker", "csv", "date_col", "target_col", "start",
                                      "end", "interval", "transform")}
    if data["csv"] and not data["source"]:
        data["source"] = "csv"
    model = {k: flags.pop(k) for k in ("lookback", "horizon", "units", "layers",
                                       "recurrent_dropout", "shrink")}
    bt = {k: flags.pop(k) for k in ("test_size", "refit_every", "ma_window")}
    bt["interval_level"] = flags.pop("interval_level")
    dotted = o.training_flags(**flags)
    dotted.update({f"data.{k}": v for k, v in data.items()})
    dotted.update({f"model.{k}": v for k, v in model.items()})
    dotted.update({f"backtest.{k}": v for k, v in bt.items()})
    return build_config(TsConfig, config_file=config, flags=dotted, sets=sets or [])


def _run(command: str, cfg: Any, runs_dir: Path, name: str | None, json_: bool,
         verbose: bool) -> dict[str, Any]:
    from . import task

    return getattr(task, command)(cfg, runs_dir=runs_dir, name=name, prepared=_prepared(cfg, verbose),
                                  verbose=1 if verbose and not json_ else 0)


@app.command()
def backtest(
    source: Source = None, ticker: Ticker = None, csv: Csv = None, date_col: DateCol = None,
    target_col: TargetCol = None, start: Start = None, end: End = None, interval: Interval = None,
    transform: Transform = None, lookback: Lookback = None, horizon: Horizon = None,
    units: Units = None, layers: Layers = None, recurrent_dropout: RecDropout = None,
    shrink: Shrink = None, test_size: TestSize = None, refit_every: RefitEvery = None,
    ma_window: MaWindow = None, interval_level: Level = None,
    l1: o.L1 = None, l2: o.L2 = None, dropout: o.Dropout = None, optimizer: o.Optimizer = None,
    learning_rate: o.LearningRate = None, weight_decay: o.WeightDecay = None,
    schedule: o.Schedule = None, batch_size: o.BatchSize = None, epochs: o.Epochs = None,
    patience: o.Patience = None, early_stopping: o.EarlyStopping = None,
    validation_split: o.ValidationSplit = None, seed: o.Seed = None,
    time_budget: o.TimeBudget = None, strategy: o.Strategy = None, precision: o.Precision = None,
    tensorboard: o.TensorBoard = None, config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Walk-forward backtest (expanding window) of the LSTM against naive, drift and moving average."""
    flags = {k: v for k, v in locals().items()
             if k not in ("config", "set_", "runs_dir", "name", "json_", "verbose", "mlflow_uri")}
    cfg = _build(config, set_, **flags)

    def body() -> dict[str, Any]:
        return _run("backtest", cfg, runs_dir, name, json_, verbose)

    mlflow = o.mlflow_target(mlflow_uri, "ts", "backtest")

    def human(r: dict[str, Any]) -> str:
        from .report import text_table

        cov = r["interval_coverage"]
        return (f"ts backtest: {r['n_test']} origins, {r['horizon']}-step ahead, "
                f"{r['test_start']} to {r['test_end']}\n{text_table(r['metrics'])}\n"
                f"{r['interval_level']:.0%} interval coverage: "
                f"{'n/a' if cov is None else f'{cov:.3f}'} (n={r['interval_n']}) -> {r['run_dir']}")

    o.run_command(json_, verbose, body, human, tensorflow=False, mlflow=mlflow)


@app.command()
def forecast(
    source: Source = None, ticker: Ticker = None, csv: Csv = None, date_col: DateCol = None,
    target_col: TargetCol = None, start: Start = None, end: End = None, interval: Interval = None,
    transform: Transform = None, lookback: Lookback = None, horizon: Horizon = None,
    units: Units = None, layers: Layers = None, recurrent_dropout: RecDropout = None,
    shrink: Shrink = None, test_size: TestSize = None, refit_every: RefitEvery = None,
    ma_window: MaWindow = None, interval_level: Level = None,
    l1: o.L1 = None, l2: o.L2 = None, dropout: o.Dropout = None, optimizer: o.Optimizer = None,
    learning_rate: o.LearningRate = None, weight_decay: o.WeightDecay = None,
    schedule: o.Schedule = None, batch_size: o.BatchSize = None, epochs: o.Epochs = None,
    patience: o.Patience = None, early_stopping: o.EarlyStopping = None,
    validation_split: o.ValidationSplit = None, seed: o.Seed = None,
    time_budget: o.TimeBudget = None, strategy: o.Strategy = None, precision: o.Precision = None,
    tensorboard: o.TensorBoard = None, config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Fit on all data and forecast the next --horizon steps with prediction intervals.

    The walk-forward backtest runs first, so the model's real skill (MASE vs naive) is shown."""
    flags = {k: v for k, v in locals().items()
             if k not in ("config", "set_", "runs_dir", "name", "json_", "verbose", "mlflow_uri")}
    cfg = _build(config, set_, **flags)

    def body() -> dict[str, Any]:
        return _run("forecast", cfg, runs_dir, name, json_, verbose)

    mlflow = o.mlflow_target(mlflow_uri, "ts", "forecast")

    def human(r: dict[str, Any]) -> str:
        level = r["interval_level"]
        lines = [f"ts forecast from {r['last_date']} (last {r['last_value']:.4f}), "
                 f"{level:.0%} intervals:",
                 f"{'date':<12}{'forecast':>12}{'lower':>12}{'upper':>12}"]
        lines += [f"{p['date']:<12}{p['forecast']:>12.4f}{p['lower']:>12.4f}{p['upper']:>12.4f}"
                  for p in r["forecast"]]
        b = r["backtest"]
        lines.append(f"backtest MASE: lstm {_n(b['lstm']['mase'])} vs naive {_n(b['naive']['mase'])}"
                     f" (DM p {_n(b['lstm']['dm_p_value'])}); interval coverage "
                     f"{_n(r['backtest_interval_coverage'])} -> {r['run_dir']}")
        return "\n".join(lines)

    o.run_command(json_, verbose, body, human, tensorflow=False, mlflow=mlflow)


def _n(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@app.command()
def cv(
    ctx: typer.Context,
    grid: o.Grid = None, search: o.Search = "grid", n_iter: o.NIter = 10, folds: o.Folds = 3,
    seeds: o.Seeds = 1, eta: o.Eta = 3, resume: o.Resume = None,
    executor: o.Executor = "sequential", jobs: o.Jobs = None, scheduler: o.Scheduler = None,
    source: Source = None, ticker: Ticker = None, csv: Csv = None, date_col: DateCol = None,
    target_col: TargetCol = None, start: Start = None, end: End = None, interval: Interval = None,
    transform: Transform = None, lookback: Lookback = None, horizon: Horizon = None,
    test_size: TestSize = None, refit_every: RefitEvery = None,
    epochs: o.Epochs = None, patience: o.Patience = None, seed: o.Seed = None,
    tensorboard: o.TensorBoard = None, config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Choose hyperparameters by walk-forward cross-validation (MASE) on the history before the
    backtest's test window, then backtest the best configuration on that window once."""
    from .config import TsConfig

    flags = _flags(source=source, ticker=ticker, csv=csv, date_col=date_col, target_col=target_col,
                   start=start, end=end, interval=interval, transform=transform, lookback=lookback,
                   horizon=horizon, test_size=test_size, refit_every=refit_every, epochs=epochs,
                   patience=patience, seed=seed, tensorboard=tensorboard)
    base, plan = o.plan_cv(TsConfig, config, flags, set_, grid=grid, search=search, n_iter=n_iter,
                           folds=folds, seeds=seeds, eta=eta, resume=resume, app="ts", ctx=ctx)

    def spec(cfg: Any) -> Any:
        from .cv import cv_spec

        return cv_spec(cfg, _prepared(cfg, verbose))

    o.run_cv_command("ts", TsConfig, base, plan, spec, resume=resume, runs_dir=runs_dir, name=name,
                     json_=json_, verbose=verbose, tensorflow=False, mlflow_uri=mlflow_uri,
                     executor=executor, jobs=jobs, scheduler=scheduler)


@app.command()
def compare(
    optimizers: o.CompareOptimizers = None, regularizers: o.CompareRegularizers = None,
    source: Source = None, ticker: Ticker = None, csv: Csv = None, date_col: DateCol = None,
    target_col: TargetCol = None, start: Start = None, end: End = None, interval: Interval = None,
    transform: Transform = None, lookback: Lookback = None, horizon: Horizon = None,
    test_size: TestSize = None, epochs: o.Epochs = None, seed: o.Seed = None,
    tensorboard: o.TensorBoard = None, config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Train each optimizer or regularizer on the same walk-forward split, budget and seed."""
    from .config import TsConfig

    flags = _flags(source=source, ticker=ticker, csv=csv, date_col=date_col, target_col=target_col,
                   start=start, end=end, interval=interval, transform=transform, lookback=lookback,
                   horizon=horizon, test_size=test_size, epochs=epochs, seed=seed,
                   tensorboard=tensorboard)

    def task(cfg: Any) -> tuple[Any, str]:
        from .cv import TsCVTask

        data, prep = _prepared(cfg, verbose)
        return TsCVTask(prep, cfg), data.source

    o.run_compare_command("ts", TsConfig, config, flags, set_, optimizers, regularizers, task,
                          runs_dir=runs_dir, name=name, json_=json_, verbose=verbose, tensorflow=False,
                          mlflow_uri=mlflow_uri)


def _prepared(cfg: Any, verbose: bool) -> Any:
    """Load and check the series first (bad input fails in a second), then pay for TensorFlow."""
    from regapps.shared.distribute import check
    from regapps.shared.environment import import_tensorflow

    from . import task

    prepared = task.load_prepared(cfg)
    import_tensorflow(verbose, cfg.training.strategy)
    check(cfg.training)
    return prepared


def _flags(**given: Any) -> dict[str, Any]:
    """Dotted config keys for the data, model and backtest flags cv and compare take."""
    if given.get("csv") and not given.get("source"):
        given["source"] = "csv"
    flags = o.training_flags(epochs=given.pop("epochs", None), patience=given.pop("patience", None),
                             seed=given.pop("seed", None), tensorboard=given.pop("tensorboard", None))
    sections = {"data": ("source", "ticker", "csv", "date_col", "target_col", "start", "end",
                         "interval", "transform"),
                "model": ("lookback", "horizon"), "backtest": ("test_size", "refit_every")}
    for section, keys in sections.items():
        flags.update({f"{section}.{k}": given[k] for k in keys if k in given})
    return flags
