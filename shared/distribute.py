"""tf.distribute strategies and Keras dtype policies for training (``training.strategy``,
``training.precision``).

- ``default``: TensorFlow's default strategy (one device).
- ``mirrored``: ``MirroredStrategy`` over every local GPU; with none it runs on the CPU as one
  replica (the same numbers as ``default``, so scripts work unchanged on a laptop).
- ``multiworker``: ``MultiWorkerMirroredStrategy`` over the cluster in ``TF_CONFIG``; every worker
  runs the same command and ends with the same weights. TensorFlow requires it to be created
  before the process runs its first operation: the CLI does that (:func:`prepare`).

Keras 3 (up to at least 3.15) cannot train under ``MultiWorkerMirroredStrategy`` as it ships
(keras-team/keras#20585): ``fit`` reduces the first data batch, a tuple, with a strategy method
that takes single values, and the per-step metrics with ``axis=0`` although they are scalars. The
subclass below accepts both, so every worker gets the cross-worker mean of each metric and takes
the same early-stopping decisions; ``steps_per_execution`` is 1 under it (Keras' multi-step loop
does not run collective ops).
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError, ParameterError

log = logging.getLogger(__name__)

STRATEGIES = ("default", "mirrored", "multiworker")


def parse_tf_config(raw: str | None) -> dict[str, Any]:
    """The ``TF_CONFIG`` of a multi-worker run: a cluster with at least one worker address and
    this process's task (type ``worker`` or ``chief``, an index within that list)."""
    if not raw:
        raise ParameterError("strategy", "{param} multiworker reads the cluster from TF_CONFIG, which is not "
                             "set (e.g. {example})", example='{"cluster": {"worker": ["host1:12345", '
                             '"host2:12345"]}, "task": {"type": "worker", "index": 0}}')
    try:
        tree = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"TF_CONFIG is not valid JSON: {exc.msg} at character {exc.pos}") from exc
    cluster = tree.get("cluster") if isinstance(tree, Mapping) else None
    task = tree.get("task") if isinstance(tree, Mapping) else None
    if not isinstance(cluster, Mapping) or not cluster:
        raise ConfigError('TF_CONFIG needs a "cluster" mapping of job names to address lists')
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses or not all(
                isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses):
            raise ConfigError(f'TF_CONFIG cluster "{job}" must be a list of "host:port" addresses')
    if not isinstance(task, Mapping) or task.get("type") not in cluster:
        raise ConfigError(f'TF_CONFIG needs a "task" whose "type" is one of: {", ".join(cluster)}')
    index = task.get("index", 0)
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise ConfigError(f'TF_CONFIG task index {index!r} is outside the "{task["type"]}" list '
                          f"of {len(cluster[task['type']])}")
    return dict(tree)


def check(training: Any) -> None:
    """Refuse what cannot run here, before a run directory exists: a bad ``TF_CONFIG``, or
    float16 mixed precision without a GPU (on CPUs float16 is emulated and slower than float32;
    bfloat16 runs natively on CPUs with AVX512-BF16 or AMX)."""
    if training.strategy == "multiworker":
        parse_tf_config(os.environ.get("TF_CONFIG"))
    if training.precision == "mixed_float16":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            raise ParameterError("precision", "{param} mixed_float16 needs a GPU and none is visible; on CPUs "
                                 "use mixed_bfloat16 (native with AVX512-BF16 or AMX) or float32")


def prepare(strategy: str) -> None:
    """Create the process's strategy now, before TensorFlow runs any operation (multiworker
    needs that); the CLI calls this right after importing TensorFlow."""
    if strategy == "multiworker":
        get_strategy(strategy)


@functools.cache
def get_strategy(name: str) -> Any:
    """The strategy ``name``, one per process: a multi-worker strategy configures TensorFlow's
    collective ops, which can be done once, at start-up."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
        log.info("mirrored strategy over %d replica(s)", strategy.num_replicas_in_sync)
        return strategy
    if name == "multiworker":
        parse_tf_config(os.environ.get("TF_CONFIG"))
        try:
            strategy = _keras_multi_worker_strategy()()
        except RuntimeError as exc:  # "Collective ops must be configured at program startup"
            raise ParameterError("strategy", "{param} multiworker must be set up before TensorFlow runs "
                                 "anything in the process: start it with the regapps command, or call "
                                 "regapps.shared.distribute.prepare('multiworker') first") from exc
        log.info("multi-worker strategy: %d replica(s) in sync", strategy.num_replicas_in_sync)
        return strategy
    raise ConfigError(f"unknown strategy {name!r}; valid: {', '.join(STRATEGIES)}")


def _keras_multi_worker_strategy() -> type:
    import tensorflow as tf

    class KerasMultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """``reduce`` that takes nested values and scalar per-replica values with an axis, as
        Keras 3's ``fit`` passes them (see the module docstring)."""

        def reduce(self, reduce_op: Any, value: Any, axis: Any = None) -> Any:
            if tf.nest.is_nested(value):
                return tf.nest.map_structure(lambda v: self.reduce(reduce_op, v, axis), value)
            if axis is not None and self.experimental_local_results(value)[0].shape.rank == 0:
                axis = None
            return super().reduce(reduce_op, value, axis)

    return KerasMultiWorkerStrategy


def is_multi_worker(model: Any) -> bool:
    import tensorflow as tf

    strategy = getattr(model, "distribute_strategy", None)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and \
        strategy.extended._in_multi_worker_mode()  # noqa: SLF001 - the check Keras itself makes


def resolve_precision(precision: str) -> str:
    """``auto`` is ``mixed_bfloat16`` where bfloat16 runs natively (measured on this project's
    CPU: 1.35x the fused float32 training step of the fast image preset), else ``float32``."""
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if native_bfloat16() else "float32"


@functools.cache
def native_bfloat16() -> bool:
    """A GPU of compute capability 8.0 or newer, or (with no GPU) a CPU that reports AVX512-BF16
    or AMX-BF16 (read from /proc/cpuinfo; elsewhere assumed absent)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0)
        return tuple(capability) >= (8, 0)
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@contextlib.contextmanager
def training_scope(training: Any) -> Iterator[Any]:
    """Build and compile the model in here: the configured strategy's scope and dtype policy.
    The policy is the process's previous one again on exit (layers keep the one they were built
    with); the regapps output layers are float32 whatever the policy (shared.blocks)."""
    import keras

    strategy = get_strategy(training.strategy)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolve_precision(training.precision))
    try:
        with strategy.scope():
            yield strategy
    finally:
        keras.config.set_dtype_policy(previous)
