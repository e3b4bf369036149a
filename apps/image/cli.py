"""``regapps image``: thin Typer commands over :mod:`regapps.apps.image.task`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from regapps.apps import options as o

app = typer.Typer(help="CIFAR-10 classification: a CNN with L2 and Dropout, trained with Adam.",
                  no_args_is_help=True)

Dataset = Annotated[Optional[str], typer.Option("--dataset", help="cifar10 (tensorflow-datasets; default) or digits (offline).", rich_help_panel="Data")]
DataDir = Annotated[Optional[str], typer.Option("--data-dir", help="Official CIFAR-10 archive or folder (binary or python version), or image folders train/<class>/, test/<class>/.", rich_help_panel="Data")]
Preset = Annotated[Optional[str], typer.Option("--preset", help="Model preset: article (default; the article's CNN) or fast (residual CNN, BatchNorm, augmentation, one-cycle SGD); `regapps image presets` lists them.", rich_help_panel="Model")]
RunDir = Annotated[Path, typer.Argument(help="A finished `regapps image train` run directory.")]
AUG = "Augmentation"
Flip = Annotated[Optional[bool], typer.Option("--flip/--no-flip", help="Random horizontal flips while training.", rich_help_panel=AUG, show_default=False)]
CropPadding = Annotated[Optional[int], typer.Option("--crop-padding", help="Pad by this many pixels and randomly crop back (0 = off).", rich_help_panel=AUG)]
FlipAverage = Annotated[Optional[bool], typer.Option("--flip-average/--no-flip-average", help="Test-time augmentation: average each image's and its mirror's predictions.", rich_help_panel=AUG, show_default=False)]
LabelSmoothing = Annotated[Optional[float], typer.Option("--label-smoothing", help="Label smoothing in [0, 1).", rich_help_panel=o.TRAIN)]



@app.command()
def train(
    dataset: Dataset = None, data_dir: DataDir = None, preset: Preset = None,
    l1: o.L1 = None, l2: o.L2 = None, dropout: o.Dropout = None, batchnorm: o.BatchNorm = None,
    optimizer: o.Optimizer = None, learning_rate: o.LearningRate = None,
    weight_decay: o.WeightDecay = None, schedule: o.Schedule = None, batch_size: o.BatchSize = None,
    epochs: o.Epochs = None, patience: o.Patience = None, early_stopping: o.EarlyStopping = None,
    validation_split: o.ValidationSplit = None, seed: o.Seed = None,
    time_budget: o.TimeBudget = None, tensorboard: o.TensorBoard = None,
    flip: Flip = None, crop_padding: CropPadding = None, flip_average: FlipAverage = None,
    label_smoothing: LabelSmoothing = None,
    config: o.ConfigFile = None, set_: o.Sets = None,
    resume: o.TrainResume = None,
    strategy: o.Strategy = None, precision: o.Precision = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Train a model and write a run directory (config, history, metrics, model, plots, report)."""
    from regapps.shared.config import build_config

    from .config import ImageConfig

    flags = o.training_flags(l1=l1, l2=l2, dropout=dropout, batchnorm=batchnorm, optimizer=optimizer,
                             learning_rate=learning_rate, weight_decay=weight_decay,
                             schedule=schedule, batch_size=batch_size, epochs=epochs,
                             patience=patience, early_stopping=early_stopping,
                             validation_split=validation_split, seed=seed,
                             time_budget=time_budget, tensorboard=tensorboard,
                             strategy=strategy, precision=precision)
    flags.update({"data.dataset": dataset, "data.data_dir": data_dir, "model.preset": preset,
                  "augment.flip": flip, "augment.crop_padding": crop_padding,
                  "augment.flip_average": flip_average, "training.label_smoothing": label_smoothing})
    if resume is not None:
        o.refuse_with_resume(flags, config, set_)
    cfg = build_config(ImageConfig, config_file=config, flags=flags, sets=set_ or [])

    def body() -> dict[str, Any]:
        from . import task

        if resume is not None:
            return task.resume(resume, verbose=o.keras_verbosity(json_))
        return task.train(cfg, runs_dir=runs_dir, name=name, verbose=o.keras_verbosity(json_))

    o.run_command(json_, verbose, body, o.train_human("image"), strategy=cfg.training.strategy,
                  mlflow=o.mlflow_target(mlflow_uri, "image", "train"))


@app.command()
def presets(json_: o.Json = False, verbose: o.Verbose = False) -> None:
    """List the model presets: their model, the settings each brings, and recorded figures."""

    def body() -> dict[str, Any]:
        from .presets import describe_presets

        return {"presets": describe_presets()}

    def human(r: dict[str, Any]) -> str:
        lines = []
        for p in r["presets"]:
            lines += [f"{p['name']}: {p['model']}",
                      "  settings: " + ", ".join(f"{k}={v}" for k, v in p["settings"].items())]
            lines += [f"  recorded: {f['figure']} [{f['source']}]" for f in p["recorded"]]
            if not p["recorded"]:
                lines.append("  recorded: nothing yet")
        return "\n".join(lines)

    o.run_command(json_, verbose, body, human, tensorflow=False)


@app.command()
def evaluate(
    run_dir: RunDir,
    data_dir: Annotated[Optional[str], typer.Option("--data-dir", help="Score on this labelled set instead of the run's test split.")] = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Accuracy, per-class accuracy and a confusion matrix of a trained model."""

    def body() -> dict[str, Any]:
        from . import task

        return task.evaluate(run_dir, data_dir=data_dir)

    def human(r: dict[str, Any]) -> str:
        m = r["metrics"]["test"]
        worst = sorted((v, k) for k, v in m["per_class_accuracy"].items() if v is not None)[:3]
        return (f"image evaluate: accuracy {m['accuracy']:.4f}, macro F1 {m['macro_f1']:.4f} on "
                f"{m['n']} images; weakest classes: "
                + ", ".join(f"{k} {v:.2f}" for v, k in worst) + f" -> {r['output_dir']}")

    o.run_command(json_, verbose, body, human)


@app.command()
def predict(
    run_dir: RunDir,
    images: Annotated[list[Path], typer.Argument(help="Image files (png, jpg, ...).")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many classes to list per image.")] = 3,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Top classes with probabilities for each image."""

    def body() -> dict[str, Any]:
        from . import task

        return task.predict(run_dir, images, top=top)

    def human(r: dict[str, Any]) -> str:
        return "\n".join(
            f"{p['input']}: " + ", ".join(f"{t['label']} {t['probability']:.3f}" for t in p["top"])
            for p in r["predictions"])

    o.run_command(json_, verbose, body, human)


@app.command()
def cv(
    ctx: typer.Context,
    grid: o.Grid = None, search: o.Search = "grid", n_iter: o.NIter = 10, folds: o.Folds = 3,
    seeds: o.Seeds = 1, eta: o.Eta = 3, resume: o.Resume = None,
    executor: o.Executor = "sequential", jobs: o.Jobs = None, scheduler: o.Scheduler = None,
    dataset: Dataset = None, data_dir: DataDir = None, preset: Preset = None,
    epochs: o.Epochs = None, patience: o.Patience = None, seed: o.Seed = None,
    tensorboard: o.TensorBoard = None, config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Choose hyperparameters by stratified k-fold cross-validation on the training split, refit
    the best on all training data, score the test split once, and write a report."""
    from .config import ImageConfig

    flags = o.training_flags(epochs=epochs, patience=patience, seed=seed, tensorboard=tensorboard)
    flags.update({"data.dataset": dataset, "data.data_dir": data_dir, "model.preset": preset})
    base, plan = o.plan_cv(ImageConfig, config, flags, set_, grid=grid, search=search, n_iter=n_iter,
                           folds=folds, seeds=seeds, eta=eta, resume=resume, app="image", ctx=ctx)

    def spec(cfg: Any) -> Any:
        from .cv import cv_spec

        return cv_spec(cfg)

    o.run_cv_command("image", ImageConfig, base, plan, spec, resume=resume, runs_dir=runs_dir,
                     name=name, json_=json_, verbose=verbose, mlflow_uri=mlflow_uri,
                     executor=executor, jobs=jobs, scheduler=scheduler)


@app.command()
def compare(
    optimizers: o.CompareOptimizers = None, regularizers: o.CompareRegularizers = None,
    dataset: Dataset = None, data_dir: DataDir = None, preset: Preset = None,
    epochs: o.Epochs = None, seed: o.Seed = None, tensorboard: o.TensorBoard = None,
    config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Train each optimizer or regularizer on the same split, budget and seed; overlaid curves."""
    from .config import ImageConfig

    flags = o.training_flags(epochs=epochs, seed=seed, tensorboard=tensorboard)
    flags.update({"data.dataset": dataset, "data.data_dir": data_dir, "model.preset": preset})

    def task(cfg: Any) -> tuple[Any, str]:
        from .cv import image_cv_task
        from .data import load_image_data

        data = load_image_data(cfg.data.dataset, cfg.data.data_dir)
        return image_cv_task(data), data.source

    o.run_compare_command("image", ImageConfig, config, flags, set_, optimizers, regularizers, task,
                          runs_dir=runs_dir, name=name, json_=json_, verbose=verbose,
                          mlflow_uri=mlflow_uri)
