"""Weight-penalty registry (none, l1, l2, l1l2) and the kernel regularizer a config asks for."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import Registry, keras_instance

if TYPE_CHECKING:  # pragma: no cover
    import keras

REGULARIZERS: Registry[keras.regularizers.Regularizer | None] = Registry(
    "regularizer", instance_of=keras_instance("regularizers.Regularizer"))


@REGULARIZERS.register("none", "no weight penalty")
def _none() -> None:
    return None


@REGULARIZERS.register("l1", "lasso: l1 * sum(|w|)")
def _l1(l1: float = 0.01) -> keras.regularizers.Regularizer:
    import keras

    return keras.regularizers.L1(l1)


@REGULARIZERS.register("l2", "ridge / weight decay in the loss: l2 * sum(w^2)")
def _l2(l2: float = 0.01) -> keras.regularizers.Regularizer:
    import keras

    return keras.regularizers.L2(l2)


@REGULARIZERS.register("l1l2", "elastic net: both penalties")
def _l1l2(l1: float = 0.01, l2: float = 0.01) -> keras.regularizers.Regularizer:
    import keras

    return keras.regularizers.L1L2(l1=l1, l2=l2)


def kernel_regularizer(l1: float, l2: float, *, tunable: bool = False) -> keras.regularizers.Regularizer | None:
    """The penalty for the given amounts: none, l1, l2 or l1l2; with ``tunable``, always a
    penalty whose amounts are variables (zero included), so that one compiled model serves
    every amount (``layers.TunablePenalty``)."""
    if tunable:
        from .layers import TunablePenalty

        return TunablePenalty(l1, l2)
    if l1 and l2:
        return REGULARIZERS.get({"name": "l1l2", "l1": l1, "l2": l2})
    if l1:
        return REGULARIZERS.get({"name": "l1", "l1": l1})
    if l2:
        return REGULARIZERS.get({"name": "l2", "l2": l2})
    return REGULARIZERS.get("none")
