"""Config: defaults < file < flags < --set; unknown keys and out-of-range values rejected."""
from __future__ import annotations

from pathlib import Path

import pytest
from regapps.shared.config import (
    ExperimentConfig,
    build_config,
    parse_set,
    write_config_file,
)
from regapps.shared.errors import ConfigError


def test_defaults_validate() -> None:
    cfg = build_config(ExperimentConfig)
    assert cfg.optimizer.name == "adam"
    assert cfg.training.epochs == 50


def test_precedence_file_flags_sets(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("optimizer:\n  name: sgd\n  learning_rate: 0.1\ntraining:\n  epochs: 7\n")
    cfg = build_config(ExperimentConfig, config_file=path,
                       flags={"optimizer.learning_rate": 0.05, "training.epochs": None},
                       sets=["optimizer.learning_rate=1e-4", "regularization.batchnorm=true"])
    assert cfg.optimizer.name == "sgd"  # from file
    assert cfg.training.epochs == 7  # None flag = not given
    assert cfg.optimizer.learning_rate == pytest.approx(1e-4)  # --set wins over flag
    assert cfg.regularization.batchnorm is True


def test_toml_and_json_files(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text("[regularization]\nl2 = 0.01\n")
    assert build_config(ExperimentConfig, config_file=toml).regularization.l2 == 0.01
    js = tmp_path / "c.json"
    js.write_text('{"schedule": {"name": "cosine"}, "meta": {"ignored": 1}}')
    assert build_config(ExperimentConfig, config_file=js).schedule.name == "cosine"


def test_written_config_reads_back(tmp_path: Path) -> None:
    cfg = build_config(ExperimentConfig, sets=["regularization.dropout=0.3", "optimizer.name=rmsprop"])
    write_config_file(cfg, tmp_path / "best.yaml")
    again = build_config(ExperimentConfig, config_file=tmp_path / "best.yaml")
    assert again == cfg


@pytest.mark.parametrize("item, fragment", [
    ("regularization.dropout=1.5", "regularization.dropout=1.5: Input should be less than 1"),
    ("regularization.l2=-1", "regularization.l2"),
    ("training.epochs=0", "training.epochs=0"),
    ("training.batch_size=0", "training.batch_size"),
    ("optimizer.name=adamx", "unknown optimizer 'adamx'; valid: sgd, momentum"),
    ("schedule.name=linear", "unknown schedule 'linear'"),
    ("optimizer.foo=1", "unknown key 'optimizer.foo' (allowed: name, learning_rate"),
    ("nosuch=1", "unknown key 'nosuch'"),
    ("training.epochs=abc", "training.epochs='abc'"),
])
def test_bad_values_name_the_key(item: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(ExperimentConfig, sets=[item])
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("item", ["novalue", "=3", "a..b=1", ""])
def test_malformed_set(item: str) -> None:
    with pytest.raises(ConfigError, match="--set expects key.path=value"):
        parse_set(item)


def test_set_into_scalar_is_rejected() -> None:
    with pytest.raises(ConfigError, match="is not a section"):
        build_config(ExperimentConfig, sets=["training.epochs=3", "training.epochs.x=1"])


@pytest.mark.parametrize("text, suffix, fragment", [
    ("[a", ".toml", "not valid TOML"),
    ("a: [", ".yaml", "not valid YAML"),
    ("- 1\n- 2\n", ".yaml", "must hold a mapping"),
    ("x", ".ini", "must end in"),
])
def test_bad_config_files(tmp_path: Path, text: str, suffix: str, fragment: str) -> None:
    path = tmp_path / f"c{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        build_config(ExperimentConfig, config_file=path)


def test_missing_and_binary_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        build_config(ExperimentConfig, config_file=tmp_path / "none.yaml")
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not UTF-8"):
        build_config(ExperimentConfig, config_file=path)


class _AppConfig(ExperimentConfig):
    @classmethod
    def app_defaults(cls, given: object) -> dict[str, object]:
        return {"regularization": {"l2": 1e-3, "dropout": 0.5}, "training": {"epochs": 7}}


def test_app_defaults_survive_a_partial_section() -> None:
    cfg = build_config(_AppConfig, flags={"regularization.l1": 0.01, "training.seed": 3})
    assert (cfg.regularization.l1, cfg.regularization.l2, cfg.regularization.dropout) == (0.01, 1e-3, 0.5)
    assert (cfg.training.epochs, cfg.training.seed) == (7, 3)
    assert build_config(_AppConfig, flags={"regularization.l2": 0.0}).regularization.l2 == 0.0
    assert _AppConfig.model_validate(cfg.to_dict()) == cfg  # a saved config reads back unchanged


@pytest.mark.parametrize("item, fragment", [
    ("training.epochs=true", "training.epochs=true: Input should be a number, not true or false"),
    ("regularization.l2=false", "regularization.l2=false: Input should be a number"),
    ('training.epochs={"a": 1}', "training.epochs: Input should be a valid integer, not a mapping"),
    ('optimizer.name=["adam"]', "optimizer.name: Input should be a valid string, not a list"),
    ("training=3", "training=3: expected a section: a mapping of epochs, batch_size"),
    ("schedule=[1]", "schedule: expected a section: a mapping of name, warmup_epochs"),
])
def test_values_of_the_wrong_shape_name_the_key(item: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(ExperimentConfig, sets=[item])
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_booleans_still_go_where_booleans_belong() -> None:
    cfg = build_config(ExperimentConfig, sets=["regularization.batchnorm=true", "training.early_stopping=false"])
    assert cfg.regularization.batchnorm is True and cfg.training.early_stopping is False


def test_values_are_set_as_given_flags_are_not() -> None:
    base = {"optimizer": {"momentum": 0.5}}
    assert build_config(ExperimentConfig, base=base, flags={"optimizer.momentum": None}).optimizer.momentum == 0.5
    assert build_config(ExperimentConfig, base=base, values={"optimizer.momentum": None}).optimizer.momentum is None
    with pytest.raises(ConfigError, match="regularization.l2=null: Input should be a valid number"):
        build_config(ExperimentConfig, values={"regularization.l2": None})


@pytest.mark.parametrize("tree, fragment", [
    ([1, 2], "run/config.json must hold a mapping of sections, not a list"),
    ({"training": {"warmup": 3}}, "run/config.json does not fit this version of regapps: unknown key "
                                  "'training.warmup'"),
    ({"optimizer": {"name": {"adam": 1}}, "meta": {}}, "optimizer.name: Input should be a valid string, not a mapping"),
])
def test_saved_configs_of_other_versions(tree: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_saved(tree, source="run/config.json")
    assert fragment in str(info.value)
