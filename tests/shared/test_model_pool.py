"""Cross-validation's model pool: trials that differ only in penalty strength, dropout rate and
(under a constant schedule) learning rate train on one compiled model, and a trial trained on a
pooled model, parked between legs, or on a clone gets exactly what it gets on a model of its own."""
from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="module")
def digits() -> Any:
    from regapps.apps.image.data import load_digits
    from regapps.shared.environment import import_tensorflow

    import_tensorflow()
    return load_digits()


def _config(**flags: Any) -> Any:
    from regapps.apps.image.config import ImageConfig
    from regapps.shared.config import build_config

    return build_config(ImageConfig, flags={"training.epochs": 4, "training.patience": 50, **flags})


A = {"regularization.l2": 1e-3, "regularization.dropout": 0.5, "optimizer.learning_rate": 3e-3}
B = {"regularization.l2": 0.0, "regularization.dropout": 0.0, "optimizer.learning_rate": 3e-4,
     "training.seed": 7}


def _halves(digits: Any) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(len(digits.y_train))
    return idx[::2], idx[1::2]


def _fit(digits: Any, flags: dict[str, Any], pool: Any) -> Any:
    from regapps.apps.image.task import ImageFit

    return ImageFit(_config(**flags), digits, *_halves(digits), pool=pool)


def _train(job: Any, epochs: int) -> tuple[list[np.ndarray], list[float], float]:
    """Train to ``epochs``, then park; the weights, validation curve and best-weights score."""
    job.trainer.train_until(epochs)
    weights = [np.array(w) for w in job.model.get_weights()]
    with job.trainer.best_weights():
        score = job.validate()["accuracy"]
    job.trainer.park()
    return weights, job.trainer.history.series()["val_accuracy"], score


def _assert_same(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    for x, y in zip(a[0], b[0], strict=True):
        np.testing.assert_array_equal(x, y)
    assert a[1] == b[1] and a[2] == b[2]


# --- the tunable layers ------------------------------------------------------------------------

def test_tunable_dropout_at_rate_zero_is_the_identity_in_values_and_gradients() -> None:
    import tensorflow as tf
    from regapps.shared.layers import TunableDropout

    layer = TunableDropout(0.0)
    x = tf.random.stateless_normal((64, 32), seed=(1, 2))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * y)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), 2 * x.numpy())


def test_tunable_dropout_reads_its_rate_at_run_time() -> None:
    import tensorflow as tf
    from regapps.shared.layers import TunableDropout

    layer = TunableDropout(0.25)
    x = tf.ones((200, 100))
    traces = []

    @tf.function
    def step(inputs: Any) -> Any:
        traces.append(1)
        return layer(inputs, training=True)

    for rate in (0.25, 0.75):
        layer.rate.assign(rate)
        y = step(x).numpy()
        assert np.mean(y == 0) == pytest.approx(rate, abs=0.02)
        np.testing.assert_allclose(np.unique(y[y != 0]), [1 / (1 - rate)], rtol=1e-6)
    assert len(traces) == 1
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())


@pytest.mark.parametrize(("l1", "l2"), [(0.0, 0.0), (0.0, 1e-3), (1e-4, 0.0), (1e-4, 1e-3)])
def test_tunable_penalty_is_keras_penalty(l1: float, l2: float) -> None:
    import keras
    from regapps.shared.layers import TunablePenalty

    w = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(8, 5)).astype("float32"))
    expected = l1 * np.abs(w).sum() + l2 * np.square(w).sum()
    assert float(TunablePenalty(l1, l2)(w)) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(float(keras.regularizers.L1L2(l1, l2)(w)), expected, rtol=1e-6)


def test_tunable_model_has_every_site_even_at_zero(digits: Any) -> None:
    from regapps.apps.image.model import build_model
    from regapps.shared.blocks import Tunable
    from regapps.shared.layers import TunableDropout, TunablePenalty
    from regapps.shared.model_pool import tunable_variables

    reg = _config(**{"regularization.l2": 0.0, "regularization.dropout": 0.0}).regularization
    plain = build_model("article", digits.input_shape, 10, reg)
    tunable = build_model("article", digits.input_shape, 10, Tunable(reg))
    assert not any(isinstance(layer, TunableDropout) for layer in plain.layers)
    assert [layer.name for layer in tunable.layers if isinstance(layer, TunableDropout)] == ["dropout"]
    penalties = [v.regularizer for v in tunable.trainable_variables if v.regularizer is not None]
    assert len(penalties) == 5 and all(isinstance(p, TunablePenalty) for p in penalties)  # 3 conv, 2 dense
    assert len(tunable_variables(tunable)) == len(tunable.variables) + 10


# --- the key ---------------------------------------------------------------------------------

def _key(digits: Any, steps: int = 29, tunable: bool = True, **flags: Any) -> str | None:
    from regapps.apps.image.model import build_model
    from regapps.shared.blocks import Tunable
    from regapps.shared.model_pool import pool_key

    config = _config(**flags)
    reg = Tunable(config.regularization) if tunable else config.regularization
    model = build_model("article", digits.input_shape, 10, reg)
    return pool_key(config, model, steps_per_epoch=steps, steps_per_execution=min(16, steps), jit_compile=False)


def test_pool_key_ignores_values_in_variables_and_nothing_else(digits: Any) -> None:
    base = _key(digits)
    assert base is not None
    assert _key(digits, **A) == _key(digits, **B) == base
    assert _key(digits, **{"training.epochs": 9, "training.patience": 2}) == base
    for flags in ({"training.batch_size": 32}, {"optimizer.name": "rmsprop"}, {"optimizer.beta_1": 0.8},
                  {"regularization.batchnorm": True}, {"training.label_smoothing": 0.1},
                  {"schedule.name": "cosine"}):
        assert _key(digits, **flags) != base, flags
    cosine = {"schedule.name": "cosine"}  # the peak and the length are Python values of the schedule
    assert _key(digits, **cosine, **{"optimizer.learning_rate": 0.01}) != _key(digits, **cosine)
    assert _key(digits, **cosine, **{"training.epochs": 9}) != _key(digits, **cosine)
    assert _key(digits, **{"training.time_budget_minutes": 1.0}) is None
    for flags in (A, B):  # a model with its amounts as constants (not built from Tunable) shares nothing
        assert _key(digits, tunable=False, **flags) is None
    assert _key(digits, steps=30) == base  # folds a sample apart: the same 16-batch step
    assert _key(digits, steps=10) != base  # a 10-batch step
    assert _key(digits, steps=30, **cosine) != _key(digits, **cosine)  # the schedule's length in steps


# --- trials on pooled models -----------------------------------------------------------------

@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per trace of a train step (Python runs ``train_step`` only while tracing)."""
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    calls: list[int] = []
    original = TensorFlowTrainer.train_step

    def counting(self: Any, data: Any) -> Any:
        calls.append(1)
        return original(self, data)

    monkeypatch.setattr(TensorFlowTrainer, "train_step", counting)
    return calls


@pytest.mark.slow
def test_a_trial_on_a_pooled_model_is_the_trial_on_its_own(digits: Any, traces: list[int]) -> None:
    from regapps.shared.model_pool import ModelPool

    a_alone = _train(_fit(digits, A, ModelPool()), 4)
    b_alone_legs = [_train(job, e) for job in [_fit(digits, B, ModelPool())] for e in (2, 4)]

    pool = ModelPool()
    b = _fit(digits, B, pool)
    b_first = _train(b, 2)  # B trains two epochs, is parked, and A takes its model
    traced = len(traces)
    assert traced > 0
    a = _fit(digits, A, pool)
    assert a.model is not None and len(pool) == 1
    a_pooled = _train(a, 4)
    b_second = _train(b, 4)  # B goes on after A, on the same model
    assert b.model is None and len(pool) == 1
    assert len(traces) == traced  # A's legs and B's second one ran the step B's first leg traced

    _assert_same(a_pooled, a_alone)
    _assert_same(b_first, b_alone_legs[0])
    _assert_same(b_second, b_alone_legs[1])


@pytest.mark.slow
def test_a_trial_gets_a_compiled_clone_while_the_pooled_model_is_in_use(digits: Any) -> None:
    from regapps.shared.model_pool import ModelPool

    alone = _train(_fit(digits, A, ModelPool()), 3)
    pool = ModelPool()
    busy = _fit(digits, B, pool)  # holds the only model: never parked
    clone = _fit(digits, A, pool)
    assert clone.model is not busy.model and len(pool) == 2
    _assert_same(_train(clone, 3), alone)


@pytest.mark.slow
def test_mixed_bfloat16_trials_share_a_model_and_a_clone_keeps_the_policy(digits: Any) -> None:
    """Under a mixed policy the rate stays float32; a parked trial whose model another trial
    holds goes on on a clone compiled under the run's own policy, with its own results."""
    from regapps.shared.model_pool import ModelPool

    bf16 = {"training.precision": "mixed_bfloat16"}
    a_flags, b_flags = {**A, **bf16}, {**B, **bf16}
    a_alone = _train(_fit(digits, a_flags, ModelPool()), 2)
    b_alone = [_train(job, e) for job in [_fit(digits, b_flags, ModelPool())] for e in (1, 2)]

    pool = ModelPool()
    b = _fit(digits, b_flags, pool)
    b_first = _train(b, 1)
    a = _fit(digits, a_flags, pool)  # takes B's model and keeps it: A is never parked here
    rate = next(v for v in a.model.variables if v.path.endswith("dropout/rate"))
    assert str(rate.dtype) == "float32" and a.model.dtype_policy.name == "mixed_bfloat16"
    a.trainer.train_until(2)
    b_second = _train(b, 2)  # no free model: B goes on on a clone
    assert len(pool) == 2
    slot = next(iter(pool._slots.values()))
    assert [m.dtype_policy.name for m in slot.free] == ["mixed_bfloat16"]
    with a.trainer.best_weights():
        a_score = a.validate()["accuracy"]
    _assert_same(([np.array(w) for w in a.model.get_weights()], a.trainer.history.series()["val_accuracy"],
                  a_score), a_alone)
    _assert_same(b_first, b_alone[0])
    _assert_same(b_second, b_alone[1])


def test_a_pool_arrives_empty_in_another_process() -> None:
    from regapps.shared.model_pool import ModelPool

    pool = ModelPool()
    pool._slots["k"] = object()  # type: ignore[assignment]  # stands for a compiled model
    assert len(pickle.loads(pickle.dumps(pool))._slots) == 0


@pytest.mark.slow
@pytest.mark.parametrize("pooling", ["nb", "average", "conv"])
def test_a_text_trial_on_a_pooled_model_is_the_trial_on_its_own(pooling: str) -> None:
    """The text classifier (the NB bag with its ratios; XLA-compiled, a masked embedding or a
    Conv1D) on a pooled model."""
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.task import TextFit
    from regapps.shared.config import build_config
    from regapps.shared.model_pool import ModelPool

    from ..text.corpora import make_corpus

    corpus = make_corpus(160, 5)
    texts, labels = [t for t, _ in corpus], np.array([y for _, y in corpus])
    parts = (texts[:120], labels[:120], texts[120:], labels[120:])
    small = {"model.pooling": pooling, "model.max_tokens": 300, "model.sequence_length": 16,
             "model.embedding_dim": 8, "model.hidden_units": 8, "training.batch_size": 16,
             "training.epochs": 3, "training.patience": 50,
             "schedule.name": "constant"}  # pinned: nb's default decay bakes the learning rate in

    def fit(flags: dict[str, Any], pool: Any) -> Any:
        job = TextFit(build_config(TextConfig, flags={**small, **flags}), *parts, pool=pool)
        job.trainer.train_until(3)
        weights = [np.array(w) for w in job.classifier.get_weights()]
        score = job.validate()["accuracy"]
        job.trainer.park()
        return weights, job.trainer.history.series()["val_loss"], score

    a, b = {**A, "regularization.batchnorm": True}, {**B, "regularization.batchnorm": True}
    alone = fit(a, ModelPool())
    pool = ModelPool()
    fit(b, pool)
    _assert_same(fit(a, pool), alone)
    assert len(pool) == 1
