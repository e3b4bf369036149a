"""``regapps text``: thin Typer commands over :mod:`regapps.apps.text.task`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from regapps.apps import options as o

app = typer.Typer(help="IMDB sentiment: an embedding model with BatchNormalization.",
                  no_args_is_help=True)

DATA, MODEL = "Data", "Model"
Dataset = Annotated[Optional[str], typer.Option("--dataset", help="imdb (tensorflow-datasets; default) or rt-snippets (offline movie-review snippets).", rich_help_panel=DATA)]
DataDir = Annotated[Optional[str], typer.Option("--data-dir", help="Official aclImdb_v1.tar.gz or an extracted aclImdb/ folder ({train,test}/{pos,neg}/*.txt).", rich_help_panel=DATA)]
Csv = Annotated[Optional[str], typer.Option("--csv", help="Labelled CSV (labels 0/1 or neg/pos).", rich_help_panel=DATA)]
TextCol = Annotated[Optional[str], typer.Option("--text-col", help="CSV text column (default: text).", rich_help_panel=DATA)]
LabelCol = Annotated[Optional[str], typer.Option("--label-col", help="CSV label column (default: label).", rich_help_panel=DATA)]
MaxTokens = Annotated[Optional[int], typer.Option("--max-tokens", help="Vocabulary size, n-grams included.", rich_help_panel=MODEL)]
SequenceLength = Annotated[Optional[int], typer.Option("--sequence-length", help="Tokens kept per text (n-grams included).", rich_help_panel=MODEL)]
Ngrams = Annotated[Optional[int], typer.Option("--ngrams", help="1 = words, 2 = words + bigrams, 3 = + trigrams.", rich_help_panel=MODEL)]
EmbeddingDim = Annotated[Optional[int], typer.Option("--embedding-dim", help="Embedding size.", rich_help_panel=MODEL)]
Pooling = Annotated[Optional[str], typer.Option("--pooling", help="average (bag of n-grams) or conv (Conv1D + global max).", rich_help_panel=MODEL)]
HiddenUnits = Annotated[Optional[int], typer.Option("--hidden-units", help="Units of the Dense > BatchNorm block.", rich_help_panel=MODEL)]
RunDir = Annotated[Path, typer.Argument(help="A finished `regapps text train` run directory.")]



@app.command()
def train(
    dataset: Dataset = None, data_dir: DataDir = None, csv: Csv = None, text_col: TextCol = None,
    label_col: LabelCol = None, max_tokens: MaxTokens = None, sequence_length: SequenceLength = None,
    ngrams: Ngrams = None, embedding_dim: EmbeddingDim = None, pooling: Pooling = None,
    hidden_units: HiddenUnits = None,
    l1: o.L1 = None, l2: o.L2 = None, dropout: o.Dropout = None, batchnorm: o.BatchNorm = None,
    optimizer: o.Optimizer = None, learning_rate: o.LearningRate = None,
    weight_decay: o.WeightDecay = None, schedule: o.Schedule = None, batch_size: o.BatchSize = None,
    epochs: o.Epochs = None, patience: o.Patience = None, early_stopping: o.EarlyStopping = None,
    validation_split: o.ValidationSplit = None, seed: o.Seed = None,
    time_budget: o.TimeBudget = None, tensorboard: o.TensorBoard = None,
    config: o.ConfigFile = None, set_: o.Sets = None, resume: o.TrainResume = None,
    strategy: o.Strategy = None, precision: o.Precision = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Train a model and write a run directory (config, history, metrics, model, plots, report)."""
    from regapps.shared.config import build_config

    from .config import TextConfig

    flags = o.training_flags(l1=l1, l2=l2, dropout=dropout, batchnorm=batchnorm, optimizer=optimizer,
                             learning_rate=learning_rate, weight_decay=weight_decay,
                             schedule=schedule, batch_size=batch_size, epochs=epochs,
                             patience=patience, early_stopping=early_stopping,
                             validation_split=validation_split, seed=seed,
                             time_budget=time_budget, tensorboard=tensorboard,
                             strategy=strategy, precision=precision)
    flags.update({"data.dataset": dataset, "data.data_dir": data_dir, "data.csv": csv,
                  "data.text_col": text_col, "data.label_col": label_col,
                  "model.max_tokens": max_tokens, "model.sequence_length": sequence_length,
                  "model.ngrams": ngrams, "model.embedding_dim": embedding_dim,
                  "model.pooling": pooling, "model.hidden_units": hidden_units})
    if resume is not None:
        o.refuse_with_resume(flags, config, set_)
    cfg = build_config(TextConfig, config_file=config, flags=flags, sets=set_ or [])

    def body() -> dict[str, Any]:
        from . import task

        if resume is not None:
            return task.resume(resume, verbose=o.keras_verbosity(json_))
        return task.train(cfg, runs_dir=runs_dir, name=name, verbose=o.keras_verbosity(json_))

    o.run_command(json_, verbose, body, o.train_human("text"), strategy=cfg.training.strategy,
                  mlflow=o.mlflow_target(mlflow_uri, "text", "train"))


@app.command()
def evaluate(
    run_dir: RunDir,
    data_dir: Annotated[Optional[str], typer.Option("--data-dir", help="Score on this aclImdb archive or folder (its test/ split, else train/) instead of the run's test split.")] = None,
    csv: Annotated[Optional[str], typer.Option("--csv", help="Score on this labelled CSV.")] = None,
    text_col: Annotated[str, typer.Option("--text-col", help="CSV text column.")] = "text",
    label_col: Annotated[str, typer.Option("--label-col", help="CSV label column.")] = "label",
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Accuracy, precision, recall, F1, ROC AUC and a confusion matrix of a trained model."""

    def body() -> dict[str, Any]:
        from . import task

        return task.evaluate(run_dir, data_dir=data_dir, csv=csv, text_col=text_col,
                             label_col=label_col)

    def human(r: dict[str, Any]) -> str:
        m = r["metrics"]["test"]
        auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.4f}"
        return (f"text evaluate: accuracy {m['accuracy']:.4f}, precision {m['precision']:.4f}, "
                f"recall {m['recall']:.4f}, F1 {m['f1']:.4f}, ROC AUC {auc} on {m['n']} texts "
                f"-> {r['output_dir']}")

    o.run_command(json_, verbose, body, human)


@app.command()
def predict(
    run_dir: RunDir,
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts to classify (quote each).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="UTF-8 file with one text per line.")] = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Label (positive/negative) and probability for each text."""

    def body() -> dict[str, Any]:
        from . import task

        return task.predict(run_dir, texts or [], file=file)

    def human(r: dict[str, Any]) -> str:
        return "\n".join(f"{p['label']} {p['probability']:.3f}  {_short(p['input'])}"
                         for p in r["predictions"])

    o.run_command(json_, verbose, body, human)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _data_flags(dataset: str | None, data_dir: str | None, csv: str | None, text_col: str | None,
                label_col: str | None) -> dict[str, Any]:
    return {"data.dataset": dataset, "data.data_dir": data_dir, "data.csv": csv,
            "data.text_col": text_col, "data.label_col": label_col}


@app.command()
def cv(
    ctx: typer.Context,
    grid: o.Grid = None, search: o.Search = "grid", n_iter: o.NIter = 10, folds: o.Folds = 3,
    seeds: o.Seeds = 1, eta: o.Eta = 3, resume: o.Resume = None,
    executor: o.Executor = "sequential", jobs: o.Jobs = None, scheduler: o.Scheduler = None,
    dataset: Dataset = None, data_dir: DataDir = None, csv: Csv = None, text_col: TextCol = None,
    label_col: LabelCol = None, epochs: o.Epochs = None, patience: o.Patience = None,
    seed: o.Seed = None, tensorboard: o.TensorBoard = None, config: o.ConfigFile = None,
    set_: o.Sets = None, runs_dir: o.RunsDir = Path("runs"), name: o.Name = None,
    mlflow_uri: o.MlflowUri = None, json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Choose hyperparameters by stratified k-fold cross-validation (vocabulary adapted inside
    each training fold), refit the best on all training data, score the test split once."""
    from .config import TextConfig

    flags = o.training_flags(epochs=epochs, patience=patience, seed=seed, tensorboard=tensorboard)
    flags.update(_data_flags(dataset, data_dir, csv, text_col, label_col))
    base, plan = o.plan_cv(TextConfig, config, flags, set_, grid=grid, search=search, n_iter=n_iter,
                           folds=folds, seeds=seeds, eta=eta, resume=resume, app="text", ctx=ctx)

    def spec(cfg: Any) -> Any:
        from .cv import cv_spec

        return cv_spec(cfg)

    o.run_cv_command("text", TextConfig, base, plan, spec, resume=resume, runs_dir=runs_dir,
                     name=name, json_=json_, verbose=verbose, mlflow_uri=mlflow_uri,
                     executor=executor, jobs=jobs, scheduler=scheduler)


@app.command()
def compare(
    optimizers: o.CompareOptimizers = None, regularizers: o.CompareRegularizers = None,
    dataset: Dataset = None, data_dir: DataDir = None, csv: Csv = None, text_col: TextCol = None,
    label_col: LabelCol = None, epochs: o.Epochs = None, seed: o.Seed = None,
    tensorboard: o.TensorBoard = None, config: o.ConfigFile = None, set_: o.Sets = None,
    runs_dir: o.RunsDir = Path("runs"), name: o.Name = None, mlflow_uri: o.MlflowUri = None,
    json_: o.Json = False, verbose: o.Verbose = False,
) -> None:
    """Train each optimizer or regularizer on the same split, budget and seed; overlaid curves."""
    from .config import TextConfig

    flags = o.training_flags(epochs=epochs, seed=seed, tensorboard=tensorboard)
    flags.update(_data_flags(dataset, data_dir, csv, text_col, label_col))

    def task(cfg: Any) -> tuple[Any, str]:
        from . import task as text_task
        from .cv import text_cv_task

        data = text_task.load_config_data(cfg)
        return text_cv_task(data), data.source

    o.run_compare_command("text", TextConfig, config, flags, set_, optimizers, regularizers, task,
                          runs_dir=runs_dir, name=name, json_=json_, verbose=verbose,
                          mlflow_uri=mlflow_uri)
