"""The text app: its data, model and metrics as an :class:`~regapps.shared.app.TrainableApp`,
and its Python API (train, resume, evaluate, predict, cv, compare), which the toolkit runs."""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from regapps.shared import toolkit
from regapps.shared.app import EvaluateResult, Fitted, Labelled, PredictResult, Trained, TrainResult
from regapps.shared.checks import check_monitor, logged_names
from regapps.shared.errors import DataError, DataParameterError, RunDirError
from regapps.shared.metrics import binary_metrics
from regapps.shared.model_pool import ModelPool
from regapps.shared.report import Report, metrics_rows

from .config import TextConfig, TextModelConfig
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

if TYPE_CHECKING:  # pragma: no cover
    from regapps.shared.selection.compare import CompareResult
    from regapps.shared.selection.protocols import CVTask
    from regapps.shared.selection.runner import CVResult

log = logging.getLogger(__name__)
APP = "text"
PREDICT_BATCH = 512
TRAIN_METRICS = ["accuracy", "auc"]  # what TextFit compiles (names Keras logs)
MODEL_NAMES = {"nb": "nb (naive-Bayes-scaled bag of n-grams, linear score)",
               "average": "average (mean embedding of n-grams)", "conv": "conv (Conv1D + global max)"}


def load_config_data(config: TextConfig) -> TextData:
    d = config.data
    return load_text_data(d.dataset, d.data_dir, d.csv, text_col=d.text_col, label_col=d.label_col)


class TextApp:
    """Binary sentiment: raw texts in, the probability of "positive" out."""

    name = APP
    config_cls = TextConfig

    def default_space(self, config: TextConfig) -> list[str]:
        """The pooling's search space (``apps/spaces.py``): the nb bag's, or the embedding models'."""
        from regapps.apps.spaces import TEXT_SPACES

        return list(TEXT_SPACES["nb" if config.model.pooling == "nb" else "embedding"])

    def load_data(self, config: TextConfig) -> TextData:
        return load_config_data(config)

    def check(self, config: TextConfig, data: TextData | None) -> None:
        if data is None:
            check_monitor(config.training.monitor, logged_names(TRAIN_METRICS, validation=True))
        else:
            _split(config, data)  # too few texts

    def run_name(self, config: TextConfig, data: TextData) -> str:
        d = config.data
        chosen = d.csv or d.data_dir
        return f"{config.model.pooling}-{Path(chosen).name if chosen else d.dataset}"

    def meta(self, config: TextConfig, data: TextData) -> dict[str, Any]:
        return {"class_names": CLASS_NAMES,
                "input": "raw text; HTML line breaks removed, then the model's TextVectorization",
                "threshold": 0.5}

    def fit(self, config: TextConfig, data: TextData, *, run_dir: Path, verbose: int,
            resume: bool) -> Fitted:
        x_tr, x_val, y_tr, y_val = _split(config, data)
        result = fit_text_model(config, x_tr, y_tr, x_val, y_val, run_dir=run_dir, verbose=verbose,
                                resume=resume)
        test, matrix, split = None, result["validation_matrix"], "validation"
        if data.x_test is not None and data.y_test is not None:
            test, matrix = score_ids(result["classifier"], vectorize(result["vectorizer"], data.x_test),
                                     data.y_test)
            split = "test"
        return Fitted(result["model"], result["fit"], result["validation"], test, matrix, split,
                      {"vocabulary_size": result["vocab_size"], "jit_compile": result["jit_compile"],
                       "nb_smoothing": result["nb_smoothing"], "characters": result["characters"],
                       "sequence_length": result["sequence_length"], "refit_all": result["refit"]})

    def curve_title(self, config: TextConfig, data: TextData) -> str:
        return f"{config.model.pooling} model on {data.source}"

    def train_report(self, config: TextConfig, data: TextData, metrics: Mapping[str, Any],
                     split: str) -> Report:
        return _train_report(config, data, metrics, split)

    def cv_task(self, config: TextConfig, data: TextData) -> CVTask:
        from .cv import text_cv_task

        return text_cv_task(data)

    def refit(self, best: TextConfig, data: TextData, folder: Path) -> dict[str, Any]:
        return toolkit.train_refit(self, best, data, folder)

    def check_meta(self, meta: dict[str, Any], run_dir: Path) -> None:
        if meta.get("class_names") != CLASS_NAMES:
            raise RunDirError(f"{run_dir}/config.json lacks the text app's class names")

    def custom_objects(self) -> dict[str, Any]:
        from .model import custom_objects

        return custom_objects()

    def labelled(self, trained: Trained[TextConfig], *, data_dir: str | None = None,
                 csv: str | None = None, text_col: str = "text", label_col: str = "label") -> Labelled:
        if data_dir or csv:
            texts, y, source = load_eval_set(data_dir, csv, text_col, label_col)
        else:
            data = load_config_data(trained.config)
            if data.x_test is None or data.y_test is None:
                raise DataParameterError("data_dir", "the run's data ({source}) has no test split; pass {param} or "
                                         "{csv}", source=data.source)
            texts, y, source = data.x_test, data.y_test, data.source
        name = Path(source.split(" ")[0]).name
        return Labelled(texts, y, source, name=name or "test", title=f"confusion matrix: {name}")

    def score(self, model: Any, labelled: Labelled, trained: Trained[TextConfig]) -> tuple[dict[str, Any], np.ndarray]:
        return binary_metrics(labelled.y, predict_probs(model, labelled.x), CLASS_NAMES)

    def read_inputs(self, trained: Trained[TextConfig], inputs: list[Any], *,
                    file: Path | None = None) -> list[str]:
        texts = list(inputs)
        for i, text in enumerate(texts, start=1):
            if not clean_text(text):
                raise DataError(f"text {i} is empty; give some words to classify")
        if file is not None:
            texts += read_text_file(file)
        if not texts:
            raise DataParameterError("file", "give at least one text, or {param} PATH with one text per line")
        return texts

    def predictions(self, model: Any, batch: list[str], inputs: list[Any], trained: Trained[TextConfig],
                    **options: Any) -> list[dict[str, Any]]:
        probs = predict_probs(model, [clean_text(t) for t in batch])
        out = []
        for text, p in zip(batch, probs, strict=True):
            label = int(p >= 0.5)
            out.append({"input": text, "label": CLASS_NAMES[label],
                        "probability": float(p if label else 1 - p), "positive_probability": float(p)})
        return out


TEXT = TextApp()


# --- the Python API ---------------------------------------------------------------------------

def train(config: TextConfig, *, runs_dir: Path = Path("runs"), name: str | None = None,
          verbose: int = 1, folder: Path | None = None, data: TextData | None = None) -> TrainResult:
    """Load data, train the configured model, evaluate it, and write a complete run directory
    (under ``runs_dir/text``, or under ``folder`` when given, e.g. a cv run's refit)."""
    return toolkit.train(TEXT, config, runs_dir=runs_dir, name=name, verbose=verbose, folder=folder, data=data)


def resume(run_dir: Path, *, verbose: int = 1) -> TrainResult:
    """Continue an interrupted or failed ``train`` run after its last finished epoch (the
    vectorizer is adapted again on the same training part, which gives the same vocabulary)."""
    return toolkit.resume(TEXT, run_dir, verbose=verbose)


def evaluate(run_dir: Path | Trained[TextConfig], *, data_dir: str | None = None, csv: str | None = None,
             text_col: str = "text", label_col: str = "label") -> EvaluateResult:
    """Score a trained model on its own test split, or on another labelled set."""
    return toolkit.evaluate(TEXT, run_dir, data_dir=data_dir, csv=csv, text_col=text_col, label_col=label_col)


def predict(run_dir: Path | Trained[TextConfig], texts: list[str], *, file: Path | None = None) -> PredictResult:
    """Label ("positive"/"negative") and probabilities for each raw text."""
    return toolkit.predict(TEXT, run_dir, list(texts), file=file)


def cv(config: TextConfig | None = None, space: Mapping[str, Any] | Sequence[str] | None = None,
       **options: Any) -> CVResult:
    """Stratified k-fold cross-validation over ``space`` (vocabulary adapted inside each training
    fold; see :func:`regapps.shared.toolkit.cv` for the options), the winner refitted on all
    training data and scored on the test split."""
    return toolkit.cv(TEXT, config, space, **options)


def compare(config: TextConfig | None, kind: toolkit.CompareKind, names: Sequence[str], *,
            runs_dir: Path = Path("runs"), name: str | None = None) -> CompareResult:
    """Each optimizer or regularizer on the same split, budget and seed; overlaid curves."""
    return toolkit.compare(TEXT, config, kind, names, runs_dir=runs_dir, name=name)


def _split(config: TextConfig, data: TextData) -> tuple[Any, Any, Any, Any]:
    t = config.training
    return split_validation(data.x_train, data.y_train, t.validation_split, t.seed)


@dataclass
class Vectorized:
    """Vectorizers adapted on one training part, with that part (and its validation part) as
    token ids: what every trial on the same fold and vectorizer settings can share."""

    vectorizer: Any  # model.Vectorizers
    vocab_size: int
    sequence_length: int  # word ids per text; the character ids follow them
    ids_tr: np.ndarray
    ids_val: np.ndarray | None
    char_vocab_size: int = 0

    @property
    def chars(self) -> tuple[int, int] | None:
        """(vocabulary size, ids per text) of the character bag, or None without one."""
        return (self.char_vocab_size, self.vectorizer.char_length) if self.vectorizer.chars is not None else None

    @staticmethod
    def settings(m: TextModelConfig) -> tuple[Any, ...]:
        """The model settings the vectorizers and the ids depend on."""
        return m.max_tokens, m.ngrams, m.sequence_length, m.char_ngrams, m.pooling == "nb"

    @classmethod
    def fit(cls, m: TextModelConfig, x_tr: list[str], x_val: list[str] | None) -> Vectorized:
        from .model import (
            Vectorizers,
            adapt_vectorizer,
            build_char_vectorizer,
            build_vectorizer,
            char_ngrams_for,
            char_sequence_length_for,
            sequence_length_for,
        )

        sequence_length = sequence_length_for(m, x_tr)
        words = build_vectorizer(m, sequence_length)
        vocab_size = adapt_vectorizer(words, x_tr)
        log.info("vocabulary: %d terms (1..%d-grams), %d kept per text", vocab_size, m.ngrams, sequence_length)
        n, chars, char_vocab = char_ngrams_for(m, x_tr), None, 0
        if n:
            char_length = char_sequence_length_for(x_tr, n)
            chars = build_char_vectorizer(m, n, char_length)
            char_vocab = adapt_vectorizer(chars, x_tr)
            log.info("character vocabulary: %d terms (2..%d-grams), %d kept per text", char_vocab, n, char_length)
        vectorizers = Vectorizers(words, chars, n)
        return cls(vectorizers, vocab_size, sequence_length, vectorize(vectorizers, x_tr),
                   vectorize(vectorizers, x_val) if x_val is not None else None, char_vocab)


class TextFit:
    """One classifier in training: the vectorizer adapted on ``x_tr`` only, ``trainer`` to train
    it (and go on later), ``validate()`` to score it on the validation part as it stands. With
    a ``pool`` (cross-validation) it trains on a compiled model shared with other trials."""

    def __init__(self, config: TextConfig, x_tr: list[str], y_tr: np.ndarray, x_val: list[str] | None,
                 y_val: np.ndarray | None, *, run_dir: Path | None = None, verbose: int = 0,
                 resume: bool = False, pool: ModelPool | None = None, vectorized: Vectorized | None = None):
        import keras
        from regapps.shared.blocks import Tunable
        from regapps.shared.distribute import training_scope
        from regapps.shared.training import Trainer, set_seed

        from .model import build_classifier, nb_log_ratios, nb_smoothing_for, set_nb_ratios, use_jit

        t, m = config.training, config.model
        set_seed(t.seed)
        vec = vectorized or Vectorized.fit(m, x_tr, x_val)
        self.vectorizer, self.vocab_size, self.sequence_length = vec.vectorizer, vec.vocab_size, vec.sequence_length
        self.chars = vec.chars
        ids_tr, self.ids_val, self.y_val = vec.ids_tr, vec.ids_val, y_val
        train_ds = make_dataset(ids_tr, y_tr, t.batch_size, shuffle=True, seed=t.seed)
        val_ds = (make_dataset(self.ids_val, y_val, max(t.batch_size, PREDICT_BATCH), shuffle=False, seed=t.seed)
                  if self.ids_val is not None and y_val is not None else None)
        self.jit_compile = use_jit(m)
        loss = keras.losses.BinaryCrossentropy(label_smoothing=t.label_smoothing)
        with training_scope(t):  # strategy and dtype policy while the model is built and compiled
            reg = Tunable(config.regularization) if pool is not None else config.regularization
            classifier = build_classifier(m, self.vocab_size, reg, self.sequence_length, self.chars)
            self.nb_smoothing: float | None = None
            self.char_nb_smoothing: float | None = None
            if m.pooling == "nb":  # from the training part only, like the vocabulary; each bag its own
                words, chars = ids_tr[:, :self.sequence_length], ids_tr[:, self.sequence_length:]
                self.nb_smoothing = nb_smoothing_for(m, words)
                ratios = nb_log_ratios(words, y_tr, self.vocab_size, alpha=self.nb_smoothing, min_count=m.min_count)
                char_ratios = None
                if self.chars is not None:
                    self.char_nb_smoothing = nb_smoothing_for(m, chars)
                    char_ratios = nb_log_ratios(chars, y_tr, self.chars[0], alpha=self.char_nb_smoothing,
                                                min_count=m.min_count)
                set_nb_ratios(classifier, ratios, char_ratios)
            self.trainer = Trainer(classifier, train_ds, val_ds, config=config,
                                   steps_per_epoch=-(-len(ids_tr) // t.batch_size), loss=loss,
                                   metrics=[keras.metrics.BinaryAccuracy(name="accuracy"),
                                            keras.metrics.AUC(name="auc")],
                                   run_dir=run_dir, jit_compile=self.jit_compile, verbose=verbose,
                                   resume=resume, pool=pool)

    @property
    def classifier(self) -> Any:
        return self.trainer.model

    def validate(self) -> dict[str, Any]:
        assert self.ids_val is not None and self.y_val is not None
        return score_ids(self.classifier, self.ids_val, self.y_val)[0]


def fit_text_model(config: TextConfig, x_tr: list[str], y_tr: np.ndarray, x_val: list[str],
                   y_val: np.ndarray, *, run_dir: Path | None = None,
                   verbose: int = 0, resume: bool = False) -> dict[str, Any]:
    """Adapt the vectorizer on ``x_tr`` only, fit the classifier, score it on the validation part.
    With ``model.refit_all`` (and no time budget), train once more on every text (the validation
    part too), from scratch, for the epochs the first fit found best: the returned model is that
    one, and the validation figures are the first fit's.

    Returns the inference model (strings in) as ``model`` plus its parts."""
    from .model import build_inference_model

    job = TextFit(config, x_tr, y_tr, x_val, y_val, run_dir=run_dir, verbose=verbose, resume=resume)
    job.trainer.train_until(config.training.epochs)
    fit_result = job.trainer.finish()
    assert job.ids_val is not None
    validation, matrix = score_ids(job.classifier, job.ids_val, y_val)
    refit: dict[str, Any] | None = None
    if config.model.refit_all and config.training.time_budget_minutes:
        log.info("no refit on all training texts: the time budget is for one training")
    elif config.model.refit_all:
        # as many epochs as the model kept had: the best one's, or without restore_best every one run
        epochs = fit_result.best_epoch if config.training.restore_best else fit_result.epochs_run
        every = [*x_tr, *x_val]
        log.info("refit on all %d training texts for %d epochs (the first fit's %s)", len(every), epochs,
                 "best" if config.training.restore_best else "count")
        final_config = config.with_training(epochs=epochs, early_stopping=False, restore_best=False)
        job = TextFit(final_config, every, np.concatenate([y_tr, y_val]), None, None, verbose=verbose)
        job.trainer.train_until(epochs)
        refit = {"epochs": epochs, "texts": len(every), "train_seconds": round(job.trainer.finish().seconds, 2)}
    return {"model": build_inference_model(config.model, job.vectorizer, job.classifier),
            "classifier": job.classifier,
            "vectorizer": job.vectorizer, "fit": fit_result, "validation": validation,
            "validation_matrix": matrix, "vocab_size": job.vocab_size, "jit_compile": job.jit_compile,
            "nb_smoothing": job.nb_smoothing, "characters": _characters(job),
            "sequence_length": job.sequence_length, "refit": refit}


def _characters(job: TextFit) -> dict[str, Any] | None:
    """The character bag's settings, as the run's metrics record them (None without one)."""
    if job.chars is None:
        return None
    return {"ngrams": f"2..{job.vectorizer.char_ngrams}", "vocabulary_size": job.chars[0],
            "sequence_length": job.chars[1], "nb_smoothing": job.char_nb_smoothing}


def score_ids(classifier: Any, ids: np.ndarray, y: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    probs = classifier.predict(ids, batch_size=PREDICT_BATCH, verbose=0)
    return binary_metrics(y, probs, CLASS_NAMES)


def predict_probs(model: Any, texts: list[str]) -> np.ndarray:
    """Probability of "positive" for each raw text, through the saved (string-input) model."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string)[:, None]).batch(PREDICT_BATCH)
    return np.asarray(model.predict(ds, verbose=0), dtype=np.float64).reshape(-1)


def _smoothing_phrase(m: TextModelConfig, used: float | None) -> str:
    if used is None:
        return ""
    how = "set" if m.nb_smoothing is not None else "from the texts' n-gram counts"
    return f"naive-Bayes smoothing {used:g} ({how}), "


def _characters_phrase(m: TextModelConfig, chars: Mapping[str, Any] | None) -> str:
    if m.pooling != "nb":
        return ""
    if not chars:
        why = "set" if m.char_ngrams is not None else "texts longer than the automatic character bag's limit"
        return f"no character n-grams ({why}), "
    how = "set" if m.char_ngrams is not None else "on for short texts"
    return (f"a second bag of character {chars['ngrams']}-grams ({how}; vocabulary {chars['vocabulary_size']:,}, "
            f"{chars['sequence_length']} kept per text, smoothing {chars['nb_smoothing']:g}), ")


def _train_report(config: TextConfig, data: TextData, metrics: Mapping[str, Any], split: str) -> Report:
    tr = metrics["training"]
    m = config.model
    summary = (f"Model {MODEL_NAMES[m.pooling]} (vocabulary {tr['vocabulary_size']:,}, 1..{m.ngrams}-grams, "
               f"{tr['sequence_length']} tokens kept per text, "
               f"{_smoothing_phrase(m, tr.get('nb_smoothing'))}{_characters_phrase(m, tr.get('characters'))}"
               f"BatchNormalization "
               f"{'on' if config.regularization.batchnorm else 'off'}) on {data.source} "
               f"({len(data.y_train)} training texts, "
               f"{'no test split' if data.y_test is None else f'{len(data.y_test)} test texts'}). "
               f"Trained {tr['epochs_run']} epochs in {tr['train_seconds']} s; best epoch "
               f"{tr['best_epoch']} by {tr['monitor']}{' (early stopping)' if tr['stopped_early'] else ''}.")
    if tr.get("refit_all"):
        r = tr["refit_all"]
        summary += (f" Then trained again from scratch on all {r['texts']} training texts (validation part "
                    f"included) for those {r['epochs']} epochs ({r['train_seconds']} s): the saved model; "
                    "the validation figures are the first fit's.")
    splits = {k: v for k, v in metrics.items() if k in ("validation", "test") and v}
    rep = Report(f"text train: {m.pooling} model").section("Summary").text(summary)
    for note in data.notes:
        rep.text(note)
    rep.section("Metrics").table(*metrics_rows(splits))
    rep.section("Learning curves").image("learning_curves.png", "learning curves")
    rep.section(f"Confusion matrix ({split})").image("confusion_matrix.png", "confusion matrix")
    rep.section("Configuration").key_values(config.to_dict())
    return rep
