"""FusedBatchNormalization: the same outputs, moving statistics and gradients as Keras'
BatchNormalization, in training and inference, for float32 and bfloat16 inputs; it falls back to
Keras' code where the fused kernel does not apply, and saved models reload with it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def _pair(shape: tuple[int, ...], dtype: str = "float32") -> tuple[object, object]:
    import keras
    from regapps.shared.layers import FusedBatchNormalization

    plain = keras.layers.BatchNormalization(momentum=0.9, dtype=dtype)
    fused = FusedBatchNormalization(momentum=0.9, dtype=dtype)
    for layer in (plain, fused):
        layer.build(shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, shape[-1]))
        layer.beta.assign(np.linspace(-1.0, 1.0, shape[-1]))
    return plain, fused


@pytest.mark.parametrize("shape", [(8, 5, 5, 4), (3, 2, 7, 6)])
def test_matches_keras_batchnorm(shape: tuple[int, ...]) -> None:
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32"))
    plain, fused = _pair(shape)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y_plain, y_fused = plain(x, training=True), fused(x, training=True)
        loss_plain, loss_fused = tf.reduce_sum(y_plain ** 3), tf.reduce_sum(y_fused ** 3)
    np.testing.assert_allclose(y_fused, y_plain, atol=1e-5)
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, rtol=1e-5)
    assert not np.allclose(fused.moving_variance, 1.0)  # the statistics did move
    for a, b in [(x, x), (plain.gamma, fused.gamma), (plain.beta, fused.beta)]:
        np.testing.assert_allclose(tape.gradient(loss_fused, b), tape.gradient(loss_plain, a), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-5)


def test_bfloat16_inputs_keep_float32_statistics() -> None:
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(1).normal(0.0, 1.0, (4, 3, 3, 2)), dtype=tf.bfloat16)
    plain, fused = _pair((4, 3, 3, 2), dtype="mixed_bfloat16")
    y_plain, y_fused = plain(x, training=True), fused(x, training=True)
    assert y_fused.dtype == tf.bfloat16 and fused.moving_mean.dtype == "float32"
    np.testing.assert_allclose(tf.cast(y_fused, tf.float32), tf.cast(y_plain, tf.float32), atol=0.05)


def test_other_ranks_fall_back_to_keras() -> None:
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(2).normal(size=(16, 5)).astype("float32"))
    plain, fused = _pair((16, 5))
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-6)


def test_saved_model_reloads(tmp_path: Path) -> None:
    import keras
    from regapps.shared.layers import FusedBatchNormalization
    from regapps.shared.modelio import load_model, save_model

    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, FusedBatchNormalization(name="bn")(keras.layers.Conv2D(2, 3)(inputs)))
    model.get_layer("bn").moving_mean.assign([0.5, -0.5])
    loaded = load_model(save_model(model, tmp_path / "m.keras"))
    assert isinstance(loaded.get_layer("bn"), FusedBatchNormalization)
    x = np.random.default_rng(3).normal(size=(2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
