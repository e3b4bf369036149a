"""Registries: names, dicts and instances; unknown names and parameters list the valid ones;
only declared parameters reach a factory; each optimizer, schedule and regularizer builds and
reflects its config."""
from __future__ import annotations

import subprocess
import sys

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
    with pytest.raises(ConfigError, match=r"could not interpret thing identifier: \(9, 9\)"):
        reg.get((9, 9))  # no instance_of check: built objects are not taken on trust
    with pytest.raises(ConfigError, match="unknown thing 'nope'; valid: pair"):
        reg.get("nope")
    with pytest.raises(ConfigError, match="needs a 'name'"):
        reg.get({"a": 1})
    with pytest.raises(ConfigError, match="unknown parameter 'zzz' for thing 'pair'; valid: a, b"):
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


def test_unknown_parameter_lists_the_declared_ones() -> None:
    with pytest.raises(ConfigError, match=r"^unknown parameter 'l2s' for regularizer 'l2'; valid: l2$"):
        REGULARIZERS.get({"name": "l2", "l2s": 1})
    with pytest.raises(ConfigError, match="unknown parameter 'l2' for regularizer 'none'; valid: \\(none\\)"):
        REGULARIZERS.get({"name": "none", "l2": 0.1})
    with pytest.raises(ConfigError, match="unknown parameters 'momentum', 'rho' for optimizer 'adam'; "
                                          "valid: learning_rate, beta_1, beta_2, epsilon, clipnorm, weight_decay"):
        OPTIMIZERS.get({"name": "adam", "momentum": 0.9, "rho": 0.9})
    with pytest.raises(ConfigError, match="unknown parameter 'patience' for schedule 'step'"):
        SCHEDULES.get({"name": "step", "patience": 3}, base_lr=0.1, steps_per_epoch=10)
    with pytest.raises(ConfigError, match="unknown optimizer 'adamx'; valid: sgd, momentum"):
        OPTIMIZERS.get({"name": "adamx"})


def test_parameters_are_the_declared_names() -> None:
    assert REGULARIZERS.parameters("none") == []
    assert REGULARIZERS.parameters("l1l2") == ["l1", "l2"]
    assert OPTIMIZERS.parameters("sgd") == ["learning_rate", "clipnorm", "weight_decay"]
    assert SCHEDULES.parameters("reduce_on_plateau") == ["base_lr", "monitor", "factor", "patience"]
    with pytest.raises(ConfigError, match="unknown schedule 'nope'"):
        SCHEDULES.parameters("nope")


def test_context_reaches_only_the_factories_that_declare_it() -> None:
    seen: list[dict[str, object]] = []
    reg: Registry[str] = Registry("thing")

    @reg.register("plain")
    def _plain(size: int = 1) -> str:
        seen.append({"size": size})
        return "plain"

    @reg.register("sized")
    def _sized(base: float, size: int = 1) -> str:
        seen.append({"base": base, "size": size})
        return "sized"

    assert reg.get({"name": "plain", "size": 3}, base=0.5, unused="x") == "plain"
    assert reg.get("sized", base=0.5, unused="x") == "sized"
    assert seen == [{"size": 3}, {"base": 0.5, "size": 1}]
    with pytest.raises(ConfigError, match="bad parameters for thing 'sized'.*base"):
        reg.get("sized")  # a required value the caller did not supply
    with pytest.raises(ConfigError, match="'base' is supplied by the caller"):
        reg.get({"name": "sized", "base": 1.0}, base=0.5)
    # the schedules' context: step declares steps_per_epoch, constant and the plateau do not
    assert SCHEDULES.get("constant", base_lr=0.1, steps_per_epoch=10, epochs=5).learning_rate == 0.1
    plateau = SCHEDULES.get({"name": "reduce_on_plateau", "patience": 7}, base_lr=0.1,
                            steps_per_epoch=10, epochs=5, monitor="val_accuracy")
    assert (plateau.callbacks[0].monitor, plateau.callbacks[0].patience) == ("val_accuracy", 7)


def test_factories_declare_their_parameters() -> None:
    reg: Registry[int] = Registry("thing")
    with pytest.raises(ValueError, match="named parameters only"):
        reg.register("loose")(lambda a=1, **_: a)
    with pytest.raises(ValueError, match="named parameters only"):
        reg.register("star")(lambda *args: len(args))
    assert reg.names() == []


def test_objects_pass_through_only_when_the_registry_accepts_them() -> None:
    import keras

    opt = keras.optimizers.SGD(0.1)
    assert OPTIMIZERS.get(opt) is opt
    penalty = keras.regularizers.L2(0.1)
    assert REGULARIZERS.get(penalty) is penalty
    with pytest.raises(ConfigError, match="could not interpret optimizer identifier: <keras"):
        OPTIMIZERS.get(penalty)
    with pytest.raises(ConfigError, match="could not interpret regularizer identifier: 0.5"):
        REGULARIZERS.get(0.5)
    with pytest.raises(ConfigError, match="could not interpret regularizer identifier: None"):
        REGULARIZERS.get(None)
    with pytest.raises(ConfigError, match=r"could not interpret schedule identifier: \[0, 0, .*\.\.\.$"):
        SCHEDULES.get([0] * 100, base_lr=0.1)  # a long repr is shortened
    typed: Registry[int] = Registry("number", instance_of=int)
    assert typed.get(5) == 5
    with pytest.raises(ConfigError, match="could not interpret number identifier: 5.0"):
        typed.get(5.0)


def test_names_and_errors_without_importing_tensorflow() -> None:
    code = ("import sys\n"
            "from regapps.shared.errors import ConfigError\n"
            "from regapps.shared.optimizers import OPTIMIZERS\n"
            "from regapps.shared.regularizers import REGULARIZERS\n"
            "from regapps.shared import schedules\n"
            "for get in (lambda: OPTIMIZERS.get(object()), lambda: REGULARIZERS.get({'name': 'l2', 'l2s': 1})):\n"
            "    try:\n"
            "        get()\n"
            "    except ConfigError:\n"
            "        pass\n"
            "assert OPTIMIZERS.parameters('adam') and OPTIMIZERS.names()\n"
            "assert not {'keras', 'tensorflow'} & set(sys.modules), sorted(sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_build_passes_only_the_declared_section_fields() -> None:
    # every field of the section is set; each optimizer takes its own and ignores the others
    cfg = OptimizerConfig(name="rmsprop", learning_rate=0.02, momentum=0.5, beta_1=0.8, rho=0.7,
                          epsilon=1e-5, weight_decay=0.01, clipnorm=2.0)
    conf = build_optimizer(cfg).get_config()
    assert (conf["rho"], conf["momentum"], conf["epsilon"]) == pytest.approx((0.7, 0.5, 1e-5))
    assert "beta_1" not in conf
    sgd = build_optimizer(cfg.model_copy(update={"name": "sgd"}), learning_rate=0.3).get_config()
    assert sgd["learning_rate"] == pytest.approx(0.3) and sgd["momentum"] == 0.0
    result = build_schedule(ScheduleConfig(name="reduce_on_plateau", patience=9, factor=0.25,
                                           step_epochs=4, decay_rate=0.5), 0.1,
                            steps_per_epoch=10, epochs=5, monitor="val_auc")
    callback = result.callbacks[0]
    assert (callback.monitor, callback.patience, callback.factor) == ("val_auc", 9, 0.25)
