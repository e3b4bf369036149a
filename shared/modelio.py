"""Saving and safely loading Keras models."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ModelLoadError
from .runs import atomic_path


def save_model(model: Any, path: Path) -> Path:
    """Save ``model`` for inference: its layers and weights, without an optimizer or its slots
    (Keras saves a compiled model's optimizer, nested models' included; for a bag-of-n-grams
    model Adam's two slots doubled the file). ``--resume`` uses the training checkpoints."""
    inference = uncompiled_copy(model) if _compiled(model) else model
    with atomic_path(path) as tmp:
        inference.save(tmp)
    return path


def _compiled(model: Any) -> bool:
    import keras

    return getattr(model, "optimizer", None) is not None or any(
        _compiled(layer) for layer in getattr(model, "layers", []) if isinstance(layer, keras.Model))


def uncompiled_copy(model: Any) -> Any:
    """The same architecture and weights as ``model`` in fresh, uncompiled layers, rebuilt from
    its config (``keras.models.clone_model`` would compile the copy, optimizer slots included).
    Every layer's state must be in its weights or its config: a ``TextVectorization`` keeps its
    vocabulary in the config only when built with ``vocabulary=``."""
    copy = model.__class__.from_config(_without_compile(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def _without_compile(config: Any) -> Any:
    """``config`` less every ``compile_config``: Keras compiles a nested model rebuilt from a
    config that has one, and a compiled model is saved with its optimizer."""
    if isinstance(config, dict):
        return {k: _without_compile(v) for k, v in config.items() if k != "compile_config"}
    if isinstance(config, list):
        return [_without_compile(v) for v in config]
    return config


def load_model(path: Path, custom_objects: dict[str, Any] | None = None) -> Any:
    """Load a ``.keras`` file with ``safe_mode=True``: a model that would run arbitrary code
    (a Lambda layer holding Python bytecode) is refused, not executed."""
    import keras

    from . import layers, lr_schedules  # noqa: F401  (registers the custom objects saved models name)

    if not Path(path).is_file():
        raise ModelLoadError(f"no saved model at {path}")
    try:
        return keras.saving.load_model(path, custom_objects=custom_objects, safe_mode=True,
                                       compile=False)
    except ValueError as exc:
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text:
            raise ModelLoadError(f"{path} contains code (e.g. a Lambda layer) and is refused: "
                                 "regapps loads models with safe_mode=True") from exc
        raise ModelLoadError(f"{path} is not a loadable Keras model: {text.splitlines()[0][:200]}") from exc
    except (OSError, KeyError, TypeError, AttributeError, ImportError) as exc:
        raise ModelLoadError(f"{path} is not a loadable Keras model ({type(exc).__name__})") from exc
