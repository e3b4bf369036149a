"""The text app's Python API: train, evaluate, predict. Each returns a plain dict."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from regapps.shared import distribute, plots
from regapps.shared.checks import check_monitor, logged_names
from regapps.shared.environment import versions
from regapps.shared.errors import DataError, RunDirError
from regapps.shared.metrics import binary_metrics
from regapps.shared.model_pool import ModelPool
from regapps.shared.modelio import load_model, save_model
from regapps.shared.report import Report, metrics_rows
from regapps.shared.resume import reopen_train_run
from regapps.shared.runs import Run

from .config import TextConfig
from .data import (
    TextData,
    load_eval_set,
    load_text_data,
    make_dataset,
    read_text_file,
    split_validation,
    vectorize,
)
from .formats import CLASS_NAMES, clean_text

log = logging.getLogger(__name__)
APP = "text"
PREDICT_BATCH = 512
TRAIN_METRICS = ["accuracy", "auc"]  # what TextFit compiles (names Keras logs)


def load_config_data(config: TextConfig) -> TextData:
    d = config.data
    return load_text_data(d.dataset, d.data_dir, d.csv, text_col=d.text_col, label_col=d.label_col)


def train(config: TextConfig, *, runs_dir: Path = Path("runs"), name: str | None = None,
          verbose: int = 1, folder: Path | None = None, data: TextData | None = None) -> dict[str, Any]:
    """Load data, train the configured model, evaluate it, and write a complete run directory
    (under ``runs_dir/text``, or under ``folder`` when given, e.g. a cv run's refit)."""
    distribute.check(config.training)
    check_monitor(config.training.monitor, logged_names(TRAIN_METRICS, validation=True))  # before any data loads
    data = data or load_config_data(config)
    for note in data.notes:
        log.warning(note)
    split = _split(config, data)  # too few texts: refused before a run directory exists
    run = Run.create(runs_dir, APP, "train", name or f"{config.model.pooling}-{_source_tag(config)}",
                     folder=folder)
    with run.guard():
        run.write_json("config.json", {**config.to_dict(), "meta": _meta(data, config)})
        return _train_in(run, config, data, split, verbose=verbose, resume=False)


def resume(run_dir: Path, *, verbose: int = 1) -> dict[str, Any]:
    """Continue an interrupted or failed ``train`` run after its last finished epoch (the
    vectorizer is adapted again on the same training part, which gives the same vocabulary)."""
    run, config, data = reopen_train_run(run_dir, app=APP, config_cls=TextConfig, load_data=load_config_data)
    with run.guard():
        return _train_in(run, config, data, _split(config, data), verbose=verbose, resume=True)


def _split(config: TextConfig, data: TextData) -> tuple[Any, Any, Any, Any]:
    t = config.training
    return split_validation(data.x_train, data.y_train, t.validation_split, t.seed)


def _train_in(run: Run, config: TextConfig, data: TextData, split_parts: tuple[Any, Any, Any, Any], *,
              verbose: int, resume: bool) -> dict[str, Any]:
    x_tr, x_val, y_tr, y_val = split_parts
    result = fit_text_model(config, x_tr, y_tr, x_val, y_val, run_dir=run.path, verbose=verbose, resume=resume)
    fit_result = result["fit"]
    save_model(result["model"], run.file("model.keras"))
    metrics: dict[str, Any] = {"validation": result["validation"], "test": None}
    matrix, split = result["validation_matrix"], "validation"
    if data.x_test is not None and data.y_test is not None:
        metrics["test"], matrix = score_ids(result["classifier"], vectorize(result["vectorizer"], data.x_test),
                                            data.y_test)
        split = "test"
    plots.confusion_matrix(matrix, CLASS_NAMES, run.file("confusion_matrix.png"), f"{split} confusion matrix")
    metrics["training"] = {**fit_result.summary(), "vocabulary_size": result["vocab_size"],
                           "jit_compile": result["jit_compile"]}
    run.write_json("metrics.json", metrics)
    plots.learning_curves(fit_result.history, run.file("learning_curves.png"),
                          f"{config.model.pooling} model on {data.source}")
    _train_report(config, data, metrics, split).write(run.path)
    run.complete()
    return {"run_dir": str(run.path), "metrics": metrics, "notes": data.notes}


class TextFit:
    """One classifier in training: the vectorizer adapted on ``x_tr`` only, ``trainer`` to train
    it (and go on later), ``validate()`` to score it on the validation part as it stands. With
    a ``pool`` (cross-validation) it trains on a compiled model shared with other trials."""

    def __init__(self, config: TextConfig, x_tr: list[str], y_tr: np.ndarray, x_val: list[str],
                 y_val: np.ndarray, *, run_dir: Path | None = None, verbose: int = 0,
                 resume: bool = False, pool: ModelPool | None = None):
        import keras
        from regapps.shared.blocks import Tunable
        from regapps.shared.distribute import training_scope
        from regapps.shared.training import Trainer, set_seed

        from .model import adapt_vectorizer, build_classifier, build_vectorizer, use_jit

        t, m = config.training, config.model
        set_seed(t.seed)
        self.vectorizer = build_vectorizer(m)
        self.vocab_size = adapt_vectorizer(self.vectorizer, x_tr)
        log.info("vocabulary: %d tokens (%s)", self.vocab_size,
                 "words + bigrams" if m.ngrams == 2 else f"{m.ngrams}-grams")
        ids_tr, self.ids_val = vectorize(self.vectorizer, x_tr), vectorize(self.vectorizer, x_val)
        self.y_val = y_val
        train_ds = make_dataset(ids_tr, y_tr, t.batch_size, shuffle=True, seed=t.seed)
        val_ds = make_dataset(self.ids_val, y_val, max(t.batch_size, PREDICT_BATCH), shuffle=False, seed=t.seed)
        self.jit_compile = use_jit(m)
        loss = keras.losses.BinaryCrossentropy(label_smoothing=t.label_smoothing)
        with training_scope(t):  # strategy and dtype policy while the model is built and compiled
            reg = Tunable(config.regularization) if pool is not None else config.regularization
            self.trainer = Trainer(build_classifier(m, self.vocab_size, reg), train_ds, val_ds, config=config,
                                   steps_per_epoch=-(-len(ids_tr) // t.batch_size), loss=loss,
                                   metrics=[keras.metrics.BinaryAccuracy(name="accuracy"),
                                            keras.metrics.AUC(name="auc")],
                                   run_dir=run_dir, jit_compile=self.jit_compile, verbose=verbose,
                                   resume=resume, pool=pool)

    @property
    def classifier(self) -> Any:
        return self.trainer.model

    def validate(self) -> dict[str, Any]:
        return score_ids(self.classifier, self.ids_val, self.y_val)[0]


def fit_text_model(config: TextConfig, x_tr: list[str], y_tr: np.ndarray, x_val: list[str],
                   y_val: np.ndarray, *, run_dir: Path | None = None,
                   verbose: int = 0, resume: bool = False) -> dict[str, Any]:
    """Adapt the vectorizer on ``x_tr`` only, fit the classifier, score it on the validation part.

    Returns the inference model (strings in) as ``model`` plus its parts."""
    from .model import build_inference_model

    job = TextFit(config, x_tr, y_tr, x_val, y_val, run_dir=run_dir, verbose=verbose, resume=resume)
    job.trainer.train_until(config.training.epochs)
    fit_result = job.trainer.finish()
    validation, matrix = score_ids(job.classifier, job.ids_val, y_val)
    return {"model": build_inference_model(config.model, job.vectorizer, job.classifier),
            "classifier": job.classifier,
            "vectorizer": job.vectorizer, "fit": fit_result, "validation": validation,
            "validation_matrix": matrix, "vocab_size": job.vocab_size, "jit_compile": job.jit_compile}


def score_ids(classifier: Any, ids: np.ndarray, y: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    probs = classifier.predict(ids, batch_size=PREDICT_BATCH, verbose=0)
    return binary_metrics(y, probs, CLASS_NAMES)


def predict_probs(model: Any, texts: list[str]) -> np.ndarray:
    """Probability of "positive" for each raw text, through the saved (string-input) model."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string)[:, None]).batch(PREDICT_BATCH)
    return np.asarray(model.predict(ds, verbose=0), dtype=np.float64).reshape(-1)


# --- evaluate / predict ------------------------------------------------------------------

def open_trained(run_dir: Path) -> tuple[Run, dict[str, Any], Any]:
    run = Run.open(run_dir, app=APP)
    if run.command != "train":
        raise RunDirError(f"{run_dir} is a text {run.command!r} directory, not a training run")
    meta = run.read_mapping("config.json").get("meta", {})
    if meta.get("class_names") != CLASS_NAMES:
        raise RunDirError(f"{run_dir}/config.json lacks the text app's class names")
    from .model import custom_objects

    return run, meta, load_model(run.file("model.keras"), custom_objects=custom_objects())


def evaluate(run_dir: Path, *, data_dir: str | None = None, csv: str | None = None,
             text_col: str = "text", label_col: str = "label") -> dict[str, Any]:
    """Score a trained model on its own test split, or on another labelled set."""
    run, _, model = open_trained(run_dir)
    if data_dir or csv:
        texts, y, source = load_eval_set(data_dir, csv, text_col, label_col)
    else:
        config = TextConfig.from_saved(run.read_mapping("config.json"))
        data = load_config_data(config)
        if data.x_test is None or data.y_test is None:
            raise DataError(f"the run's data ({data.source}) has no test split; pass --data-dir or --csv")
        texts, y, source = data.x_test, data.y_test, data.source
    metrics, matrix = binary_metrics(y, predict_probs(model, texts), CLASS_NAMES)
    out = Run.create(run.path, APP, "evaluate", Path(source.split(" ")[0]).name or "test",
                     folder=run.path / "evaluations")
    with out.guard():
        out.write_json("metrics.json", {"test": metrics, "source": source})
        plots.confusion_matrix(matrix, CLASS_NAMES, out.file("confusion_matrix.png"),
                               f"confusion matrix: {Path(source.split(' ')[0]).name}")
        out.complete()
    return {"run_dir": str(run.path), "output_dir": str(out.path), "metrics": {"test": metrics}}


def predict(run_dir: Path, texts: list[str], *, file: Path | None = None) -> dict[str, Any]:
    """Label ("positive"/"negative") and probabilities for each raw text."""
    inputs = list(texts)
    for i, text in enumerate(inputs, start=1):
        if not clean_text(text):
            raise DataError(f"text {i} is empty; give some words to classify")
    if file is not None:
        inputs += read_text_file(file)
    if not inputs:
        raise DataError("give at least one text, or --file PATH with one text per line")
    _, _, model = open_trained(run_dir)
    probs = predict_probs(model, [clean_text(t) for t in inputs])
    out = []
    for text, p in zip(inputs, probs):
        label = int(p >= 0.5)
        out.append({"input": text, "label": CLASS_NAMES[label],
                    "probability": float(p if label else 1 - p), "positive_probability": float(p)})
    return {"run_dir": str(run_dir), "predictions": out}


# --- helpers ------------------------------------------------------------------------------


def _source_tag(config: TextConfig) -> str:
    d = config.data
    chosen = d.csv or d.data_dir
    return Path(chosen).name if chosen else d.dataset


def _meta(data: TextData, config: TextConfig) -> dict[str, Any]:
    return {"app": APP, "created": datetime.now().isoformat(timespec="seconds"),
            "versions": versions(), "seed": config.training.seed, "data_source": data.source,
            "data_sha256": data.checksum(), "class_names": CLASS_NAMES,
            "input": "raw text; HTML line breaks removed, then the model's TextVectorization",
            "threshold": 0.5, "n_train": len(data.y_train),
            "n_test": None if data.y_test is None else len(data.y_test), "notes": data.notes}


def _train_report(config: TextConfig, data: TextData, metrics: dict[str, Any], split: str) -> Report:
    tr = metrics["training"]
    m = config.model
    summary = (f"Model {m.pooling} (vocabulary {tr['vocabulary_size']:,}, {m.ngrams}-grams, "
               f"{m.sequence_length} tokens, BatchNormalization "
               f"{'on' if config.regularization.batchnorm else 'off'}) on {data.source} "
               f"({len(data.y_train)} training texts, "
               f"{'no test split' if data.y_test is None else f'{len(data.y_test)} test texts'}). "
               f"Trained {tr['epochs_run']} epochs in {tr['train_seconds']} s; best epoch "
               f"{tr['best_epoch']} by {tr['monitor']}{' (early stopping)' if tr['stopped_early'] else ''}.")
    splits = {k: v for k, v in metrics.items() if k in ("validation", "test") and v}
    rep = Report(f"text train: {m.pooling} model").section("Summary").text(summary)
    for note in data.notes:
        rep.text(note)
    rep.section("Metrics").table(*metrics_rows(splits))
    rep.section("Learning curves").image("learning_curves.png", "learning curves")
    rep.section(f"Confusion matrix ({split})").image("confusion_matrix.png", "confusion matrix")
    rep.section("Configuration").key_values(config.to_dict())
    return rep
