"""Saving and safely loading Keras models."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ModelLoadError
from .runs import atomic_path


def save_model(model: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


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
