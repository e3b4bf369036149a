"""train, resume, evaluate, predict, cv and compare, written once over the app protocol
(``shared/app.py``). Each app's ``task`` module binds these to its app object; the CLI parses
flags, calls them and prints.

Order of work in every function: settings are checked first, then the data, then a run
directory is made, so bad input leaves nothing behind.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import distribute, plots
from .app import App, EvaluateResult, LabelledDataset, PredictResult, TrainableApp, Trained, TrainResult
from .config import ExperimentConfig, build_config
from .environment import versions
from .errors import ConfigError, ParameterError, RunDirError
from .runs import Run

if TYPE_CHECKING:  # pragma: no cover
    from .selection.compare import CompareResult
    from .selection.executors import ExecutorChoice
    from .selection.protocols import Executor, OnTrial, Progress, TrialResult
    from .selection.runner import CVResult
    from .selection.search import SearchPlan

log = logging.getLogger(__name__)


# --- train / resume ---------------------------------------------------------------------------

def train(app: TrainableApp[Any, Any], config: ExperimentConfig, *, runs_dir: Path = Path("runs"),
          name: str | None = None, verbose: int = 1, folder: Path | None = None,
          data: Any = None) -> TrainResult:
    """Load the data, train the configured model, score it and write a complete run directory
    (under ``runs_dir/<app>``, or under ``folder``, e.g. a cv run's refit of its winner)."""
    distribute.check(config.training)
    app.check(config, None)  # before any data loads
    data = data if data is not None else app.load_data(config)
    app.check(config, data)  # before a run directory exists
    _log_notes(data)
    run = Run.create(runs_dir, app.name, "train", name or app.run_name(config, data), folder=folder)
    with run.guard():
        run.write_json("config.json", {**config.to_dict(), "meta": _meta(app, config, data)})
        return _train_in(app, run, config, data, verbose=verbose, resume=False)


def resume(app: TrainableApp[Any, Any], run_dir: Path, *, verbose: int = 1) -> TrainResult:
    """Continue an interrupted or failed ``train`` run after its last finished epoch."""
    from .resume import reopen_train_run

    run, config, data = reopen_train_run(run_dir, app=app.name, config_cls=app.config_cls,
                                         load_data=app.load_data)
    _log_notes(data)
    with run.guard():
        return _train_in(app, run, config, data, verbose=verbose, resume=True)


def saved_train_config(app: App[Any, Any], run_dir: Path) -> ExperimentConfig:
    """The configuration a train run was started with, read without TensorFlow (``--resume``
    sets up the run's own strategy before TensorFlow starts); the run is checked again when it
    is reopened."""
    from .resume import saved_config

    return saved_config(run_dir, app=app.name, config_cls=app.config_cls)


def _train_in(app: TrainableApp[Any, Any], run: Run, config: ExperimentConfig, data: Any, *,
              verbose: int, resume: bool) -> TrainResult:
    from .modelio import save_model

    fitted = app.fit(config, data, run_dir=run.path, verbose=verbose, resume=resume)
    save_model(fitted.model, run.file("model.keras"))
    metrics: dict[str, Any] = {"validation": fitted.validation, "test": fitted.test}
    if fitted.matrix is not None:
        plots.confusion_matrix(fitted.matrix, data.class_names, run.file("confusion_matrix.png"),
                               f"{fitted.matrix_split} confusion matrix")
    metrics["training"] = {**fitted.fit.summary(), **fitted.training}
    run.write_json("metrics.json", metrics)
    plots.learning_curves(fitted.fit.history, run.file("learning_curves.png"), app.curve_title(config, data))
    app.train_report(config, data, metrics, fitted.matrix_split).write(run.path)
    run.complete()
    return TrainResult(run.path, metrics, data.notes)


def _log_notes(data: Any) -> None:
    for note in data.notes:
        log.warning(note)


def _meta(app: TrainableApp[Any, Any], config: ExperimentConfig, data: LabelledDataset) -> dict[str, Any]:
    return {"app": app.name, "created": datetime.now().isoformat(timespec="seconds"),
            "versions": versions(), "seed": config.training.seed, "data_source": data.source,
            "data_sha256": data.checksum(), **app.meta(config, data), "n_train": len(data.y_train),
            "n_test": None if data.y_test is None else len(data.y_test), "notes": data.notes}


def train_refit(app: TrainableApp[Any, Any], best: ExperimentConfig, data: Any, folder: Path) -> dict[str, Any]:
    """cv's refit for a trainable app: its own ``train`` on all training data into the cv run, so
    the winner gets a complete, evaluable run directory of its own."""
    result = train(app, best, folder=folder, name="best", data=data, verbose=0)
    rel = result.run_dir.relative_to(folder)
    return {**result.to_dict(), "images": [("Learning curves of the best configuration",
                                            str(rel / "learning_curves.png"))]}


# --- evaluate / predict -----------------------------------------------------------------------

def open_trained(app: TrainableApp[Any, Any], run_dir: Path) -> Trained[Any]:
    """A finished train run of ``app``: its run, data facts and configuration (no model yet)."""
    run = Run.open(run_dir, app=app.name)
    if run.command != "train":
        raise RunDirError(f"{run_dir} is a {app.name} {run.command!r} directory, not a training run")
    saved = run.read_mapping("config.json")
    meta = saved.get("meta", {})
    app.check_meta(meta, Path(run_dir))
    return Trained(run, meta, app.config_cls.from_saved(saved, source=str(run.file("config.json"))))


def load_trained_model(app: TrainableApp[Any, Any], trained: Trained[Any]) -> Any:
    from .modelio import load_model

    return load_model(trained.run.file("model.keras"), custom_objects=app.custom_objects())


def evaluate(app: TrainableApp[Any, Any], run_dir: Path | Trained[Any], **source: Any) -> EvaluateResult:
    """Score a trained model on its run's test split, or on the labelled set ``source`` names;
    the data is read and checked before the model loads. Writes ``evaluations/<name>/``."""
    trained = run_dir if isinstance(run_dir, Trained) else open_trained(app, run_dir)
    labelled = app.labelled(trained, **source)
    model = load_trained_model(app, trained)
    metrics, matrix = app.score(model, labelled, trained)
    run = trained.run
    out = Run.create(run.path, app.name, "evaluate", labelled.name, folder=run.path / "evaluations")
    with out.guard():
        out.write_json("metrics.json", {"test": metrics, "source": labelled.source, **labelled.record})
        plots.confusion_matrix(matrix, trained.meta["class_names"], out.file("confusion_matrix.png"),
                               labelled.title)
        out.complete()
    return EvaluateResult(run.path, out.path, {"test": metrics}, labelled.source, labelled.record)


def predict(app: TrainableApp[Any, Any], run_dir: Path | Trained[Any], inputs: list[Any],
            **options: Any) -> PredictResult:
    """The model's answer for each input (files or texts, as the app takes them)."""
    trained = run_dir if isinstance(run_dir, Trained) else open_trained(app, run_dir)
    batch = app.read_inputs(trained, inputs, **options)
    model = load_trained_model(app, trained)
    return PredictResult(trained.run.path, app.predictions(model, batch, inputs, trained, **options))


# --- cross-validation -------------------------------------------------------------------------

@dataclass
class CVRequest:
    """A cross-validation checked and planned, nothing loaded yet (:func:`plan_cv`)."""

    base: dict[str, Any]
    plan: SearchPlan
    executor: ExecutorChoice | Executor  # where trials run, or an executor the caller made (and closes)
    resume: Path | None = None
    time_budget: float | None = None  # minutes for the whole search and the refit of its winner


def plan_cv(app: App[Any, Any], config: ExperimentConfig | Mapping[str, Any] | None = None,
            space: Mapping[str, Any] | Sequence[str] | None = None, *,
            search: str | None = None, n_iter: int = 10, folds: int = 3, seeds: int = 1, eta: int = 3,
            prune: bool = False, time_budget: float | None = None,
            executor: str | Executor = "sequential", jobs: int | None = None, scheduler: str | None = None,
            resume: Path | None = None, grid: Sequence[str] = ()) -> CVRequest:
    """Check everything a cv needs before anything loads or trains. ``space`` maps keys (dotted,
    or aliases such as ``l2``) to lists of values or to ranges (``{"low": 1e-4, "high": 1e-2,
    "log": True}`` or ``"1e-4..1e-2:log"``), or is ``["l2=0,1e-4", "lr=1e-4..1e-2:log"]`` as
    ``--space`` takes it; ``config`` may also be a config tree with a ``search`` mapping (a
    config file's). With neither, the app's default space (:meth:`App.default_space`) is
    searched. ``search`` None: grid when every key is a list, else tpe. With ``resume`` and no
    ``space``: the search and settings the run was made with. ``time_budget``: minutes for the
    whole search, the refit of its winner kept back; it is not part of the plan, so a resumed run
    may take another. ``grid``: more items as ``space`` takes them, from the ``--grid`` flag
    (errors name it)."""
    from .selection.executors import ExecutorChoice
    from .selection.runner import make_plan, saved_search

    if time_budget is not None and not time_budget > 0:
        raise ParameterError("time_budget", "{param} must be a number of minutes > 0, got {value}", value=time_budget)
    where = ExecutorChoice(executor, jobs, scheduler) if isinstance(executor, str) else executor
    if resume is not None and space is None and not grid:
        if config is not None:
            raise ConfigError("resuming a cv run with its saved search takes no configuration; "
                              "give the run's search space and settings again, or neither")
        base, plan = saved_search(resume, app.config_cls, app.name)
    else:
        tree = _config_tree(app, config)
        items: list[str] = []
        if isinstance(space, Mapping):
            tree["search"] = {k: list(v) if isinstance(v, tuple) else v for k, v in space.items()}
        elif space is not None:
            items = list(space)
        plan = make_plan(app.config_cls, tree, grid=list(grid), space=items, search=search, n_iter=n_iter,
                         folds=folds, seeds=seeds, eta=eta, seed=tree["training"]["seed"], prune=prune,
                         default_space=app.default_space(app.config_cls.model_validate(
                             {k: v for k, v in tree.items() if k != "search"})))
        tree.pop("search", None)
        base = tree
    if base.get("training", {}).get("strategy") == "multiworker":
        raise ConfigError("cv runs its trials one model per process; training.strategy multiworker "
                          "is for train (spread cv trials with an executor)")
    return CVRequest(base, plan, where, resume, time_budget)


def _config_tree(app: App[Any, Any], config: ExperimentConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    """The validated config as a tree, keeping a ``search`` mapping it carries."""
    if isinstance(config, ExperimentConfig):
        return config.to_dict()
    tree = dict(config or {})
    file_space = tree.pop("search", None)
    base = build_config(app.config_cls, base=tree).to_dict()
    if file_space is not None:
        base["search"] = file_space
    return base


TrialLogger = Callable[[Mapping[str, Any], "TrialResult", str], None]  # row, result, metric name


def run_cv(app: App[Any, Any], request: CVRequest, *, runs_dir: Path = Path("runs"),
           name: str | None = None, progress: Progress | None = None,
           on_trial: TrialLogger | None = None) -> CVResult:
    """Run a planned cv: the executor starts first (an unreachable scheduler fails before data
    loads), then the data, the search, the refit of the winner and the report. ``progress``
    sees (done, total, row) after each recorded trial, ``on_trial`` (row, result, metric)."""
    from .selection.budget import Budget
    from .selection.executors import ExecutorChoice
    from .selection.runner import CVSpec
    from .selection.runner import run_cv as run_search

    budget = Budget(request.time_budget) if request.time_budget is not None else None  # from now on
    with contextlib.ExitStack() as stack:
        pool = request.executor
        if isinstance(pool, ExecutorChoice):
            pool = pool.make()
            stack.callback(pool.close)
        config = app.config_cls.model_validate(request.base)
        data = app.load_data(config)
        task = app.cv_task(config, data)
        spec = CVSpec(app=app.name, config_cls=app.config_cls, task=task,
                      refit=lambda best, folder: app.refit(best, data, folder), data_source=data.source)
        logger: OnTrial | None = None
        if on_trial is not None:
            logger = lambda row, result: on_trial(row, result, task.metric)  # noqa: E731
        return run_search(spec, request.plan, request.base, runs_dir=runs_dir, name=name,
                          resume=request.resume, split_seed=request.base["training"]["seed"],
                          progress=progress, on_trial=logger, executor=pool, budget=budget)


def cv(app: App[Any, Any], config: ExperimentConfig | Mapping[str, Any] | None = None,
       space: Mapping[str, Any] | Sequence[str] | None = None, *, search: str | None = None,
       n_iter: int = 10, folds: int = 3, seeds: int = 1, eta: int = 3, prune: bool = False,
       time_budget: float | None = None, executor: str | Executor = "sequential", jobs: int | None = None,
       scheduler: str | None = None, resume: Path | None = None, runs_dir: Path = Path("runs"),
       name: str | None = None, progress: Progress | None = None, on_trial: TrialLogger | None = None) -> CVResult:
    """Choose hyperparameters by cross-validation on the training data, refit the best on all of
    it, score the test part once and write a report (:func:`plan_cv`, then :func:`run_cv`)."""
    request = plan_cv(app, config, space, search=search, n_iter=n_iter, folds=folds, seeds=seeds,
                      eta=eta, prune=prune, time_budget=time_budget, executor=executor, jobs=jobs,
                      scheduler=scheduler, resume=resume)
    return run_cv(app, request, runs_dir=runs_dir, name=name, progress=progress, on_trial=on_trial)


# --- compare ----------------------------------------------------------------------------------

CompareKind = Literal["optimizers", "regularizers", "settings"]


@dataclass
class CompareRequest:
    """A comparison checked, nothing loaded yet (:func:`plan_compare`)."""

    base: dict[str, Any]
    kind: CompareKind
    names: list[str]


def plan_compare(app: App[Any, Any], config: ExperimentConfig | Mapping[str, Any] | None,
                 kind: CompareKind, names: Sequence[str]) -> CompareRequest:
    """The base config of a comparison; unknown variant names fail before anything loads."""
    from .selection.compare import variants

    base = _config_tree(app, config)
    base.pop("search", None)
    flags = variants(kind, list(names), base)
    if kind == "settings":  # a bad value fails before anything loads
        from .selection.space import validate_space

        values: dict[str, list[Any]] = {}
        for variant in flags.values():
            for key, value in variant.items():
                values.setdefault(key, []).append(value)
        validate_space(app.config_cls, base, values, label="settings")
    return CompareRequest(base, kind, list(names))


def run_compare(app: App[Any, Any], request: CompareRequest, *, runs_dir: Path = Path("runs"),
                name: str | None = None) -> CompareResult:
    from .selection.compare import run_compare as run_variants

    config = app.config_cls.model_validate(request.base)
    data = app.load_data(config)
    return run_variants(app.name, app.config_cls, app.cv_task(config, data), request.base, request.kind,
                        request.names, runs_dir=runs_dir, name=name, data_source=data.source)


def compare(app: App[Any, Any], config: ExperimentConfig | Mapping[str, Any] | None,
            kind: CompareKind, names: Sequence[str], *, runs_dir: Path = Path("runs"),
            name: str | None = None) -> CompareResult:
    """Train each optimizer, regularizer or setting value (``kind``; settings names are
    ``key=value``) on the same split, budget and seed, and write overlaid learning curves and a
    report."""
    return run_compare(app, plan_compare(app, config, kind, names), runs_dir=runs_dir, name=name)
