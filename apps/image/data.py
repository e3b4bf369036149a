"""Image data: one place per source (digits, CIFAR-10 via tensorflow-datasets, local files)
and the tf.data pipeline that keeps images uint8 until each batch is normalized."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from regapps.shared.environment import cache_dir
from regapps.shared.errors import DataError, DataParameterError
from regapps.shared.files import folder_entries

from .formats import (
    CIFAR10_CLASSES,
    LocalImages,
    Need,
    class_folders,
    iter_sources,
    read_cifar_archive,
    read_cifar_folder,
    read_image_folders,
)

log = logging.getLogger(__name__)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
OFFLINE_HINT = ("Use --data-dir with the official CIFAR-10 archive (cifar-10-binary.tar.gz or "
                "cifar-10-python.tar.gz) or an image folder, or --dataset digits (offline).")
DIGITS_TEST_SIZE = 0.2
DIGITS_SPLIT_SEED = 0  # fixed, so every run of every seed is scored on the same test images


@dataclass
class ImageData:
    x_train: np.ndarray  # uint8, N x H x W x C
    y_train: np.ndarray  # int64 class indices
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: list[str]
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])  # type: ignore[return-value]

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            if array is not None:
                digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def load_image_data(dataset: str, data_dir: str | None, *, cache: Path | None = None) -> ImageData:
    if data_dir:
        return from_local(load_local(Path(data_dir)))
    if dataset == "digits":
        return load_digits()
    if dataset == "cifar10":
        return load_cifar10_tfds(Path(cache or cache_dir()))
    raise DataError(f"unknown dataset {dataset!r}; valid: cifar10, digits")


def from_local(local: LocalImages) -> ImageData:
    if local.train is None:  # load_local(need="train") never returns this; other callers might
        raise DataError(f"{local.source} has no training images")
    test = local.test
    return ImageData(local.train.x, local.train.y, test.x if test else None,
                     test.y if test else None, local.class_names, local.source, local.notes)


def load_local(path: Path, *, size: tuple[int, int] | None = None, channels: int = 3,
               need: Need = "train") -> LocalImages:
    """Detect and read an official CIFAR-10 archive or folder, or an image-folder tree.
    ``need="train"`` requires training data; ``need="test"`` reads only the test part when
    there is one (else the training part): see :func:`read_cifar` and :func:`read_image_folders`."""
    entries = folder_entries(path)
    if entries is None:
        return read_cifar_archive(path, need=need)
    if any(p.name.startswith(("data_batch_", "test_batch")) for p in entries):
        return read_cifar_folder(path, need=need)
    for candidate in iter_sources(path):
        return (read_cifar_folder(candidate, need=need) if candidate.is_dir()
                else read_cifar_archive(candidate, need=need))
    if class_folders(path):
        return read_image_folders(path, size=size, channels=channels, need=need)
    raise DataParameterError("data_dir", "{param} {path} holds neither a CIFAR-10 archive nor class folders "
                             "(expected cifar-10-batches-bin/, cifar-10-batches-py/, cifar-10-binary.tar.gz, "
                             "cifar-10-python.tar.gz, train/<class>/*.png, test/<class>/*.png or <class>/*.png)",
                             path=path)


@dataclass
class LabelledSet:
    """Labelled images to score a model on; ``part``: "test" (the source's test part) or "all"
    (a source without a test part, scored whole)."""

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    source: str
    part: str = "test"


def load_test_set(dataset: str, data_dir: str | None, *, size: tuple[int, int] | None = None,
                  channels: int = 3, cache: Path | None = None) -> LabelledSet:
    """The test split of a run's own data (``dataset``/``data_dir`` as it was trained), reading
    nothing else: tensorflow-datasets' test split only, a local set's test part only."""
    if data_dir:
        local = load_local(Path(data_dir), size=size, channels=channels, need="test")
        if local.test is None:
            raise DataParameterError("data_dir", "the run's data ({source}) has no test split; pass {param}",
                                     source=local.source)
        return LabelledSet(local.test.x, local.test.y, local.class_names, local.source)
    if dataset == "digits":
        data = load_digits()
        assert data.x_test is not None and data.y_test is not None  # digits always has its split
        return LabelledSet(data.x_test, data.y_test, data.class_names, data.source)
    if dataset == "cifar10":
        from regapps.shared.tfds import load_splits

        ((x, y),) = load_splits("cifar10", Path(cache or cache_dir()), url=CIFAR10_URL,
                                hint=OFFLINE_HINT, splits=("test",))
        return LabelledSet(x, y.astype(np.int64), list(CIFAR10_CLASSES), "cifar10 (tensorflow-datasets)")
    raise DataError(f"unknown dataset {dataset!r}; valid: cifar10, digits")


def load_labelled(path: Path, *, size: tuple[int, int] | None = None, channels: int = 3) -> LabelledSet:
    """A labelled set given to evaluate: its test part, or all of it when it has no test part."""
    local = load_local(path, size=size, channels=channels, need="test")
    split, part = (local.test, "test") if local.test is not None else (local.train, "all")
    if split is None:  # load_local(need="test") returns one of the two
        raise DataError(f"{path} holds no labelled images")
    for note in local.notes:
        log.info(note)
    return LabelledSet(split.x, split.y, local.class_names, str(path), part)


def load_digits() -> ImageData:
    """scikit-learn's bundled 8x8 handwritten digits, with a fixed stratified 20% test split."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[..., None]
    labels = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(images, labels, test_size=DIGITS_TEST_SIZE,
                                              stratify=labels, random_state=DIGITS_SPLIT_SEED)
    return ImageData(x_tr, y_tr, x_te, y_te, [str(i) for i in range(10)],
                     "digits (scikit-learn)")


def load_cifar10_tfds(cache: Path) -> ImageData:
    """CIFAR-10 through tensorflow-datasets (cached; fails fast offline)."""
    from regapps.shared.tfds import load_splits

    (x_tr, y_tr), (x_te, y_te) = load_splits("cifar10", cache, url=CIFAR10_URL, hint=OFFLINE_HINT)
    return ImageData(x_tr, y_tr.astype(np.int64), x_te, y_te.astype(np.int64),
                     list(CIFAR10_CLASSES), "cifar10 (tensorflow-datasets)")


def split_indices(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded train/validation index split (plain split when a class is too small).
    Indices, not copies: the pipeline gathers batches from the one array."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    n_val = max(1, int(round(len(y) * fraction)))
    if n_val >= len(y):
        raise DataError(f"{len(y)} training images are too few for a validation split of {fraction}")
    stratify = y if counts[counts > 0].min() >= 2 and n_val >= len(np.unique(y)) else None
    train_idx, val_idx = train_test_split(np.arange(len(y)), test_size=n_val, stratify=stratify,
                                          random_state=seed)
    return np.sort(train_idx), np.sort(val_idx)


class EpochCounter:
    """The training epoch, for a pipeline whose augmentation depends on it (alternating flips):
    a variable the pipeline reads as it makes each batch, set by :meth:`callback` when an epoch
    begins. Keras makes each epoch's iterator over a finite dataset after ``on_epoch_begin``,
    so no batch of an epoch is made (or prefetched) before its number is set."""

    def __init__(self) -> None:
        import tensorflow as tf

        self.variable = tf.Variable(0, dtype=tf.int64, trainable=False, name="augment_epoch")

    def callback(self) -> Any:
        import keras

        variable = self.variable

        class SetEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                variable.assign(epoch)

        return SetEpoch()


def make_dataset(x: Any, y: Any, batch_size: int, *, shuffle: bool, seed: int,
                 indices: np.ndarray | None = None, num_classes: int | None = None,
                 flip: bool = False, crop_padding: int = 0, flip_epoch: Any = None) -> Any:
    """Batches of float32 images in [0, 1]. ``x`` (uint8, NumPy or an already-made tensor that
    several datasets share) stays as it is; each batch of ``indices`` is gathered and normalized
    on the fly. ``num_classes`` one-hot encodes labels (label smoothing); ``flip`` and
    ``crop_padding`` augment each image independently (training data only). With ``flip_epoch``
    (an :class:`EpochCounter`'s variable) flips alternate instead of being drawn: a seeded half
    of the images is flipped in epoch 0 and each image is flipped in every other epoch after
    that, so each pair of epochs shows every image both ways (airbench's alternating flip)."""
    import tensorflow as tf

    images = x if tf.is_tensor(x) else tf.constant(x)
    labels = y if tf.is_tensor(y) else tf.constant(y)
    index = np.arange(len(x)) if indices is None else np.asarray(indices, dtype=np.int64)
    ds = tf.data.Dataset.from_tensor_slices(index)
    if shuffle:
        ds = ds.shuffle(len(index), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    # each image's flip in epoch 0, by its index into x (so a fold's images keep theirs)
    parity = (tf.constant(np.random.default_rng(seed).integers(0, 2, len(x)), tf.int64)
              if flip and flip_epoch is not None else None)

    def gather(idx: Any) -> tuple[Any, Any]:
        batch = tf.cast(tf.gather(images, idx), tf.float32) / 255.0
        flips = None if parity is None else tf.math.floormod(tf.gather(parity, idx) + flip_epoch, 2) == 1
        batch = augment_batch(batch, flip=flip, crop_padding=crop_padding, seed=seed, flips=flips)
        target = tf.gather(labels, idx)
        if num_classes:
            target = tf.one_hot(target, num_classes)
        return batch, target

    return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def augment_batch(batch: Any, *, flip: bool, crop_padding: int, seed: int, flips: Any = None) -> Any:
    """Per-image random horizontal flip and pad-(reflect)-and-crop, vectorized over the batch.
    ``flips`` (bool, one per image) says which images to flip instead of a coin."""
    import tensorflow as tf

    if not flip and not crop_padding:
        return batch
    size = tf.shape(batch)[0]
    if flip:
        coin = (tf.random.uniform([size, 1, 1, 1], seed=seed) < 0.5 if flips is None
                else tf.reshape(flips, [size, 1, 1, 1]))
        batch = tf.where(coin, tf.reverse(batch, axis=[2]), batch)
    if crop_padding:
        p = crop_padding
        height, width = tf.shape(batch)[1], tf.shape(batch)[2]
        padded = tf.pad(batch, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")
        dy = tf.random.uniform([size], 0, 2 * p + 1, dtype=tf.int32, seed=seed + 1)
        dx = tf.random.uniform([size], 0, 2 * p + 1, dtype=tf.int32, seed=seed + 2)
        rows = dy[:, None] + tf.range(height)[None, :]
        cols = dx[:, None] + tf.range(width)[None, :]
        batch = tf.gather(padded, rows, axis=1, batch_dims=1)
        batch = tf.gather(batch, cols, axis=2, batch_dims=1)
    return batch
