"""Layer blocks that apply a config's regularization the same way in every app.

A block is ``layer(no bias when batch-normalized) > BatchNormalization? > activation > Dropout?``.
"""
from __future__ import annotations

from typing import Any

from .regularizers import kernel_regularizer

BN_MOMENTUM = 0.9


def _finish(x: Any, reg: Any, activation: str, name: str, dropout: float | None) -> Any:
    import keras

    from .layers import FusedBatchNormalization

    if reg.batchnorm:
        # momentum 0.9 (PyTorch's 0.1): moving statistics settle within a few hundred steps,
        # which short runs and small datasets need; Keras' 0.99 lags far behind there
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    rate = reg.dropout if dropout is None else dropout
    if rate > 0:
        x = keras.layers.Dropout(rate, name=f"{name}_dropout")(x)
    return x


def dense_block(x: Any, units: int, reg: Any, *, name: str, activation: str = "relu",
                dropout: float | None = None) -> Any:
    """Dense > BN? > activation > Dropout? with the config's kernel penalty."""
    import keras

    x = keras.layers.Dense(units, use_bias=not reg.batchnorm, name=name,
                           kernel_regularizer=kernel_regularizer(reg.l1, reg.l2))(x)
    return _finish(x, reg, activation, name, dropout)


def conv_block(x: Any, filters: int, reg: Any, *, name: str, kernel_size: int = 3,
               padding: str = "same", activation: str = "relu", dropout: float | None = 0.0,
               conv: str = "Conv2D") -> Any:
    """Conv > BN? > activation > Dropout? (no dropout by default: conv layers rarely want it)."""
    import keras

    layer_cls = getattr(keras.layers, conv)
    x = layer_cls(filters, kernel_size, padding=padding, use_bias=not reg.batchnorm, name=name,
                  kernel_regularizer=kernel_regularizer(reg.l1, reg.l2))(x)
    return _finish(x, reg, activation, name, dropout)


def output_layer(x: Any, units: int, reg: Any, *, activation: str, name: str = "output") -> Any:
    """The final layer: penalized like the others, never dropped out, computed in float32."""
    import keras

    return keras.layers.Dense(units, activation=activation, name=name, dtype="float32",
                              kernel_regularizer=kernel_regularizer(reg.l1, reg.l2))(x)
