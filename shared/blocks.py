"""Layer blocks that apply a config's regularization the same way in every app.

A block is ``layer(no bias when batch-normalized) > BatchNormalization? > activation > Dropout?``.

Wrapped in :class:`Tunable`, a regularization section builds its penalties and its dropout
rate as variables instead of constants, dropout and penalty included at zero, so that every
candidate of a search that differs only in them has the same model structure and the same
compiled train step (cross-validation's model pool, ``model_pool.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .regularizers import kernel_regularizer

BN_MOMENTUM = 0.9


@dataclass(frozen=True)
class Tunable:
    """A regularization section whose ``l1``, ``l2`` and ``dropout`` the model holds in variables."""

    section: Any
    tunable = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle probe dunders before ``section`` exists
            raise AttributeError(name)
        return getattr(self.section, name)


def penalty(reg: Any) -> Any:
    """The kernel penalty ``reg`` asks for (None for none, unless tunable)."""
    return kernel_regularizer(reg.l1, reg.l2, tunable=getattr(reg, "tunable", False))


def dropout(x: Any, reg: Any, *, name: str, rate: float | None = None) -> Any:
    """Dropout at ``reg``'s rate (``rate`` None: tunable with a :class:`Tunable` section) or at
    a fixed ``rate``; nothing at a fixed rate of 0."""
    import keras

    if rate is None and getattr(reg, "tunable", False):
        from .layers import TunableDropout

        return TunableDropout(reg.dropout, name=name)(x)
    rate = reg.dropout if rate is None else rate
    return keras.layers.Dropout(rate, name=name)(x) if rate > 0 else x


def _finish(x: Any, reg: Any, activation: str, name: str, rate: float | None) -> Any:
    import keras

    from .layers import FusedBatchNormalization

    if reg.batchnorm:
        # momentum 0.9 (PyTorch's 0.1): moving statistics settle within a few hundred steps,
        # which short runs and small datasets need; Keras' 0.99 lags far behind there
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    return dropout(x, reg, name=f"{name}_dropout", rate=rate)


def dense_block(x: Any, units: int, reg: Any, *, name: str, activation: str = "relu",
                dropout: float | None = None) -> Any:
    """Dense > BN? > activation > Dropout? with the config's kernel penalty."""
    import keras

    x = keras.layers.Dense(units, use_bias=not reg.batchnorm, name=name,
                           kernel_regularizer=penalty(reg))(x)
    return _finish(x, reg, activation, name, dropout)


def conv_block(x: Any, filters: int, reg: Any, *, name: str, kernel_size: int = 3,
               padding: str = "same", activation: str = "relu", dropout: float | None = 0.0,
               conv: str = "Conv2D") -> Any:
    """Conv > BN? > activation > Dropout? (no dropout by default: conv layers rarely want it)."""
    import keras

    layer_cls = getattr(keras.layers, conv)
    x = layer_cls(filters, kernel_size, padding=padding, use_bias=not reg.batchnorm, name=name,
                  kernel_regularizer=penalty(reg))(x)
    return _finish(x, reg, activation, name, dropout)


def output_layer(x: Any, units: int, reg: Any, *, activation: str, name: str = "output",
                 kernel_initializer: Any = "glorot_uniform") -> Any:
    """The final layer: penalized like the others, never dropped out, computed in float32."""
    import keras

    return keras.layers.Dense(units, activation=activation, name=name, dtype="float32",
                              kernel_regularizer=penalty(reg), kernel_initializer=kernel_initializer)(x)
