"""Registries: names, dicts and instances; unknown names list the valid ones; each optimizer,
schedule and regularizer builds and reflects its config."""
from __future__ import annotations

import numpy as np
import pytest
from regapps.shared.config import OptimizerConfig, ScheduleConfig
from regapps.shared.errors import ConfigError
from regapps.shared.optimizers import OPTIMIZERS, build_optimizer
from regapps.shared.registry import Registry
from regapps.shared.regularizers import REGULARIZERS, kernel_regularizer
from regapps.shared.schedules import SCHEDULES, build_schedule


def test_registry_name_dict_instance_and_errors() -> None:
    reg: Registry[tuple[int, int]] = Registry("thing")
    reg.register("pair")(lambda a=1, b=2: (a, b))
    assert reg.get("pair") == (1, 2)
    assert reg.get({"name": "pair", "a": 5}) == (5, 2)
    obj = (9, 9)
    assert reg.get(obj) is obj
    with pytest.raises(ConfigError, match="unknown thing 'nope'; valid: pair"):
        reg.get("nope")
    with pytest.raises(ConfigError, match="needs a 'name'"):
        reg.get({"a": 1})
    with pytest.raises(ConfigError, match="bad parameters"):
        reg.get({"name": "pair", "zzz": 1})
    with pytest.raises(ValueError):
        reg.register("pair")(lambda: None)


def test_registry_names() -> None:
    assert OPTIMIZERS.names() == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    assert SCHEDULES.names() == ["constant", "step", "exponential", "cosine", "onecycle", "reduce_on_plateau"]
    assert set(REGULARIZERS.names()) == {"none", "l1", "l2", "l1l2"}


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_each_optimizer_builds_from_config(name: str) -> None:
    cfg = OptimizerConfig(name=name, learning_rate=0.02, clipnorm=1.5)
    opt = build_optimizer(cfg)
    conf = opt.get_config()
    assert conf["learning_rate"] == pytest.approx(0.02)
    assert conf["clipnorm"] == pytest.approx(1.5)
    if name in ("momentum", "nesterov"):
        assert conf["momentum"] == pytest.approx(0.9)
        assert conf["nesterov"] is (name == "nesterov")
    if name == "adamw":
        assert conf["weight_decay"] == pytest.approx(0.004)
    # round trip through Keras' own config gives the same optimizer settings
    again = type(opt).from_config(conf).get_config()
    assert again == conf


@pytest.mark.parametrize("name", ["l1", "l2", "l1l2"])
def test_regularizers_round_trip_and_add_loss(name: str) -> None:
    params = {"l1": 0.01, "l2": 0.02}
    reg = REGULARIZERS.get({"name": name, **{k: v for k, v in params.items() if k in name}})
    weights = np.array([[1.0, -2.0], [3.0, 0.5]], dtype="float32")
    expected = {"l1": 0.01 * np.abs(weights).sum(), "l2": 0.02 * (weights ** 2).sum()}
    penalty = float(reg(weights))
    assert penalty == pytest.approx(sum(v for k, v in expected.items() if k in name), rel=1e-5)
    rebuilt = type(reg).from_config(reg.get_config())
    assert float(rebuilt(weights)) == pytest.approx(penalty)


def test_kernel_regularizer_picks_the_penalty() -> None:
    assert kernel_regularizer(0.0, 0.0) is None
    assert type(kernel_regularizer(0.1, 0.0)).__name__ == "L1"
    assert type(kernel_regularizer(0.0, 0.1)).__name__ == "L2"
    assert type(kernel_regularizer(0.1, 0.1)).__name__ == "L1L2"


def test_regularizer_adds_loss_to_model() -> None:
    import keras
    from regapps.shared.blocks import dense_block
    from regapps.shared.config import RegularizationConfig

    inputs = keras.Input((3,))
    outputs = dense_block(inputs, 4, RegularizationConfig(l2=0.5), name="d")
    model = keras.Model(inputs, outputs)
    model(np.ones((1, 3), "float32"))
    kernel = model.get_layer("d").kernel.numpy()
    assert float(sum(model.losses)) == pytest.approx(0.5 * (kernel ** 2).sum(), rel=1e-5)


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_each_schedule_builds(name: str) -> None:
    result = build_schedule(ScheduleConfig(name=name, warmup_epochs=1, step_epochs=2), 0.1,
                            steps_per_epoch=10, epochs=5)
    lr = result.learning_rate
    if name in ("constant", "reduce_on_plateau"):
        assert lr == pytest.approx(0.1)
        assert bool(result.callbacks) == (name == "reduce_on_plateau")
        return
    values = [float(lr(step)) for step in (0, 10, 25, 49)]
    if name == "step":  # x0.5 every 2 epochs
        assert values == pytest.approx([0.1, 0.1, 0.05, 0.025])
    elif name == "exponential":
        assert values[1] == pytest.approx(0.1 * 0.96, rel=1e-4)
    elif name == "cosine":  # warm-up to the peak over 10 steps, then decay towards 0
        assert values[0] < 0.01 and values[1] == pytest.approx(0.1, rel=1e-3)
        assert values[3] < 0.01
    elif name == "onecycle":  # linear up over 10 steps, linear down to 0 at step 50
        assert values[0] == pytest.approx(0.004) and values[1] == pytest.approx(0.1)
        assert values[2] == pytest.approx(0.1 * (1 - 15 / 40), rel=1e-4)
        assert values[3] == pytest.approx(0.1 * (1 - 39 / 40), rel=1e-4)
