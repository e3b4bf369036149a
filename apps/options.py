"""Typer options every app's commands share, and the glue from flags to dotted config keys.

Options default to ``None`` ("not given") so a config file's values survive unless a flag
overrides them. Only Typer is imported here: ``--help`` must stay fast.
"""
from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

REG = "Regularization"
OPT = "Optimization"
TRAIN = "Training"
OUT = "Output"
SCALE = "Scaling"

L1 = Annotated[float | None, typer.Option("--l1", help="L1 penalty on every kernel (>= 0).", rich_help_panel=REG)]
L2 = Annotated[float | None, typer.Option("--l2", help="L2 penalty on every kernel (>= 0).", rich_help_panel=REG)]
Dropout = Annotated[float | None, typer.Option("--dropout", help="Dropout rate in [0, 1).", rich_help_panel=REG)]
BatchNorm = Annotated[bool | None, typer.Option("--batchnorm/--no-batchnorm", help="BatchNormalization after hidden layers.", rich_help_panel=REG, show_default=False)]
Optimizer = Annotated[str | None, typer.Option("--optimizer", help="sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw.", rich_help_panel=OPT)]
LearningRate = Annotated[float | None, typer.Option("--learning-rate", "--lr", help="Initial (peak) learning rate.", rich_help_panel=OPT)]
WeightDecay = Annotated[float | None, typer.Option("--weight-decay", help="Decoupled weight decay (adamw; any optimizer).", rich_help_panel=OPT)]
Schedule = Annotated[str | None, typer.Option("--schedule", help="constant, step, exponential, cosine or reduce_on_plateau.", rich_help_panel=OPT)]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Mini-batch size.", rich_help_panel=OPT)]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Maximum epochs.", rich_help_panel=TRAIN)]
Patience = Annotated[int | None, typer.Option("--patience", help="Early-stopping patience in epochs.", rich_help_panel=TRAIN)]
EarlyStopping = Annotated[bool | None, typer.Option("--early-stopping/--no-early-stopping", help="Stop when the monitored metric stalls.", rich_help_panel=TRAIN, show_default=False)]
ValidationSplit = Annotated[float | None, typer.Option("--validation-split", help="Share of training data held out for validation.", rich_help_panel=TRAIN)]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed (data split, init, shuffling).", rich_help_panel=TRAIN)]
TimeBudget = Annotated[float | None, typer.Option("--time-budget", help="Train for this many minutes: warm-up + decay schedules are laid out for the epochs that fit, measured as it trains. Without --epochs the epoch cap is lifted to 1000.", rich_help_panel=TRAIN)]
TensorBoard = Annotated[bool | None, typer.Option("--tensorboard/--no-tensorboard", help="Write TensorBoard logs into the run directory.", rich_help_panel=TRAIN, show_default=False)]
ConfigFile = Annotated[Path | None, typer.Option("--config", help="YAML, TOML or JSON config file (flags override it).", rich_help_panel=TRAIN)]
Sets = Annotated[list[str] | None, typer.Option("--set", help="Dotted override, repeatable: --set optimizer.learning_rate=1e-4", rich_help_panel=TRAIN)]
Strategy = Annotated[str | None, typer.Option("--strategy", help="tf.distribute strategy: default, mirrored (every local GPU; one CPU device without) or multiworker (the cluster in TF_CONFIG; run the same command on every worker).", rich_help_panel=SCALE)]
Precision = Annotated[str | None, typer.Option("--precision", help="float32, mixed_float16 (GPUs only), mixed_bfloat16 (GPUs; CPUs with AVX512-BF16 or AMX) or auto (mixed_bfloat16 where native, else float32). Output layers stay float32.", rich_help_panel=SCALE)]
MlflowUri = Annotated[str | None, typer.Option("--mlflow-uri", help="Also log the run to MLflow at this tracking URI, e.g. sqlite:///mlflow.db or http://host:5000 (needs regapps[mlflow]).", rich_help_panel="Output")]


def _creatable_runs_dir(ctx: typer.Context, param: typer.CallbackParam, value: Path) -> Path:
    """Refuse a given --runs-dir that cannot be created or written before anything loads or
    trains; nothing is created here (a bad input later must leave no folder behind)."""
    import os

    source = ctx.get_parameter_source(param.name or "")
    if source is not None and source.name == "DEFAULT":  # ./runs: checked when a run is made
        return value
    existing = value
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise typer.BadParameter(f"{value}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
        raise typer.BadParameter(f"{value}: {existing} is " + ("on a read-only file system" if read_only
                                                              else "not writable"))
    return value


TrainResume = Annotated[Path | None, typer.Option("--resume", help="Continue an interrupted train run after its last finished epoch.", rich_help_panel=TRAIN)]
RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Root of run directories.", rich_help_panel=OUT,
                                       callback=_creatable_runs_dir)]
Name = Annotated[str | None, typer.Option("--name", help="Name part of the run directory.", rich_help_panel=OUT)]
Json = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout; logs go to stderr.", rich_help_panel=OUT)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs and TensorFlow's own messages.", rich_help_panel=OUT)]


BUDGET_EPOCH_CAP = 1000  # with --time-budget and no --epochs, the budget decides


def refuse_with_resume(flags: dict[str, Any], config: Path | None, sets: list[str] | None) -> None:
    """``--resume`` continues a run with its saved config: other settings would be ignored."""
    from regapps.shared.errors import ConfigError

    given = [k for k, v in flags.items() if v is not None]
    if given or config or sets:
        raise ConfigError("--resume continues a run with its saved configuration; drop "
                          + (f"the setting {given[0]!r}" if given else "--config/--set"))


def setup(verbose: bool) -> None:
    """Logging to stderr and quiet TensorFlow; call first in every command."""
    from regapps.shared.environment import configure_logging

    configure_logging(verbose)


@contextlib.contextmanager
def stdout_to_stderr(enabled: bool) -> Iterator[None]:
    """In --json mode, progress bars and stray prints go to stderr, keeping stdout pure JSON."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


@dataclass
class Mlflow:
    """Where a command logs to MLflow; ``tracker`` is its open parent run while it runs."""

    uri: str
    app: str
    command: str
    tracker: Any = None


def mlflow_target(uri: str | None, app: str, command: str) -> Mlflow | None:
    """``--mlflow-uri``: refused at once when MLflow is not installed."""
    if not uri:
        return None
    from regapps.shared.tracking import require_mlflow

    require_mlflow()
    return Mlflow(uri, app, command)


def run_command(json_mode: bool, verbose: bool, body: Callable[[], Any],
                human: Callable[[dict[str, Any]], str], *, tensorflow: bool = True,
                strategy: str = "default", mlflow: Mlflow | None = None) -> None:
    """Run ``body``; print its result as one JSON object or as a human summary. ``strategy`` is
    set up right after TensorFlow is imported; with ``mlflow``, the run is logged there too."""
    from regapps.shared.tracking import tracked

    setup(verbose)
    if tensorflow:
        from regapps.shared.environment import import_tensorflow

        import_tensorflow(verbose, strategy)
    tracking = tracked(mlflow.uri, mlflow.app, mlflow.command) if mlflow else contextlib.nullcontext()
    with stdout_to_stderr(json_mode), tracking as tracker:
        if mlflow is not None:
            mlflow.tracker = tracker
        outcome = body()
        result = outcome.to_dict() if hasattr(outcome, "to_dict") else outcome  # typed results
        if tracker is not None:
            tracker.log_result(result)
    if json_mode:
        from regapps.shared.runs import json_default

        sys.stdout.write(json.dumps(result, default=json_default) + "\n")
    else:
        typer.echo(human(result))


def keras_verbosity(json_mode: bool, verbose: bool = False, *, many_fits: bool = False) -> int:
    """Keras' own output: a progress bar when a person watches, one line per epoch when piped or
    in JSON. A command that fits many models (a walk-forward backtest refits) shows it only with
    --verbose, and never in JSON."""
    if many_fits:
        return 1 if verbose and not json_mode else 0
    return 2 if json_mode or not sys.stderr.isatty() else 1



# --- cross-validation ---------------------------------------------------------------------
CV = "Cross-validation"
Grid = Annotated[list[str] | None, typer.Option("--grid", help="Search values, repeatable: --grid l2=0,1e-4,1e-3 --grid optimizer=adam,sgd (keys as --set takes, or l1, l2, dropout, batchnorm, optimizer, learning_rate, weight_decay, schedule, batch_size, epochs). Takes ranges as --space does. A config file's `search:` mapping works too.", rich_help_panel=CV)]
Space = Annotated[list[str] | None, typer.Option("--space", help="Search space key, repeatable: a list (--space batch_size=32,64,128) or a range, uniform (--space dropout=0..0.6) or log-uniform (--space learning_rate=1e-4..1e-2:log); integer keys sample integers. In a config file: search: {learning_rate: {low: 1e-4, high: 1e-2, log: true}}. None given: the app's default space (below).", rich_help_panel=CV)]
Search = Annotated[str | None, typer.Option("--search", help="grid, random, halving (successive halving over epochs) or tpe (Optuna's TPE, model-based; the configuration as given is tried first). Default: grid when every key is a list, else tpe.", rich_help_panel=CV, show_default=False)]
NIter = Annotated[int, typer.Option("--n-iter", help="Candidates sampled by --search random or proposed by --search tpe.", rich_help_panel=CV)]
Prune = Annotated[bool, typer.Option("--prune", help="With --search random or tpe: train each candidate's folds together and stop it at 1, eta, eta^2... epochs when its mean over folds is not among the best 1/eta of the candidates there (successive halving, Optuna's pruner).", rich_help_panel=CV)]
SearchBudget = Annotated[float | None, typer.Option("--time-budget", help="Minutes for the whole search and the refit of its winner: no trial starts that would not finish (estimated from the trials so far); what finished is reported, and --resume goes on.", rich_help_panel=CV)]
Folds = Annotated[int, typer.Option("--folds", help="Number of folds (>= 2).", rich_help_panel=CV)]
Seeds = Annotated[int, typer.Option("--seeds", help="Repeat each fold with this many seeds.", rich_help_panel=CV)]
Eta = Annotated[int, typer.Option("--eta", help="Halving: keep 1/eta of the candidates per rung.", rich_help_panel=CV)]
Executor = Annotated[str, typer.Option("--executor", help="Where trials run: sequential (here; halving survivors go on training), local (--jobs processes here) or dask (a dask.distributed cluster: --scheduler, or a local one of --jobs workers).", rich_help_panel=SCALE)]
Jobs = Annotated[int | None, typer.Option("--jobs", help="Worker processes for --executor local, or for the local dask cluster (default: CPU count).", rich_help_panel=SCALE)]
Scheduler = Annotated[str | None, typer.Option("--scheduler", help="Address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 (--executor dask).", rich_help_panel=SCALE)]
Resume = Annotated[Path | None, typer.Option("--resume", help="Continue an interrupted cv run directory; finished trials are skipped. Alone, with the run's saved search and settings; with --grid, they must match.", rich_help_panel=CV)]


def base_tree(cls: Any, config: Path | None, flags: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """The validated base configuration of a cv run, plus a config file's ``search`` mapping."""
    from regapps.shared.config import build_config, read_config_file

    tree = read_config_file(config) if config else {}
    file_space = tree.pop("search", None)
    base = build_config(cls, base=tree, flags=flags, sets=sets).to_dict()
    if file_space is not None:
        base["search"] = file_space
    return base


@contextlib.contextmanager
def trial_progress(enabled: bool) -> Iterator[Callable[[int, int, Any], None] | None]:
    """A progress bar across trials (count, elapsed, ETA) on stderr, shown from the first
    finished trial on (so an early error leaves no empty bar behind)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("trials"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.description}"),
                   console=Console(stderr=True))
    task_id = bar.add_task("", total=None)

    def update(done: int, total: int, row: Any) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task_id, completed=done, total=total, description=f"last score {row['score']:.4f}")

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


def train_human(app: str) -> Callable[[dict[str, Any]], str]:
    """The one-line summary of a train run."""
    def fmt(metrics: dict[str, Any] | None) -> str:
        return "n/a" if not metrics else f"{metrics['accuracy']:.4f}"

    def human(r: dict[str, Any]) -> str:
        m, t = r["metrics"], r["metrics"]["training"]
        return (f"{app} train: validation accuracy {fmt(m['validation'])}, test accuracy "
                f"{fmt(m['test'])} (best epoch {t['best_epoch']}/{t['epochs_run']}, "
                f"{t['train_seconds']:.0f} s) -> {r['run_dir']}")

    return human


def cv_human(app: str) -> Callable[[dict[str, Any]], str]:
    def human(r: dict[str, Any]) -> str:
        best = r["best"]
        params = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        test = r.get("test") or {}
        shown = {k: v for k, v in test.items() if isinstance(v, float)}
        test_text = ", ".join(f"{k} {v:.4f}" for k, v in list(shown.items())[:3]) or "n/a"
        return (f"{app} cv: best {params} (cv {best['metric']} {best['score']:.4f}); "
                f"refitted test: {test_text} -> {r['run_dir']}" + (f"\n{r['seed_note']}" if r.get("seed_note") else ""))

    return human


CompareOptimizers = Annotated[str | None, typer.Option("--optimizers", help="Comma list: sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw.", rich_help_panel="Compare")]
CompareRegularizers = Annotated[str | None, typer.Option("--regularizers", help="Comma list: none,l1,l2,l1l2,dropout,batchnorm,early_stopping.", rich_help_panel="Compare")]
CompareAblate = Annotated[str | None, typer.Option("--ablate", help="One setting's values, the rest as configured: --ablate model.nb_weighting=true,false (keys as --set or --grid take).", rich_help_panel="Compare")]


def compare_choice(optimizers: str | None, regularizers: str | None,
                   ablate: str | None = None) -> tuple[str, list[str]]:
    from regapps.shared.errors import ConfigError
    from regapps.shared.selection.compare import ablation_names

    given = [(k, v) for k, v in (("optimizers", optimizers), ("regularizers", regularizers),
                                 ("settings", ablate)) if v is not None]
    if len(given) != 1:
        raise ConfigError("give exactly one of --optimizers, --regularizers or --ablate")
    kind, raw = given[0]
    if kind == "settings":
        return kind, ablation_names(raw)
    return kind, [n.strip() for n in (raw or "").split(",") if n.strip()]


def compare_human(app: str) -> Callable[[dict[str, Any]], str]:
    def human(r: dict[str, Any]) -> str:
        lines = [f"{app} compare: winner {r['winner']} by validation {r['metric']} -> {r['run_dir']}"]
        lines += [f"  {row['variant']:<15} {r['metric']} {row['score']:.4f}  {row['curve']} best "
                  f"{row['best']:.4f} (epoch {row['epochs_to_best']}), final {row['final']:.4f}  "
                  f"{row['seconds']:.1f} s" for row in r["results"]]
        return "\n".join(lines)

    return human
