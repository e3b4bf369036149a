"""Typed, validated configuration: defaults < config file (YAML/TOML/JSON) < flags < ``--set``.

Every section rejects unknown keys; every error names the dotted key and what is allowed.
Apps subclass :class:`ExperimentConfig` to add their ``data`` and ``model`` sections.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES

C = TypeVar("C", bound="ExperimentConfig")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """pydantic reads ``true`` as 1 where a number belongs (``epochs: true`` would train one
        epoch); a number field takes numbers (or numeric strings) only."""
        if isinstance(value, bool) and info.field_name:
            annotation = cls.model_fields[info.field_name].annotation
            if _admits(annotation, (int, float)) and not _admits(annotation, (bool,)):
                raise ValueError("Input should be a number, not true or false")
        return value


def _admits(annotation: Any, types: tuple[type, ...]) -> bool:
    """Whether ``annotation`` (``float``, ``int | None``, ...) accepts one of ``types``."""
    if annotation in types:
        return True
    return get_origin(annotation) in (Union, type(int | None)) and any(
        _admits(arg, types) for arg in get_args(annotation))


class RegularizationConfig(Section):
    l1: float = Field(0.0, ge=0, le=10, description="L1 penalty on every kernel")
    l2: float = Field(0.0, ge=0, le=10, description="L2 penalty on every kernel")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout rate")
    batchnorm: bool = Field(False, description="BatchNormalization after hidden layers")


class OptimizerConfig(Section):
    name: str = Field("adam", description="optimizer: " + ", ".join(OPTIMIZERS.names()))
    learning_rate: float = Field(1e-3, gt=0, le=100)
    momentum: float | None = Field(None, ge=0, lt=1, description="momentum/nesterov (0.9), rmsprop (0)")
    beta_1: float = Field(0.9, ge=0, lt=1)
    beta_2: float = Field(0.999, ge=0, lt=1)
    epsilon: float = Field(1e-7, gt=0, le=1)
    rho: float = Field(0.9, gt=0, lt=1, description="rmsprop decay")
    weight_decay: float | None = Field(None, ge=0, le=1, description="decoupled weight decay")
    clipnorm: float | None = Field(None, gt=0)

    @field_validator("name")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        if value not in OPTIMIZERS.names():
            raise ValueError(f"unknown optimizer {value!r}; valid: {', '.join(OPTIMIZERS.names())}")
        return value


class ScheduleConfig(Section):
    name: str = Field("constant", description="schedule: " + ", ".join(SCHEDULES.names()))
    warmup_epochs: float = Field(0.0, ge=0, description="linear warm-up (cosine, onecycle)")
    step_epochs: int = Field(10, ge=1, description="step: epochs between drops")
    factor: float = Field(0.5, gt=0, lt=1, description="step / reduce_on_plateau multiplier")
    decay_rate: float = Field(0.96, gt=0, le=1, description="exponential: decay per epoch")
    min_lr_ratio: float = Field(0.0, ge=0, lt=1, description="cosine floor as a share of the peak")
    patience: int = Field(3, ge=0, description="reduce_on_plateau patience in epochs")

    @field_validator("name")
    @classmethod
    def _known_schedule(cls, value: str) -> str:
        if value not in SCHEDULES.names():
            raise ValueError(f"unknown schedule {value!r}; valid: {', '.join(SCHEDULES.names())}")
        return value


Monitor = Literal["val_loss", "val_accuracy", "val_auc", "val_mae", "loss", "accuracy"]


class TrainingConfig(Section):
    epochs: int = Field(50, ge=1, le=100_000)
    batch_size: int = Field(64, ge=1, le=1_048_576)
    validation_split: float = Field(0.2, gt=0, lt=1)
    early_stopping: bool = True
    monitor: Monitor = "val_loss"
    patience: int = Field(10, ge=0)
    min_delta: float = Field(0.0, ge=0)
    restore_best: bool = True
    seed: int = Field(42, ge=0, lt=2**32)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    steps_per_execution: int = Field(16, ge=1, le=10_000,
                                     description="batches per compiled call: fewer Python round trips")
    tensorboard: bool = False
    tensorboard_dir: str | None = Field(None, description="TensorBoard folder when there is no run "
                                        "directory (set per trial by cv and per variant by compare)")
    strategy: Literal["default", "mirrored", "multiworker"] = Field(
        "default", description="tf.distribute: mirrored = all local GPUs (one CPU device without "
        "them), multiworker = the cluster in TF_CONFIG")
    precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = Field(
        "float32", description="Keras dtype policy while the model is built; outputs stay float32. "
        "auto = mixed_bfloat16 where the hardware runs bfloat16 natively, else float32")
    time_budget_minutes: float | None = Field(None, gt=0, description="stop training after this")


class ExperimentConfig(Section):
    """The parts every app shares. Apps add ``data`` and ``model`` sections and their own
    defaults for the shared ones through :meth:`app_defaults`."""

    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)

    @classmethod
    def app_defaults(cls, given: Mapping[str, Any]) -> Mapping[str, Any]:
        """The app's defaults (may depend on what is given, e.g. a preset). Override in apps."""
        return {}

    @model_validator(mode="before")
    @classmethod
    def _merge_app_defaults(cls, data: Any) -> Any:
        """Given values go over the app's defaults key by key, so a partial section (``--seed 1``
        is ``{"training": {"seed": 1}}``) keeps the app's other defaults instead of falling back
        to the shared section's."""
        if not isinstance(data, Mapping):
            return data
        try:
            defaults = cls.app_defaults(data)
        except (TypeError, AttributeError, KeyError, ValueError):
            # a value of the wrong shape where the defaults are chosen (``model.preset: [fast]``):
            # no app defaults, so validation names the key and what it takes
            defaults = {}
        return merge_under(defaults, data)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def with_training(self: C, **changes: Any) -> C:
        """A copy with ``training`` fields replaced (values the caller made, not user input)."""
        return self.model_copy(update={"training": self.training.model_copy(update=changes)})

    @classmethod
    def from_saved(cls: type[C], tree: Any, source: str = "the saved config") -> C:
        """The config of a run's ``config.json`` (its ``meta`` record of versions and checksums
        set aside). One that does not fit this version (another version's keys, values of
        another shape) raises :class:`ConfigError` naming ``source`` and the key."""
        if not isinstance(tree, Mapping):
            raise ConfigError(f"{source} must hold a mapping of sections, not {shape_of(tree)}")
        try:
            return cls.model_validate({k: v for k, v in tree.items() if k != "meta"})
        except ValidationError as exc:
            raise ConfigError(f"{source} does not fit this version of regapps: "
                              f"{describe_validation_error(cls, exc)}") from exc


# --- loading ---------------------------------------------------------------------------------

def read_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML, TOML or JSON mapping. A run's ``config.json`` is accepted as well."""
    import yaml  # light, but only needed with --config

    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    text = _read_text(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        elif suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        else:
            raise ConfigError(f"config file {path} must end in .yaml, .yml, .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(f"config file {path} is not valid {suffix[1:].upper()}: {first}") from exc
    except RecursionError as exc:  # every parser recurses per nesting level
        raise ConfigError(f"config file {path} is nested too deeply") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, not {shape_of(data)}")
    data.pop("meta", None)  # a run's config.json carries versions and checksums under "meta"
    return data


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc


def parse_set(item: str) -> tuple[str, Any]:
    """Parse one ``--set key.path=value``; the value is read as JSON when it parses, else a string."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set expects key.path=value, got {item!r}")
    return key, parse_value(raw.strip())


def parse_value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered in {"none", "null"}:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # pydantic coerces numeric strings such as "1e-4" and rejects the rest


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    node = tree
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"cannot set {key!r}: {'.'.join(parts[: i + 1])!r} is not a section")
        node = child
    node[parts[-1]] = value


def build_config(
    cls: type[C],
    *,
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    sets: Iterable[str] = (),
    base: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
) -> C:
    """Merge defaults < ``base`` < file < flags (dotted keys, ``None`` = not given) < ``values``
    (dotted keys set as given, ``None`` included: a search candidate's) < ``--set``."""
    tree: dict[str, Any] = _deep_copy(base or {})
    if config_file is not None:
        _merge(tree, read_config_file(config_file))
    for key, value in (flags or {}).items():
        if value is not None:
            set_dotted(tree, key, value)
    for key, value in (values or {}).items():
        set_dotted(tree, key, value)
    for item in sets:
        set_dotted(tree, *parse_set(item))
    return validate_config(cls, tree)


def validate_config(cls: type[C], tree: Mapping[str, Any]) -> C:
    try:
        return cls.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(cls, exc)) from exc


def describe_validation_error(cls: type[BaseModel], exc: ValidationError) -> str:
    """One line for the first problem: the dotted key, the bad value and what is allowed."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "config"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(cls, loc[:-1])
        return f"unknown key {key!r}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    message = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] in SECTION_ERRORS:  # pydantic: "Input should be a valid dictionary or instance of ..."
        keys = _allowed_keys(cls, loc)
        listed = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "") if keys else "keys"
        message = f"expected a section: a mapping of {listed} to values"
    if value is None or isinstance(value, bool):
        return f"{key}={json.dumps(value)}: {message}"  # as a config file writes them: null, true
    if isinstance(value, (int, float, str)):
        return f"{key}={value!r}: {message}"
    return f"{key}: {message}, not {shape_of(value)}"


SECTION_ERRORS = ("model_type", "model_attributes_type", "dict_type")


def shape_of(value: Any) -> str:
    """What a value is, in the words of a config file: a mapping, a list, a number, ..."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else f"a {type(value).__name__}"


def _allowed_keys(cls: type[BaseModel], path: list[str]) -> list[str]:
    model: Any = cls
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def merge_under(defaults: Mapping[str, Any], tree: Mapping[str, Any]) -> dict[str, Any]:
    """``tree`` over ``defaults`` (nested mappings merged key by key)."""
    merged = _deep_copy(defaults)
    _merge(merged, tree)
    return merged


def _merge(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = _deep_copy(value) if isinstance(value, Mapping) else value


def _deep_copy(tree: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in tree.items()}


def write_config_file(config: BaseModel, path: Path) -> None:
    """Write a config that ``--config`` reads back (YAML, TOML not needed: YAML covers it)."""
    import yaml

    from .runs import atomic_write_text

    text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    atomic_write_text(path, text)
