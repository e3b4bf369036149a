"""``save_model`` writes an inference model: layers and weights, no optimizer state."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def _h5_groups(path: Path) -> set[str]:
    """Every group and dataset name in the saved weights, nested ones included."""
    import h5py

    names: list[str] = []
    with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as handle:
        with h5py.File(handle, "r") as h5:
            h5.visit(names.append)
    return {part for name in names for part in name.split("/")}


def test_a_trained_nested_model_is_saved_without_optimizer_slots(tmp_path: Path) -> None:
    import keras
    from regapps.shared.modelio import load_model, save_model

    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    inner.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
    inner.fit(x, x[:, :1], epochs=2, verbose=0)
    outer = keras.Model(inner.inputs, inner(inner.inputs), name="outer")  # holds the compiled model
    for model in (inner, outer):
        path = save_model(model, tmp_path / f"{model.name}.keras")
        assert "optimizer" not in _h5_groups(path)
        reloaded = load_model(path)
        np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert inner.optimizer.iterations.numpy() > 0  # the trained model itself is left as it was
