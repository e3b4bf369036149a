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
