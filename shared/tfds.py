"""tensorflow-datasets with a fast offline failure: the cached copy if it is prepared, else one
reachability check (tfds alone retries for minutes offline) before the download."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataUnavailableError
from .net import ensure_reachable


def load_splits(name: str, cache: Path, *, url: str, hint: str,
                splits: tuple[str, ...] = ("train", "test")) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(features, labels)`` NumPy arrays per split of the supervised dataset ``name``."""
    import tensorflow_datasets as tfds

    data_dir = str(Path(cache) / "tensorflow_datasets")

    def load(download: bool) -> list[tuple[np.ndarray, np.ndarray]]:
        loaded = tfds.load(name, split=list(splits), data_dir=data_dir, batch_size=-1,
                           as_supervised=True, download=download)
        return [tuple(np.asarray(a) for a in tfds.as_numpy(s)) for s in loaded]  # type: ignore[misc]

    try:
        return load(download=False)
    except (AssertionError, OSError, ValueError, RuntimeError):  # not prepared yet
        ensure_reachable(url, what=f"downloading {name} through tensorflow-datasets", hint=hint)
        try:
            return load(download=True)
        except Exception as exc:  # tfds raises many types for network faults
            raise DataUnavailableError(f"tensorflow-datasets could not prepare {name} "
                                       f"({type(exc).__name__}). {hint}") from exc
