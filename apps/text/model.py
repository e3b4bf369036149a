"""Text model builders: a TextVectorization layer (adapted on the training part only) and a
classifier on token ids, Embedding > pooling > Dropout > Dense > BN > activation > Dropout > sigmoid.

Training runs on token ids (vectorized once, outside the model) so that the classifier can be
XLA-compiled; the saved model is ``vectorizer > classifier`` and takes raw strings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regapps.shared.blocks import conv_block, dense_block, output_layer

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .config import TextModelConfig

# XLA per pooling, chosen by measurement (bench/text_throughput.py, 2 shared CPU cores, steady-
# state examples/s): about 2-4x faster for the embedding average, about 1.3x for Conv1D + max.
JIT_BY_POOLING = {"average": True, "conv": True}


def use_jit(cfg: "TextModelConfig") -> bool:
    return JIT_BY_POOLING[cfg.pooling] if cfg.jit_compile is None else cfg.jit_compile


def build_vectorizer(cfg: "TextModelConfig") -> "keras.layers.TextVectorization":
    import keras

    return keras.layers.TextVectorization(
        max_tokens=cfg.max_tokens, output_sequence_length=cfg.sequence_length,
        ngrams=cfg.ngrams if cfg.ngrams > 1 else None, name="vectorizer")


def adapt_vectorizer(vectorizer: Any, texts: list[str], batch_size: int = 1024) -> int:
    """Learn the vocabulary from ``texts`` (the training part only); return its size."""
    import tensorflow as tf

    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string))
                     .batch(batch_size))
    return int(vectorizer.vocabulary_size())


def build_classifier(cfg: "TextModelConfig", vocab_size: int, reg: Any) -> "keras.Model":
    """Token ids (``sequence_length`` int32) -> probability of the positive class."""
    import keras

    ids = keras.Input(shape=(cfg.sequence_length,), dtype="int32", name="token_ids")
    average = cfg.pooling == "average"
    x = keras.layers.Embedding(vocab_size, cfg.embedding_dim, mask_zero=average,
                               name="embedding")(ids)
    if average:  # a bag of n-grams: the mean embedding of the text's (unpadded) tokens
        x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    else:
        x = conv_block(x, cfg.conv_filters, reg, name="conv", kernel_size=cfg.kernel_size,
                       padding="same", conv="Conv1D")
        x = keras.layers.GlobalMaxPooling1D(name="pool")(x)
    if cfg.pooled_dropout > 0:
        x = keras.layers.Dropout(cfg.pooled_dropout, name="pool_dropout")(x)
    x = dense_block(x, cfg.hidden_units, reg, name="dense")
    outputs = output_layer(x, 1, reg, activation="sigmoid")
    return keras.Model(ids, outputs, name=f"text_{cfg.pooling}")


def build_inference_model(vectorizer: Any, classifier: "keras.Model") -> "keras.Model":
    """Raw strings (shape ``(batch, 1)``) -> probability: what ``model.keras`` holds."""
    import keras

    text = keras.Input(shape=(1,), dtype="string", name="text")
    return keras.Model(text, classifier(vectorizer(text)), name="text_sentiment")
