"""Optimizer registry: sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw.

Each factory takes the optimizer section's values that apply to it (``learning_rate`` may be a
float or a Keras ``LearningRateSchedule``) and returns a Keras optimizer; a built Keras optimizer
passes through ``OPTIMIZERS.get()``. Keras is imported lazily.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .registry import Registry, keras_instance

if TYPE_CHECKING:  # pragma: no cover
    import keras

OPTIMIZERS: Registry[keras.optimizers.Optimizer] = Registry(
    "optimizer", instance_of=keras_instance("optimizers.Optimizer"))


def _common(clipnorm: float | None, weight_decay: float | None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if clipnorm is not None:
        extra["clipnorm"] = clipnorm
    if weight_decay:
        extra["weight_decay"] = weight_decay  # Keras 3 applies it decoupled, like AdamW
    return extra


@OPTIMIZERS.register("sgd", "plain stochastic gradient descent")
def _sgd(learning_rate: Any = 0.01, clipnorm: float | None = None,
         weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.SGD(learning_rate, **_common(clipnorm, weight_decay))


@OPTIMIZERS.register("momentum", "SGD with heavy-ball momentum (default 0.9)")
def _momentum(learning_rate: Any = 0.01, momentum: float | None = None,
              clipnorm: float | None = None, weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.SGD(learning_rate, momentum=0.9 if momentum is None else momentum,
                                **_common(clipnorm, weight_decay))


@OPTIMIZERS.register("nesterov", "SGD with Nesterov momentum (default 0.9)")
def _nesterov(learning_rate: Any = 0.01, momentum: float | None = None,
              clipnorm: float | None = None, weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.SGD(learning_rate, momentum=0.9 if momentum is None else momentum,
                                nesterov=True, **_common(clipnorm, weight_decay))


@OPTIMIZERS.register("adagrad", "per-parameter rates from accumulated squared gradients")
def _adagrad(learning_rate: Any = 0.01, epsilon: float = 1e-7, clipnorm: float | None = None,
             weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.Adagrad(learning_rate, epsilon=epsilon,
                                    **_common(clipnorm, weight_decay))


@OPTIMIZERS.register("rmsprop", "moving average of squared gradients")
def _rmsprop(learning_rate: Any = 0.001, rho: float = 0.9, momentum: float | None = None,
             epsilon: float = 1e-7, clipnorm: float | None = None,
             weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.RMSprop(learning_rate, rho=rho, momentum=momentum or 0.0,
                                    epsilon=epsilon, **_common(clipnorm, weight_decay))


@OPTIMIZERS.register("adam", "adaptive moments (Kingma & Ba)")
def _adam(learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
          epsilon: float = 1e-7, clipnorm: float | None = None,
          weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                                 **_common(clipnorm, weight_decay))


@OPTIMIZERS.register("adamw", "Adam with decoupled weight decay (default 0.004)")
def _adamw(learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
           epsilon: float = 1e-7, clipnorm: float | None = None,
           weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    import keras

    extra = {"clipnorm": clipnorm} if clipnorm is not None else {}
    return keras.optimizers.AdamW(learning_rate,
                                  weight_decay=0.004 if weight_decay is None else weight_decay,
                                  beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **extra)


def build_optimizer(section: Any, learning_rate: Any = None) -> keras.optimizers.Optimizer:
    """Build from an ``OptimizerConfig``; ``learning_rate`` (e.g. a schedule) overrides its value."""
    declared = OPTIMIZERS.parameters(section.name)
    params = {key: value for key, value in section.model_dump().items() if key in declared}
    if learning_rate is not None:
        params["learning_rate"] = learning_rate
    return OPTIMIZERS.get({"name": section.name, **params})
