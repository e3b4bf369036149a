"""Custom Keras layers the toolkit's blocks use. Importing this module registers them for loading."""
from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="regapps")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization that runs TensorFlow's fused kernel on 4-D channels-last feature maps.

    Keras 3 computes batch normalization from separate moment, subtract, scale and add ops; on
    this CPU that is about 30% of a residual CNN's training step (bench/step_time.py).
    TensorFlow's ``FusedBatchNormV3`` (oneDNN on x86) does the same in one pass, forward and
    backward. Same weights, same moving-statistics update, same saved format as the Keras layer;
    anything the fused kernel does not cover (other ranks or axes, masks, renorm, another
    backend) falls back to the Keras code."""

    def _can_fuse(self, inputs: Any, mask: Any) -> bool:
        return (keras.backend.backend() == "tensorflow" and mask is None and not self.renorm
                and len(inputs.shape) == 4 and self.axis in (-1, 3) and self.scale and self.center)

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if not self._can_fuse(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = tf.cast(inputs, tf.float32)  # like Keras: statistics in float32 under mixed precision
        gamma, beta = tf.cast(self.gamma, tf.float32), tf.cast(self.beta, tf.float32)
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True)
            # the kernel returns the unbiased batch variance; Keras keeps the biased one
            count = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), tf.float32)
            variance = variance * tf.maximum(count - 1.0, 1.0) / count
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + tf.cast(mean, self.moving_mean.dtype) * (1 - m))
            self.moving_variance.assign(
                self.moving_variance * m + tf.cast(variance, self.moving_variance.dtype) * (1 - m))
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, mean=tf.cast(self.moving_mean, tf.float32),
                variance=tf.cast(self.moving_variance, tf.float32), epsilon=self.epsilon,
                data_format="NHWC", is_training=False)
        return tf.cast(y, self.compute_dtype)


@keras.saving.register_keras_serializable(package="regapps")
class TunableDropout(keras.layers.Layer):
    """Dropout whose rate lives in a (non-trainable) variable, so one compiled model can train at
    any rate: cross-validation reuses its compiled models across candidates (model_pool.py).
    Rate 0 passes its input through unchanged, values and gradients."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.initial_rate = float(rate)
        self.rate = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.initial_rate),
                                    trainable=False, autocast=False, name="rate", dtype="float32")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        if not training:
            return inputs
        from keras import ops

        rate = ops.convert_to_tensor(self.rate)  # float32 whatever the dtype policy
        keep = keras.random.uniform(ops.shape(inputs), dtype="float32", seed=self.seed_generator) >= rate
        scale = ops.cast(1.0 / (1.0 - rate), inputs.dtype)  # scaled like TensorFlow's dropout
        return ops.where(keep, inputs * scale, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": float(keras.ops.convert_to_numpy(self.rate))}


@keras.saving.register_keras_serializable(package="regapps")
class TunablePenalty(keras.regularizers.Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)`` with both strengths in variables that the compiled train
    step reads, so one compiled model can train at any strength (see :class:`TunableDropout`).
    With both at 0 it adds exactly 0 to the loss and its gradients."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = keras.Variable(float(l1), dtype="float32", trainable=False, name="penalty_l1")
        self.l2 = keras.Variable(float(l2), dtype="float32", trainable=False, name="penalty_l2")

    def __call__(self, x: Any) -> Any:
        from keras import ops

        x = ops.cast(x, "float32")
        return self.l1 * ops.sum(ops.abs(x)) + self.l2 * ops.sum(ops.square(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": float(self.l1.numpy()), "l2": float(self.l2.numpy())}


@keras.saving.register_keras_serializable(package="regapps")
class MaskedAveragePooling1D(keras.layers.GlobalAveragePooling1D):
    """The mean over a sequence's unmasked steps, and zeros for a sequence with none.

    Keras' layer divides by the number of unmasked steps, so a text with no tokens at all (only
    punctuation, say) pooled to 0/0 = NaN: a NaN prediction, and in training a NaN loss that
    ruins every weight. Same result as Keras' wherever a step is unmasked."""

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return super().call(inputs)
        from keras import ops

        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), 2)
        total = ops.sum(ops.where(weights > 0, inputs, 0), axis=1, keepdims=self.keepdims)
        count = ops.sum(weights, axis=1, keepdims=self.keepdims)
        return total / ops.maximum(count, 1)


@keras.saving.register_keras_serializable(package="regapps")
class NaiveBayesBag(keras.layers.Layer):
    """A linear score over a text's *set* of n-grams, each scaled by its naive-Bayes log-count
    ratio (NBSVM-style features; Wang & Manning 2012): ``sum_i r_i * w_i`` over the distinct
    n-gram ids of the text, padding (0) and out-of-vocabulary (1) ids left out.

    ``ratios`` (non-trainable) are set from the training part with :meth:`set_ratios` (a ratio
    of 0 leaves its n-gram out). Each weight is ``prior + delta_i``: the trainable ``delta`` starts
    at zero and the regularizer acts on it, so an L2 penalty (or weight decay) pulls the model
    toward its prior, not toward no score. With ``prior`` 1 (the default with weighting) the
    untrained layer scores like the naive-Bayes classifier, training moves it toward logistic
    regression on the scaled features, and L2 bounds how far (NBSVM's interpolation; under a
    BatchNormalization that divides the score by its spread, a penalty toward zero would only
    rescale the score and not regularize it). With ``weighting=False`` every ratio is one: a plain
    binary bag of n-grams (the ablation), with prior 0 and small random starting weights.
    Dropout on the input n-grams at ``rate`` (a variable, as in :class:`TunableDropout`), scaled
    by ``1 / (1 - rate)``. ``columns=(start, stop)`` reads only those columns of the ids (one
    block of several vocabularies' ids laid side by side, e.g. words then characters)."""

    def __init__(self, vocab_size: int, rate: float = 0.0, weighting: bool = True,
                 seed: int | None = None, regularizer: Any = None, prior: float | None = None,
                 columns: tuple[int, int] | list[int] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.vocab_size, self.weighting = int(vocab_size), bool(weighting)
        self.columns = (int(columns[0]), int(columns[1])) if columns is not None else None
        self.prior = float(prior) if prior is not None else (1.0 if weighting else 0.0)
        self.regularizer = keras.regularizers.get(regularizer)
        self.seed = seed
        self.rate = self.add_weight(shape=(), initializer=keras.initializers.Constant(float(rate)),
                                    trainable=False, autocast=False, name="rate", dtype="float32")
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape: Any) -> None:
        self.ratios = self.add_weight(shape=(self.vocab_size,), initializer="ones", trainable=False,
                                      name="ratios", dtype="float32")
        # NB scaling: start as the naive-Bayes classifier (delta = 0). A plain bag has no prior,
        # and w = 1 would make its score the text's n-gram count, which a held-out text (fewer of
        # its n-grams in the vocabulary) has less of: small random weights instead
        start = "zeros" if self.weighting else keras.initializers.RandomUniform(-0.05, 0.05, seed=self.seed)
        self.weights_ = self.add_weight(shape=(self.vocab_size,), initializer=start, name="weights",
                                        dtype="float32", regularizer=self.regularizer)

    def set_ratios(self, ratios: Any) -> None:
        """The ratios (0 leaves an n-gram out); without weighting, 1 for every n-gram kept."""
        from keras import ops

        ratios = ops.convert_to_tensor(ratios, dtype="float32")
        self.ratios.assign(ratios if self.weighting else ops.cast(ops.not_equal(ratios, 0), "float32"))

    def call(self, ids: Any, training: Any = None) -> Any:
        from keras import ops

        if self.columns is not None:
            ids = ids[:, self.columns[0]:self.columns[1]]
        ids = ops.sort(ops.cast(ids, "int32"), axis=-1)  # duplicates side by side: count each once
        first = ops.concatenate([ops.ones_like(ids[:, :1], dtype="bool"),
                                 ops.not_equal(ids[:, 1:], ids[:, :-1])], axis=1)
        present = ops.cast(ops.logical_and(first, ops.greater(ids, 1)), "float32")
        if training:
            rate = ops.convert_to_tensor(self.rate)
            keep = keras.random.uniform(ops.shape(ids), dtype="float32", seed=self.seed_generator) >= rate
            present = ops.where(keep, present / (1.0 - rate), ops.zeros_like(present))
        weights = ops.take(self.weights_, ids) + self.prior if self.prior else ops.take(self.weights_, ids)
        terms = present * ops.take(self.ratios, ids) * weights
        return ops.sum(terms, axis=1, keepdims=True)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], 1)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NaiveBayesBag:
        # a bag saved before ``prior`` existed stored its whole weights, not their distance from one
        return super().from_config({"prior": 0.0, **config})

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_size": self.vocab_size, "weighting": self.weighting,
                "prior": self.prior, "columns": list(self.columns) if self.columns is not None else None,
                "rate": float(keras.ops.convert_to_numpy(self.rate)),
                "regularizer": keras.regularizers.serialize(self.regularizer) if self.regularizer else None}
