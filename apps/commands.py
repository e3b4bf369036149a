"""The commands every app shares, written once: ``train``, ``cv`` and ``compare`` are built from
the flags an app declares (``apps/<app>/cli.py``), so the apps' CLIs differ only in their own
options. A command parses flags into a config, checks it before TensorFlow starts, then calls
the app's Python API (``regapps.apps.<app>.task``) and prints; the toolkit does the work.

Only Typer is imported at module level: ``--help`` must stay fast.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from . import options as o


@dataclass(frozen=True)
class Flag:
    """One command-line parameter: its Python name, its Typer type (``options.L2`` ...), the
    dotted config key it sets (None: not a config value) and its default."""

    name: str
    type: Any
    key: str | None = None
    default: Any = None


def _training(*names: str) -> tuple[Flag, ...]:
    return tuple(TRAINING[n] for n in names)


TRAINING = {f.name: f for f in (
    Flag("l1", o.L1, "regularization.l1"), Flag("l2", o.L2, "regularization.l2"),
    Flag("dropout", o.Dropout, "regularization.dropout"),
    Flag("batchnorm", o.BatchNorm, "regularization.batchnorm"),
    Flag("optimizer", o.Optimizer, "optimizer.name"),
    Flag("learning_rate", o.LearningRate, "optimizer.learning_rate"),
    Flag("weight_decay", o.WeightDecay, "optimizer.weight_decay"),
    Flag("schedule", o.Schedule, "schedule.name"), Flag("batch_size", o.BatchSize, "training.batch_size"),
    Flag("epochs", o.Epochs, "training.epochs"), Flag("patience", o.Patience, "training.patience"),
    Flag("early_stopping", o.EarlyStopping, "training.early_stopping"),
    Flag("validation_split", o.ValidationSplit, "training.validation_split"),
    Flag("seed", o.Seed, "training.seed"), Flag("time_budget", o.TimeBudget, "training.time_budget_minutes"),
    Flag("tensorboard", o.TensorBoard, "training.tensorboard"),
    Flag("strategy", o.Strategy, "training.strategy"), Flag("precision", o.Precision, "training.precision"),
)}
FIT = _training("l1", "l2", "dropout", "batchnorm", "optimizer", "learning_rate", "weight_decay",
                "schedule", "batch_size", "epochs", "patience", "early_stopping", "validation_split",
                "seed", "time_budget", "tensorboard")
SCALING = _training("strategy", "precision")
CONFIG = (Flag("config", o.ConfigFile), Flag("set_", o.Sets))
OUTPUT = (Flag("runs_dir", o.RunsDir, default=Path("runs")), Flag("name", o.Name),
          Flag("mlflow_uri", o.MlflowUri), Flag("json_", o.Json, default=False),
          Flag("verbose", o.Verbose, default=False))
CV_SEARCH = (Flag("space", o.Space), Flag("grid", o.Grid), Flag("search", o.Search),
             Flag("n_iter", o.NIter, default=10), Flag("prune", o.Prune, default=False),
             Flag("search_budget", o.SearchBudget), Flag("folds", o.Folds, default=3),
             Flag("seeds", o.Seeds, default=1), Flag("eta", o.Eta, default=3), Flag("resume", o.Resume),
             Flag("executor", o.Executor, default="sequential"), Flag("jobs", o.Jobs),
             Flag("scheduler", o.Scheduler))
COMPARE = (Flag("optimizers", o.CompareOptimizers), Flag("regularizers", o.CompareRegularizers),
           Flag("ablate", o.CompareAblate))


@dataclass(frozen=True)
class AppCommands:
    """An app as its CLI sees it: where its app object lives and which flags it adds."""

    name: str  # "image"
    task: str  # the module of its Python API and app object, e.g. "regapps.apps.image.task"
    app_object: str  # the app object's name in that module, e.g. "IMAGE"
    data: tuple[Flag, ...]  # data options of train, cv and compare
    train: tuple[Flag, ...] = ()  # model options train alone takes (before the shared ones)
    train_after: tuple[Flag, ...] = ()  # train's other own options (after the shared ones)
    cv: tuple[Flag, ...] = ()  # model options cv takes too
    compare: tuple[Flag, ...] = ()  # model options compare takes too
    tensorflow_first: bool = True  # False: the app loads and checks its data before TensorFlow
    many_fits: bool = False  # a command fits many models: Keras' output only with --verbose
    adjust: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False)  # flag rules

    def module(self) -> Any:
        return importlib.import_module(self.task)

    def app(self) -> Any:
        return getattr(self.module(), self.app_object)


def config_flags(flags: Sequence[Flag], values: dict[str, Any]) -> dict[str, Any]:
    """Dotted config keys for the given flags (``None`` = not given). With --time-budget and no
    --epochs, the budget decides when training ends."""
    dotted = {f.key: values.get(f.name) for f in flags if f.key}
    if values.get("time_budget") is not None and values.get("epochs") is None:
        dotted["training.epochs"] = o.BUDGET_EPOCH_CAP
    return dotted


def training_flags(**values: Any) -> dict[str, Any]:
    """The shared training flags' dotted config keys: ``training_flags(l2=1e-4, epochs=3)``."""
    return config_flags(tuple(TRAINING.values()), values)


def add_command(typer_app: typer.Typer, name: str, flags: Sequence[Flag],
                body: Callable[[dict[str, Any]], None], doc: str, *, context: bool = False) -> None:
    """Register ``body(values)`` as the command ``name`` taking ``flags`` (and Typer's context
    as ``values["ctx"]`` with ``context``)."""
    def command(**values: Any) -> None:
        body(values)

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)] if context else []
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
               for f in flags]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = doc
    command.__name__ = command.__qualname__ = name
    typer_app.command(name)(command)


def _values(app: AppCommands, values: dict[str, Any]) -> dict[str, Any]:
    if app.adjust is not None:
        app.adjust(values)
    return values


def add_train(typer_app: typer.Typer, app: AppCommands) -> None:
    flags = (*app.data, *app.train, *FIT, *app.train_after, *CONFIG,
             Flag("resume", o.TrainResume), *SCALING, *OUTPUT)

    def body(values: dict[str, Any]) -> None:
        from regapps.shared import toolkit
        from regapps.shared.config import build_config

        v = _values(app, values)
        flags_given = config_flags(flags, v)
        obj, resume = app.app(), v["resume"]
        if resume is not None:
            o.refuse_with_resume(flags_given, v["config"], v["set_"])
            config = toolkit.saved_train_config(obj, resume)  # its strategy, before TensorFlow starts
        else:
            config = build_config(obj.config_cls, config_file=v["config"], flags=flags_given,
                                  sets=v["set_"] or [])
        verbosity = o.keras_verbosity(v["json_"], v["verbose"], many_fits=app.many_fits)
        task = app.module()

        def run() -> Any:
            if resume is not None:
                return task.resume(resume, verbose=verbosity)
            return task.train(config, runs_dir=v["runs_dir"], name=v["name"], verbose=verbosity)

        o.run_command(v["json_"], v["verbose"], run, o.train_human(app.name),
                      strategy=config.training.strategy, mlflow=o.mlflow_target(v["mlflow_uri"], app.name, "train"))

    add_command(typer_app, "train", flags, body,
                "Train a model and write a run directory (config, history, metrics, model, plots, report).")


def add_cv(typer_app: typer.Typer, app: AppCommands, doc: str, spaces: str = "") -> None:
    """``spaces``: the app's default search spaces, for ``--help``."""
    flags = (*CV_SEARCH, *app.data, *app.cv, *_training("epochs", "patience", "seed", "tensorboard"),
             *CONFIG, *OUTPUT)

    def body(values: dict[str, Any]) -> None:
        from regapps.shared import toolkit
        from regapps.shared.errors import ConfigError

        v = _values(app, values)
        flags_given = config_flags(flags, v)
        obj, resume, grid, items = app.app(), v["resume"], v["grid"] or [], v["space"] or []
        if resume is not None and not grid and not items:
            o.refuse_with_resume(flags_given, v["config"], v["set_"])
            given = _given(v["ctx"], "search", "n_iter", "prune", "folds", "seeds", "eta")
            if given:
                option = "--" + given[0].replace("_", "-")
                raise ConfigError(f"--resume alone continues the run's saved search; drop {option} "
                                  "(or give the run's --space/--grid and settings again)")
            tree, space = None, None
        else:
            tree, space = o.base_tree(obj.config_cls, v["config"], flags_given, v["set_"] or []), items or None
        request = toolkit.plan_cv(obj, tree, space, search=v["search"], n_iter=v["n_iter"], folds=v["folds"],
                                  seeds=v["seeds"], eta=v["eta"], prune=v["prune"], time_budget=v["search_budget"],
                                  executor=v["executor"], jobs=v["jobs"], scheduler=v["scheduler"], resume=resume,
                                  grid=grid)
        mlflow = o.mlflow_target(v["mlflow_uri"], app.name, "cv")

        def run() -> Any:
            tracker = mlflow.tracker if mlflow is not None else None
            on_trial = None if tracker is None else (
                lambda row, result, metric: tracker.log_trial(row, result.history, metric))
            with o.trial_progress(not v["json_"]) as progress:
                return toolkit.run_cv(obj, request, runs_dir=v["runs_dir"], name=v["name"],
                                      progress=progress, on_trial=on_trial)

        o.run_command(v["json_"], v["verbose"], run, o.cv_human(app.name),
                      tensorflow=app.tensorflow_first, mlflow=mlflow)

    if spaces:
        doc += ("\n\nDefault search space, used when no --space, --grid or config `search:` is given "
                f"(TPE tries the configuration as given first): {spaces}")
    add_command(typer_app, "cv", flags, body, doc, context=True)


def add_compare(typer_app: typer.Typer, app: AppCommands, doc: str) -> None:
    flags = (*COMPARE, *app.data, *app.compare, *_training("epochs", "seed", "tensorboard"), *CONFIG, *OUTPUT)

    def body(values: dict[str, Any]) -> None:
        from regapps.shared import toolkit

        v = _values(app, values)
        obj = app.app()
        kind, names = o.compare_choice(v["optimizers"], v["regularizers"], v["ablate"])
        tree = o.base_tree(obj.config_cls, v["config"], config_flags(flags, v), v["set_"] or [])
        request = toolkit.plan_compare(obj, tree, kind, names)  # type: ignore[arg-type]

        def run() -> Any:
            return toolkit.run_compare(obj, request, runs_dir=v["runs_dir"], name=v["name"])

        o.run_command(v["json_"], v["verbose"], run, o.compare_human(app.name),
                      tensorflow=app.tensorflow_first, mlflow=o.mlflow_target(v["mlflow_uri"], app.name, "compare"))

    add_command(typer_app, "compare", flags, body, doc)


def open_trained(app: AppCommands, run_dir: Path) -> Any:
    """A finished train run of ``app``, checked before TensorFlow starts (evaluate, predict)."""
    from regapps.shared import toolkit

    return toolkit.open_trained(app.app(), run_dir)


def _given(ctx: typer.Context | None, *names: str) -> list[str]:
    """Which of the command's parameters ``names`` were given, not left at their default."""
    if ctx is None:
        return []
    sources = {n: ctx.get_parameter_source(n) for n in names}
    return [n for n, source in sources.items() if source is not None and source.name != "DEFAULT"]
