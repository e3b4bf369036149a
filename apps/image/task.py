"""The image app: its data, model and metrics as an :class:`~regapps.shared.app.TrainableApp`,
and its Python API (train, resume, evaluate, predict, cv, compare), which the toolkit runs."""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from regapps.shared import toolkit
from regapps.shared.app import EvaluateResult, Fitted, Labelled, PredictResult, Trained, TrainResult
from regapps.shared.checks import check_trainable
from regapps.shared.errors import DataError, RunDirError
from regapps.shared.metrics import multiclass_metrics
from regapps.shared.model_pool import ModelPool
from regapps.shared.report import Report, metrics_rows

from .config import ImageConfig
from .data import EpochCounter, ImageData, load_image_data, load_labelled, load_test_set, make_dataset, split_indices
from .formats import load_image, log_scaled

if TYPE_CHECKING:  # pragma: no cover
    from regapps.shared.selection.compare import CompareResult
    from regapps.shared.selection.protocols import CVTask
    from regapps.shared.selection.runner import CVResult

log = logging.getLogger(__name__)
APP = "image"
PREDICT_BATCH = 256
TRAIN_METRICS = ["accuracy"]  # what ImageFit compiles (names Keras logs)


class ImageApp:
    """CIFAR-10-style classification: images in, class probabilities out."""

    name = APP
    config_cls = ImageConfig

    def default_space(self, config: ImageConfig) -> list[str]:
        """The preset's search space (``apps/spaces.py``); other presets take the article's."""
        from regapps.apps.spaces import IMAGE_SPACES

        return list(IMAGE_SPACES.get(config.model.preset, IMAGE_SPACES["article"]))

    def load_data(self, config: ImageConfig) -> ImageData:
        return load_image_data(config.data.dataset, config.data.data_dir)

    def check(self, config: ImageConfig, data: ImageData | None) -> None:
        if data is not None:
            check_trainable(data, config.training, split_indices, TRAIN_METRICS)

    def run_name(self, config: ImageConfig, data: ImageData) -> str:
        return f"{config.model.preset}-{Path(data.source.split(' ')[0]).name or 'data'}"

    def meta(self, config: ImageConfig, data: ImageData) -> dict[str, Any]:
        return {"class_names": data.class_names, "input_shape": list(data.input_shape),
                "input_scaling": "x / 255 in the input pipeline"}

    def fit(self, config: ImageConfig, data: ImageData, *, run_dir: Path, verbose: int,
            resume: bool) -> Fitted:
        from .plan import apply_plan, run_plan

        t = config.training
        train_idx, val_idx = split_indices(data.y_train, t.validation_split, t.seed)
        plan = run_plan(config, data.input_shape, len(data.class_names), len(train_idx), len(val_idx),
                        run_dir=run_dir, resume=resume)
        config = apply_plan(config, plan)
        job = ImageFit(config, data, train_idx, val_idx, run_dir=run_dir, verbose=verbose, resume=resume,
                       epoch_seconds=plan.epoch_seconds if plan else None,
                       budget_spent=plan.seconds if plan else 0.0)
        job.trainer.train_until(t.epochs)
        fit = job.trainer.finish()
        test, matrix = None, None
        if data.x_test is not None and data.y_test is not None:
            test, matrix = score(job.model, data.x_test, data.y_test, data.class_names,
                                 **test_time(config.augment))
        return Fitted(job.model, fit, job.validate(), test, matrix, "test",
                      training={"plan": plan.to_dict()} if plan else {})

    def curve_title(self, config: ImageConfig, data: ImageData) -> str:
        return f"{config.model.preset} on {data.source}"

    def train_report(self, config: ImageConfig, data: ImageData, metrics: Mapping[str, Any],
                     split: str) -> Report:
        return _train_report(config, data, metrics)

    def cv_task(self, config: ImageConfig, data: ImageData) -> CVTask:
        from .cv import image_cv_task

        return image_cv_task(data)

    def refit(self, best: ImageConfig, data: ImageData, folder: Path) -> dict[str, Any]:
        return toolkit.train_refit(self, best, data, folder)

    def check_meta(self, meta: dict[str, Any], run_dir: Path) -> None:
        if "class_names" not in meta or "input_shape" not in meta:
            raise RunDirError(f"{run_dir}/config.json lacks the class names or input shape")

    def custom_objects(self) -> dict[str, Any]:
        return {}

    def labelled(self, trained: Trained[ImageConfig], *, data_dir: str | None = None) -> Labelled:
        """``data_dir``: a test part alone is enough (``test/<class>/``, a CIFAR-10 archive or
        folder holding only the test batch); a set without one is scored whole. Class folders
        may be any subset of the model's classes, in any order; images are resized to the
        model's input."""
        meta, config = trained.meta, trained.config
        height, width, channels = meta["input_shape"]
        if data_dir:
            found = load_labelled(Path(data_dir), size=(width, height), channels=channels)
            source = data_dir
        else:
            found = load_test_set(config.data.dataset, config.data.data_dir, size=(width, height),
                                  channels=channels)
            source = found.source
        y = _remap(found.y, found.class_names, meta["class_names"], source)
        if len(y) == 0:
            raise DataError(f"{source} holds no labelled images")
        if found.x.shape[1:] != tuple(meta["input_shape"]):
            raise DataError(f"images of shape {found.x.shape[1:]} do not fit the model's "
                            f"{tuple(meta['input_shape'])}")
        return Labelled(found.x, y, source, name=Path(source).name or "test",
                        title=f"confusion matrix: {source}", record={"part": found.part})

    def score(self, model: Any, labelled: Labelled, trained: Trained[ImageConfig]) -> tuple[dict[str, Any], np.ndarray]:
        return score(model, labelled.x, labelled.y, trained.meta["class_names"],
                     **test_time(trained.config.augment))

    def read_inputs(self, trained: Trained[ImageConfig], inputs: list[Any], **options: Any) -> np.ndarray:
        if not inputs:
            raise DataError("give at least one image file")
        height, width, channels = trained.meta["input_shape"]
        batch: list[np.ndarray] = []
        scaled: list[Path] = []
        for path in inputs:
            if not Path(path).is_file():
                raise DataError(f"image not found: {path}")
            batch.append(load_image(Path(path), (width, height), channels, scaled=scaled))
        log_scaled(scaled, "the given files")
        return np.stack(batch)

    def predictions(self, model: Any, batch: np.ndarray, inputs: list[Any], trained: Trained[ImageConfig],
                    *, top: int = 3) -> list[dict[str, Any]]:
        names: list[str] = trained.meta["class_names"]
        probs = predict_probs(model, batch, **test_time(trained.config.augment))
        k = min(top, len(names))
        out = []
        for path, p in zip(inputs, probs, strict=True):
            order = np.argsort(p)[::-1][:k]
            out.append({"input": str(path), "label": names[order[0]], "probability": float(p[order[0]]),
                        "top": [{"label": names[i], "probability": float(p[i])} for i in order]})
        return out


IMAGE = ImageApp()


# --- the Python API ---------------------------------------------------------------------------

def train(config: ImageConfig, *, runs_dir: Path = Path("runs"), name: str | None = None,
          verbose: int = 1, folder: Path | None = None, data: ImageData | None = None) -> TrainResult:
    """Load data, train the configured model, evaluate it, and write a complete run directory
    (under ``runs_dir/image``, or under ``folder`` when given, e.g. a cv run's refit)."""
    return toolkit.train(IMAGE, config, runs_dir=runs_dir, name=name, verbose=verbose, folder=folder, data=data)


def resume(run_dir: Path, *, verbose: int = 1) -> TrainResult:
    """Continue an interrupted or failed ``train`` run after its last finished epoch."""
    return toolkit.resume(IMAGE, run_dir, verbose=verbose)


def evaluate(run_dir: Path | Trained[ImageConfig], *, data_dir: str | None = None) -> EvaluateResult:
    """Score a trained model on its own test split, or on another labelled set (``data_dir``)."""
    return toolkit.evaluate(IMAGE, run_dir, data_dir=data_dir)


def predict(run_dir: Path | Trained[ImageConfig], images: list[Path], *, top: int = 3) -> PredictResult:
    """Top-``top`` classes with probabilities for each image file."""
    return toolkit.predict(IMAGE, run_dir, list(images), top=top)


def cv(config: ImageConfig | None = None, space: Mapping[str, Any] | Sequence[str] | None = None,
       **options: Any) -> CVResult:
    """Stratified k-fold cross-validation over ``space`` (see :func:`regapps.shared.toolkit.cv`
    for the options), the winner refitted on all training data and scored on the test split."""
    return toolkit.cv(IMAGE, config, space, **options)


def compare(config: ImageConfig | None, kind: toolkit.CompareKind, names: Sequence[str], *,
            runs_dir: Path = Path("runs"), name: str | None = None) -> CompareResult:
    """Each optimizer or regularizer on the same split, budget and seed; overlaid curves."""
    return toolkit.compare(IMAGE, config, kind, names, runs_dir=runs_dir, name=name)


class ImageFit:
    """One model being trained on the training images at ``train_idx`` and scored on those at
    ``val_idx``: ``trainer.train_until(n)`` trains (and can go on later), ``validate()`` scores
    the model as it stands. ``train`` and cross-validation both train through it: the same data
    pipeline, model, loss and loop. ``tensors`` (the images and labels as tensors, made once by
    :func:`image_tensors`) lets many fits share one copy; both pipelines gather from it. With a
    ``pool`` (cross-validation), the model is built with its regularization in variables and
    trains on a compiled model shared with other trials (``shared/model_pool.py``); its state is
    then parked between legs (``model`` is None until the next leg)."""

    def __init__(self, config: ImageConfig, data: ImageData, train_idx: np.ndarray, val_idx: np.ndarray,
                 *, tensors: tuple[Any, Any] | None = None, run_dir: Path | None = None,
                 verbose: int = 0, resume: bool = False, pool: ModelPool | None = None,
                 epoch_seconds: float | None = None, budget_spent: float = 0.0):
        from regapps.shared.blocks import Tunable
        from regapps.shared.distribute import training_scope
        from regapps.shared.training import Trainer, set_seed
        from regapps.shared.whitening import set_whitening

        from .model import build_model

        t = config.training
        set_seed(t.seed)
        n_classes = len(data.class_names)
        one_hot = n_classes if t.label_smoothing > 0 else None
        images, labels = tensors or image_tensors(data)
        counter = EpochCounter() if config.augment.flip and config.augment.alternate_flips else None
        train_ds = make_dataset(images, labels, t.batch_size, indices=train_idx, shuffle=True, seed=t.seed,
                                num_classes=one_hot, flip=config.augment.flip,
                                crop_padding=config.augment.crop_padding,
                                flip_epoch=counter.variable if counter else None)
        val_ds = make_dataset(images, labels, max(t.batch_size, PREDICT_BATCH), indices=val_idx,
                              shuffle=False, seed=t.seed, num_classes=one_hot)
        with training_scope(t):  # strategy and dtype policy while the model is built and compiled
            reg = Tunable(config.regularization) if pool is not None else config.regularization
            model = build_model(config.model.preset, data.input_shape, n_classes, reg, width=config.model.width,
                                whiten=config.model.whiten)
            # a whitening layer, if the model has one, from this fit's training images only
            set_whitening(model, data.x_train, indices=train_idx, scale=1 / 255, seed=t.seed)
            self.trainer = Trainer(model, train_ds, val_ds, config=config,
                                   steps_per_epoch=-(-len(train_idx) // t.batch_size),
                                   loss=_loss(t.label_smoothing), metrics=TRAIN_METRICS, run_dir=run_dir,
                                   verbose=verbose, resume=resume, pool=pool,
                                   epoch_seconds=epoch_seconds, budget_spent=budget_spent,
                                   extra_callbacks=[counter.callback()] if counter else None)
        self.flip_epoch = counter  # the epoch the alternating flips follow (None without them)
        self.x_val, self.y_val, self.class_names = data.x_train[val_idx], data.y_train[val_idx], data.class_names
        self.test_time = test_time(config.augment)

    @property
    def model(self) -> Any:
        return self.trainer.model

    def validate(self) -> dict[str, Any]:
        return score(self.model, self.x_val, self.y_val, self.class_names, **self.test_time)[0]


def image_tensors(data: ImageData) -> tuple[Any, Any]:
    import tensorflow as tf

    return tf.constant(data.x_train), tf.constant(data.y_train)


def fit_image_model(config: ImageConfig, data: ImageData, train_idx: np.ndarray, val_idx: np.ndarray,
                    *, run_dir: Path | None = None, verbose: int = 0,
                    resume: bool = False) -> dict[str, Any]:
    """Train one model for the configured epochs and score it on the images at ``val_idx``."""
    job = ImageFit(config, data, train_idx, val_idx, run_dir=run_dir, verbose=verbose, resume=resume)
    job.trainer.train_until(config.training.epochs)
    fit_result = job.trainer.finish()
    return {"model": job.model, "fit": fit_result, "validation": job.validate()}


def _loss(label_smoothing: float) -> Any:
    import keras

    if label_smoothing > 0:
        return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def test_time(augment: Any) -> dict[str, bool]:
    """The test-time augmentation an ``augment`` section asks :func:`predict_probs` for."""
    return {"flip_average": augment.flip_average, "translate_average": augment.translate_average}


def predict_probs(model: Any, x: np.ndarray, *, flip_average: bool = False,
                  translate_average: bool = False) -> np.ndarray:
    """Class probabilities, averaged over test-time augmentations: with ``flip_average``, each
    image and its mirror image (matches training with random flips); with ``translate_average``,
    half the weight on each image as it is and a quarter on each of two copies shifted by one
    pixel, up-left and down-right (edges reflected; matches training with pad-and-crop)."""
    import tensorflow as tf

    def run(flip: bool, shift: int) -> np.ndarray:
        def view(b: Any) -> Any:
            b = tf.cast(b[:, :, ::-1] if flip else b, tf.float32) / 255.0
            if shift and b.shape[1] > 1 and b.shape[2] > 1:
                h, w = b.shape[1], b.shape[2]
                padded = tf.pad(b, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
                start = 1 + shift
                b = padded[:, start:start + h, start:start + w]
            return b

        ds = tf.data.Dataset.from_tensor_slices(x).batch(PREDICT_BATCH).map(view)
        return np.asarray(model.predict(ds, verbose=0), dtype=np.float64)

    def at(shift: int) -> np.ndarray:
        return (run(False, shift) + run(True, shift)) / 2 if flip_average else run(False, shift)

    if not translate_average:
        return at(0)
    return 0.5 * at(0) + 0.25 * (at(-1) + at(1))


def score(model: Any, x: np.ndarray, y: np.ndarray, class_names: list[str], *,
          flip_average: bool = False, translate_average: bool = False) -> tuple[dict[str, Any], np.ndarray]:
    probs = predict_probs(model, x, flip_average=flip_average, translate_average=translate_average)
    return multiclass_metrics(y, probs, class_names)


def _remap(y: np.ndarray, local_names: list[str], model_names: list[str], where: str) -> np.ndarray:
    """Labels indexing ``local_names`` -> the same classes' indices in ``model_names``."""
    if local_names == model_names:
        return y
    index = {n: i for i, n in enumerate(model_names)}
    unknown = [n for n in local_names if n not in index]
    if unknown:
        raise DataError(f"{where} has classes the model does not know: {', '.join(unknown[:5])}"
                        f"{' ...' if len(unknown) > 5 else ''} (the model's classes: "
                        f"{', '.join(model_names[:20])}{' ...' if len(model_names) > 20 else ''})")
    return np.asarray([index[n] for n in local_names], dtype=np.int64)[y]


def _train_report(config: ImageConfig, data: ImageData, metrics: Mapping[str, Any]) -> Report:
    training = metrics["training"]
    summary = (f"Preset {config.model.preset} on {data.source} "
               f"({len(data.y_train)} training images, "
               f"{'no test split' if data.y_test is None else f'{len(data.y_test)} test images'}). "
               f"Trained {training['epochs_run']} epochs in {training['train_seconds']} s; best epoch "
               f"{training['best_epoch']} by {training['monitor']}"
               f"{' (early stopping)' if training['stopped_early'] else ''}. "
               "Loss here is the cross-entropy alone, without the weight penalty.")
    splits = {k: v for k, v in metrics.items() if k in ("validation", "test") and v}
    per_class = [{"class": n, **{s: v["per_class_accuracy"].get(n) for s, v in splits.items()}}
                 for n in data.class_names]
    rep = Report(f"image train: {config.model.preset}").section("Summary").text(summary)
    for note in data.notes:
        rep.text(note)
    rep.section("Metrics").table(*metrics_rows(splits))
    plan = training.get("plan")
    if plan:
        rep.section("Plan for the time budget").text(
            f"Width {plan['width']} in {plan['precision']}, about {plan['epochs']} epochs: {plan['reason']}. "
            f"Timing the candidates took {plan['seconds']} s of the budget.")
        rep.table([{k: t[k] for k in ("width", "precision", "step_seconds", "epoch_seconds", "epochs_fit")}
                   for t in plan["timings"]])
    rep.section("Per-class accuracy").table(per_class)
    rep.section("Learning curves").image("learning_curves.png", "learning curves")
    if metrics.get("test"):
        rep.section("Confusion matrix (test)").image("confusion_matrix.png", "confusion matrix")
    rep.section("Configuration").key_values(config.to_dict())
    return rep
