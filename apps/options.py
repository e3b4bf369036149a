"""Typer options every app's commands share, and the glue from flags to dotted config keys.

Options default to ``None`` ("not given") so a config file's values survive unless a flag
overrides them. Only Typer is imported here: ``--help`` must stay fast.
"""
from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

REG = "Regularization"
OPT = "Optimization"
TRAIN = "Training"
OUT = "Output"

L1 = Annotated[Optional[float], typer.Option("--l1", help="L1 penalty on every kernel (>= 0).", rich_help_panel=REG)]
L2 = Annotated[Optional[float], typer.Option("--l2", help="L2 penalty on every kernel (>= 0).", rich_help_panel=REG)]
Dropout = Annotated[Optional[float], typer.Option("--dropout", help="Dropout rate in [0, 1).", rich_help_panel=REG)]
BatchNorm = Annotated[Optional[bool], typer.Option("--batchnorm/--no-batchnorm", help="BatchNormalization after hidden layers.", rich_help_panel=REG, show_default=False)]
Optimizer = Annotated[Optional[str], typer.Option("--optimizer", help="sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw.", rich_help_panel=OPT)]
LearningRate = Annotated[Optional[float], typer.Option("--learning-rate", "--lr", help="Initial (peak) learning rate.", rich_help_panel=OPT)]
WeightDecay = Annotated[Optional[float], typer.Option("--weight-decay", help="Decoupled weight decay (adamw; any optimizer).", rich_help_panel=OPT)]
Schedule = Annotated[Optional[str], typer.Option("--schedule", help="constant, step, exponential, cosine or reduce_on_plateau.", rich_help_panel=OPT)]
BatchSize = Annotated[Optional[int], typer.Option("--batch-size", help="Mini-batch size.", rich_help_panel=OPT)]
Epochs = Annotated[Optional[int], typer.Option("--epochs", help="Maximum epochs.", rich_help_panel=TRAIN)]
Patience = Annotated[Optional[int], typer.Option("--patience", help="Early-stopping patience in epochs.", rich_help_panel=TRAIN)]
EarlyStopping = Annotated[Optional[bool], typer.Option("--early-stopping/--no-early-stopping", help="Stop when the monitored metric stalls.", rich_help_panel=TRAIN, show_default=False)]
ValidationSplit = Annotated[Optional[float], typer.Option("--validation-split", help="Share of training data held out for validation.", rich_help_panel=TRAIN)]
Seed = Annotated[Optional[int], typer.Option("--seed", help="Random seed (data split, init, shuffling).", rich_help_panel=TRAIN)]
TimeBudget = Annotated[Optional[float], typer.Option("--time-budget", help="Stop training after this many minutes.", rich_help_panel=TRAIN)]
TensorBoard = Annotated[Optional[bool], typer.Option("--tensorboard/--no-tensorboard", help="Write TensorBoard logs into the run directory.", rich_help_panel=TRAIN, show_default=False)]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", help="YAML, TOML or JSON config file (flags override it).", rich_help_panel=TRAIN)]
Sets = Annotated[Optional[list[str]], typer.Option("--set", help="Dotted override, repeatable: --set optimizer.learning_rate=1e-4", rich_help_panel=TRAIN)]
RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Root of run directories.", rich_help_panel=OUT)]
Name = Annotated[Optional[str], typer.Option("--name", help="Name part of the run directory.", rich_help_panel=OUT)]
Json = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout; logs go to stderr.", rich_help_panel=OUT)]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs and TensorFlow's own messages.", rich_help_panel=OUT)]


def training_flags(*, l1: float | None = None, l2: float | None = None, dropout: float | None = None,
                   batchnorm: bool | None = None, optimizer: str | None = None,
                   learning_rate: float | None = None, weight_decay: float | None = None,
                   schedule: str | None = None, batch_size: int | None = None,
                   epochs: int | None = None, patience: int | None = None,
                   early_stopping: bool | None = None, validation_split: float | None = None,
                   seed: int | None = None, time_budget: float | None = None,
                   tensorboard: bool | None = None) -> dict[str, Any]:
    """Map the shared flags to dotted config keys (``None`` means not given)."""
    return {
        "regularization.l1": l1, "regularization.l2": l2, "regularization.dropout": dropout,
        "regularization.batchnorm": batchnorm, "optimizer.name": optimizer,
        "optimizer.learning_rate": learning_rate, "optimizer.weight_decay": weight_decay,
        "schedule.name": schedule, "training.batch_size": batch_size,
        "training.epochs": epochs, "training.patience": patience,
        "training.early_stopping": early_stopping,
        "training.validation_split": validation_split, "training.seed": seed,
        "training.time_budget_minutes": time_budget, "training.tensorboard": tensorboard,
    }


def setup(verbose: bool) -> None:
    """Logging to stderr and quiet TensorFlow; call first in every command."""
    from regapps.shared.environment import quiet_tensorflow

    quiet_tensorflow(verbose)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s" if verbose else "regapps: %(message)s",
                        force=True)
    logging.getLogger("regapps").setLevel(logging.DEBUG if verbose else logging.INFO)


@contextlib.contextmanager
def stdout_to_stderr(enabled: bool) -> Iterator[None]:
    """In --json mode, progress bars and stray prints go to stderr, keeping stdout pure JSON."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def run_command(json_mode: bool, verbose: bool, body: Callable[[], dict[str, Any]],
                human: Callable[[dict[str, Any]], str], *, tensorflow: bool = True) -> None:
    """Run ``body``; print its result as one JSON object or as a human summary."""
    setup(verbose)
    if tensorflow:
        from regapps.shared.environment import import_tensorflow

        import_tensorflow(verbose)
    with stdout_to_stderr(json_mode):
        result = body()
    if json_mode:
        sys.stdout.write(json.dumps(result, default=_default) + "\n")
    else:
        typer.echo(human(result))


def keras_verbosity(json_mode: bool) -> int:
    """Keras progress bar when a person watches; one line per epoch when piped or in JSON."""
    return 2 if json_mode or not sys.stderr.isatty() else 1


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(type(obj).__name__)
