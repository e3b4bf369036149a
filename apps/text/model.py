"""Text model builders: a TextVectorization layer (adapted on the training part only) and a
classifier on token ids. The default (``nb`` pooling) is a naive-Bayes-scaled bag of n-grams with
a linear score > BatchNormalization > sigmoid; ``average`` and ``conv`` are Embedding > pooling >
Dropout > Dense > BN > activation > Dropout > sigmoid.

Training runs on token ids (vectorized once, outside the model) so that the classifier can be
XLA-compiled; the saved model is ``vectorizer > classifier`` and takes raw strings.

Tokens are made by :func:`standardize_text` and split on ASCII spaces. Keras' own standardizer
lowercases ASCII only and its whitespace split leaves every other separator inside tokens: real
reviews hold U+0085, U+2028, U+00A0 and control characters, so the learned vocabulary held terms
that Keras' line-based vocabulary file splits apart on reload (empty and space-led terms, then
"repeated term"). Here every Unicode separator and control character becomes a space first, so
no token holds one; and the saved vectorizer carries its vocabulary in its JSON config (exact
for any string), not in that file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from regapps.shared.blocks import conv_block, dense_block, output_layer

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .config import TextModelConfig

# XLA per pooling, chosen by measurement (bench/text_throughput.py, 2 shared CPU cores, steady-
# state examples/s): about 2-4x faster for the embedding average, about 1.3x for Conv1D + max,
# but 3-7x slower for nb (its per-text sort and gathers; AMD EPYC AVX2, 2,688 ids per text).
JIT_BY_POOLING = {"nb": False, "average": True, "conv": True}
SEQUENCE_QUANTILE = 0.99  # sequence_length None: room for every n-gram of 99% of training texts
NB_SMOOTHING = 1.0  # add-one (Laplace) smoothing, nb_log_ratios' default; the model's is model.nb_smoothing
# char_ngrams None: in-word character 2..5-grams when 99% of the training texts have at most
# 1,000 characters. rt-snippets, 5 folds: words 0.8014, + characters across words 0.8088, +
# characters within words 0.8109; IMDB reviews (99% up to 5,158 characters): 0.8986 and 0.8996 in
# a prototype, level for 7.6x the ids per text, so long texts keep words only (docs/text-model.md).
CHAR_NGRAMS = 5
CHAR_AUTO_MAX_CHARS = 1000


def use_jit(cfg: TextModelConfig) -> bool:
    return JIT_BY_POOLING[cfg.pooling] if cfg.jit_compile is None else cfg.jit_compile


# Keras' default punctuation set (removed, as Keras does); separators and controls (\s, Unicode
# Z* and C*) become one space: after this the only whitespace left is U+0020.
PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
SEPARATORS = r"[\s\p{Z}\p{C}]+"


def standardize_text(texts: Any) -> Any:
    """Unicode lowercase, separators and control characters to spaces, ASCII punctuation
    removed. Registered (not a lambda), so a model that uses it loads with ``safe_mode``."""
    import tensorflow as tf

    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf.strings.regex_replace(texts, SEPARATORS, " ")
    return tf.strings.regex_replace(texts, PUNCTUATION, "")


def word_character_ngrams(texts: Any, n: int) -> Any:
    """Each (standardized) text's character 2..``n``-grams within its words, each word padded
    with a space on both sides (scikit-learn's ``char_wb``): ragged ``(batch, grams)``."""
    import tensorflow as tf

    words = tf.strings.split(texts)
    padded = tf.ragged.map_flat_values(lambda w: tf.strings.join([" ", w, " "]), words)
    chars = tf.strings.unicode_split(padded, "UTF-8")
    grams = [tf.strings.ngrams(chars, k, separator="") for k in range(2, n + 1)]
    return tf.concat(grams, axis=2).merge_dims(1, 2)


def _character_splitter(n: int) -> Any:
    def split(texts: Any) -> Any:
        return word_character_ngrams(texts, n)

    split.__name__ = split.__qualname__ = f"word_character_{n}grams"
    return split


# one registered split function per largest order: the saved vectorizer names its own
CHARACTER_SPLITTERS = {n: _character_splitter(n) for n in range(2, 9)}


def custom_objects() -> dict[str, Any]:
    """What ``load_model`` needs to rebuild a saved text model."""
    _register()
    return {"regapps>standardize_text": standardize_text,
            **{f"regapps>{f.__name__}": f for f in CHARACTER_SPLITTERS.values()}}


def _register() -> None:
    """Register :func:`standardize_text` and the character splitters by name (idempotent; keeps
    Keras out of import time)."""
    import keras

    keras.saving.register_keras_serializable(package="regapps", name="standardize_text")(standardize_text)
    for f in CHARACTER_SPLITTERS.values():
        keras.saving.register_keras_serializable(package="regapps", name=f.__name__)(f)


def sequence_length_for(cfg: TextModelConfig, texts: list[str]) -> int:
    """``cfg.sequence_length``, or when None the n-gram count (1..``ngrams``-grams) of the
    99th-percentile training text by words, rounded up to a multiple of 8."""
    import numpy as np

    if cfg.sequence_length is not None:
        return cfg.sequence_length
    words = np.array([len(t.split()) for t in texts] or [1], dtype=np.int64)
    n = int(np.ceil(np.quantile(words, SEQUENCE_QUANTILE)))
    grams = sum(max(0, n - k + 1) for k in range(1, cfg.ngrams + 1))
    return max(8, -(-grams // 8) * 8)


def char_ngrams_for(cfg: TextModelConfig, texts: list[str]) -> int:
    """The character n-grams' largest order (0: none). Only the ``nb`` model has a character bag;
    ``cfg.char_ngrams`` None gives :data:`CHAR_NGRAMS` when the 99th-percentile training text has at
    most :data:`CHAR_AUTO_MAX_CHARS` characters."""
    import numpy as np

    if cfg.pooling != "nb":
        return 0
    if cfg.char_ngrams is not None:
        return cfg.char_ngrams
    chars = np.array([len(t) for t in texts] or [0], dtype=np.int64)
    return CHAR_NGRAMS if float(np.quantile(chars, SEQUENCE_QUANTILE)) <= CHAR_AUTO_MAX_CHARS else 0


def char_sequence_length_for(texts: list[str], n: int) -> int:
    """Room for the in-word character 2..``n``-grams of 99% of the training texts, rounded up to
    a multiple of 8 (a word of m characters, padded to m + 2, has m + 3 - k grams of order k)."""
    import numpy as np

    def grams(text: str) -> int:
        return sum(max(0, len(w) + 3 - k) for w in text.split() for k in range(2, n + 1))

    counts = np.array([grams(t) for t in texts] or [1], dtype=np.int64)
    return max(8, -(-int(np.ceil(np.quantile(counts, SEQUENCE_QUANTILE))) // 8) * 8)


def build_char_vectorizer(cfg: TextModelConfig, n: int, sequence_length: int,
                          vocabulary: list[str] | None = None) -> keras.layers.TextVectorization:
    """The in-word character 2..``n``-gram tokenizer (after the words' standardization)."""
    import keras

    _register()
    return keras.layers.TextVectorization(
        max_tokens=cfg.max_tokens, output_sequence_length=sequence_length,
        standardize=standardize_text, split=CHARACTER_SPLITTERS[n], ngrams=None,
        vocabulary=vocabulary, name="char_vectorizer")


@dataclass
class Vectorizers:
    """The word n-gram vectorizer and, when on, the character n-gram one: a text's ids are its
    word ids, then its character ids (each block padded to its own length)."""

    words: Any
    chars: Any | None = None
    char_ngrams: int = 0

    @property
    def word_length(self) -> int:
        return int(self.words.get_config()["output_sequence_length"])

    @property
    def char_length(self) -> int:
        return int(self.chars.get_config()["output_sequence_length"]) if self.chars is not None else 0

    def __call__(self, texts: Any) -> Any:
        import tensorflow as tf

        ids = self.words(texts)
        return ids if self.chars is None else tf.concat([ids, self.chars(texts)], axis=1)


def build_vectorizer(cfg: TextModelConfig, sequence_length: int,
                     vocabulary: list[str] | None = None) -> keras.layers.TextVectorization:
    """The tokenizer; ``vocabulary`` (including the padding and OOV terms, as
    ``get_vocabulary()`` returns it) fixes it instead of ``adapt``."""
    import keras

    _register()
    return keras.layers.TextVectorization(
        max_tokens=cfg.max_tokens, output_sequence_length=sequence_length,
        standardize=standardize_text, split="whitespace",
        ngrams=cfg.ngrams if cfg.ngrams > 1 else None, vocabulary=vocabulary, name="vectorizer")


def adapt_vectorizer(vectorizer: Any, texts: list[str], batch_size: int = 1024) -> int:
    """Learn the vocabulary from ``texts`` (the training part only); return its size."""
    import tensorflow as tf

    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string))
                     .batch(batch_size))
    return int(vectorizer.vocabulary_size())


def _distinct(ids: Any) -> tuple[Any, Any]:
    """Each row's ids sorted, and a mask of each distinct n-gram's first place (padding and OOV
    left out): a text's set of n-grams."""
    import numpy as np

    ids = np.sort(ids, axis=1)
    first = np.ones(ids.shape, dtype=bool)
    first[:, 1:] = ids[:, 1:] != ids[:, :-1]
    return ids, first & (ids > 1)


def distinct_ngrams(ids: Any) -> Any:
    """Each text's number of distinct n-gram ids (padding and OOV left out)."""
    return _distinct(ids)[1].sum(axis=1)


def nb_smoothing_for(cfg: TextModelConfig, ids: Any) -> float:
    """``cfg.nb_smoothing``, or when None the square root of the training texts' mean number of
    distinct n-grams. The score sums a ratio per n-gram, and the noise that n-grams seen in one or
    two texts add to it grows with the square root of their number: a long review needs a
    stronger shrink of rare ratios than a one-line snippet (IMDB about 25, snippets about 7;
    bench/text_accuracy.py measured both datasets over fixed values, docs/text-model.md)."""
    import numpy as np

    if cfg.nb_smoothing is not None:
        return cfg.nb_smoothing
    counts = distinct_ngrams(ids)
    return round(float(np.sqrt(max(float(counts.mean()) if len(counts) else 1.0, 1.0))), 2)


def nb_log_ratios(ids: Any, y: Any, vocab_size: int, alpha: float = NB_SMOOTHING, min_count: int = 1) -> Any:
    """Each n-gram's naive-Bayes log-count ratio ``log(p / |p|) - log(q / |q|)``, with ``p`` and
    ``q`` the smoothed counts of positive and negative training texts holding it (each text
    counted once per n-gram; Wang & Manning 2012). Ids 0 and 1 (padding, OOV) get 0, as do
    n-grams in fewer than ``min_count`` training texts (left out of the score)."""
    import numpy as np

    ids, first = _distinct(ids)  # padding and OOV are not n-grams: left out of the counts and their totals
    counts = []
    for label in (1, 0):
        rows = np.asarray(y) == label
        counts.append(np.bincount(ids[rows][first[rows]], minlength=vocab_size).astype(np.float64) + alpha)
    pos, neg = (c[2:] for c in counts)
    ratios = np.zeros(vocab_size, dtype=np.float64)
    ratios[2:] = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
    ratios[2:][pos + neg - 2 * alpha < min_count] = 0.0
    return ratios.astype(np.float32)


def build_classifier(cfg: TextModelConfig, vocab_size: int, reg: Any, sequence_length: int,
                     chars: tuple[int, int] | None = None) -> keras.Model:
    """Token ids (``sequence_length`` int32, then with ``chars = (vocabulary size, length)`` that
    many character ids) -> probability of the positive class. An ``nb`` model's ratios are ones
    until :func:`set_nb_ratios` sets them from the training part."""
    import keras

    width = sequence_length + (chars[1] if chars else 0)
    ids = keras.Input(shape=(width,), dtype="int32", name="token_ids")
    if cfg.pooling == "nb":
        return _nb_classifier(cfg, ids, vocab_size, reg, sequence_length, chars)
    average = cfg.pooling == "average"
    x = keras.layers.Embedding(vocab_size, cfg.embedding_dim, mask_zero=average,
                               name="embedding")(ids)
    if average:  # a bag of n-grams: the mean embedding of the text's (unpadded) tokens
        from regapps.shared.layers import MaskedAveragePooling1D

        x = MaskedAveragePooling1D(name="pool")(x)
    else:
        x = conv_block(x, cfg.conv_filters, reg, name="conv", kernel_size=cfg.kernel_size,
                       padding="same", conv="Conv1D")
        x = keras.layers.GlobalMaxPooling1D(name="pool")(x)
    if cfg.pooled_dropout > 0:
        x = keras.layers.Dropout(cfg.pooled_dropout, name="pool_dropout")(x)
    x = dense_block(x, cfg.hidden_units, reg, name="dense")
    outputs = output_layer(x, 1, reg, activation="sigmoid")
    return keras.Model(ids, outputs, name=f"text_{cfg.pooling}")


def _nb_classifier(cfg: TextModelConfig, ids: Any, vocab_size: int, reg: Any, sequence_length: int,
                   chars: tuple[int, int] | None) -> keras.Model:
    """NB-scaled bag of n-grams > linear score > BatchNormalization? > sigmoid. With ``chars``, a
    second bag scores the character n-grams with their own ratios: two scores, which the output
    layer weighs. The block is that of every app (BN, then the penalized output layer); the
    regularization's dropout drops input n-grams."""
    import keras
    from regapps.shared.blocks import BN_MOMENTUM, penalty
    from regapps.shared.layers import FusedBatchNormalization, NaiveBayesBag

    def bag(size: int, name: str, columns: tuple[int, int] | None) -> Any:
        return NaiveBayesBag(size, rate=reg.dropout, weighting=cfg.nb_weighting, name=name,
                             regularizer=penalty(reg), columns=columns)(ids)

    if chars:
        x = keras.layers.Concatenate(name="scores")([
            bag(vocab_size, "nb_bag", (0, sequence_length)),
            bag(chars[0], "nb_char_bag", (sequence_length, sequence_length + chars[1]))])
    else:
        x = bag(vocab_size, "nb_bag", None)
    if reg.batchnorm:
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name="score_bn")(x)
    # every score grows with the evidence for "positive" (the ratios' sign): the output starts as
    # their mean, so the untrained model is the naive-Bayes classifier. A random start drew a
    # negative weight on some seeds, which 3 epochs did not always undo (rt-snippets, seed 0:
    # validation accuracy 0.575, words only)
    scores = 2 if chars else 1
    outputs = output_layer(x, 1, reg, activation="sigmoid",
                           kernel_initializer=keras.initializers.Constant(1.0 / scores))
    return keras.Model(ids, outputs, name="text_nb")


def set_nb_ratios(classifier: keras.Model, ratios: Any, char_ratios: Any = None) -> None:
    """Give an ``nb`` classifier its naive-Bayes ratios (and its character bag's)."""
    classifier.get_layer("nb_bag").set_ratios(ratios)
    if char_ratios is not None:
        classifier.get_layer("nb_char_bag").set_ratios(char_ratios)


def build_inference_model(cfg: TextModelConfig, vectorizers: Vectorizers, classifier: keras.Model) -> keras.Model:
    """Raw strings (shape ``(batch, 1)``) -> probability: what ``model.keras`` holds. Made of
    vectorizers holding the adapted vocabularies in their configs (exact for any string), and an
    uncompiled copy of the trained classifier: nothing to strip at save time, so ``save_model``
    does not rebuild the vocabulary's lookup table a second time."""
    import keras
    from regapps.shared.modelio import uncompiled_copy

    words = build_vectorizer(cfg, vectorizers.word_length,
                             vocabulary=vectorizers.words.get_vocabulary(include_special_tokens=True))
    text = keras.Input(shape=(1,), dtype="string", name="text")
    ids = words(text)
    if vectorizers.chars is not None:
        chars = build_char_vectorizer(cfg, vectorizers.char_ngrams, vectorizers.char_length,
                                      vocabulary=vectorizers.chars.get_vocabulary(include_special_tokens=True))
        ids = keras.layers.Concatenate(axis=1, name="ids")([ids, chars(text)])
    return keras.Model(text, uncompiled_copy(classifier)(ids), name="text_sentiment")
