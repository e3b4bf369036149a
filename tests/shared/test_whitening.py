"""The frozen patch-whitening layer: its filters whiten, it never trains, it reloads, and only a
fit's training images set it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from regapps.shared.whitening import LAYER_NAME, MAX_IMAGES, set_whitening, whitening_filters


def correlated_images(n: int, seed: int = 0) -> np.ndarray:
    """Smooth, colour-correlated images in [0, 255], as uint8 like the image app's."""
    rng = np.random.default_rng(seed)
    base = rng.random((n, 9, 9, 1))
    smooth = np.kron(base, np.ones((1, 2, 2, 1)))[:, :16, :16]  # neighbouring pixels correlate
    colour = smooth * np.array([1.0, 0.8, 0.5]) + 0.1 * rng.random((n, 16, 16, 3))
    return np.clip(colour * 230, 0, 255).astype(np.uint8)


def patches_of(images: np.ndarray, scale: float) -> np.ndarray:
    x = images.astype(np.float64) * scale
    w = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(1, 2))
    return w.transpose(0, 1, 2, 4, 5, 3).reshape(-1, 12)


def test_filters_decorrelate_and_centre_the_patches() -> None:
    images = correlated_images(400)
    kernel, bias = whitening_filters(images, scale=1 / 255, eps=1e-9)
    assert kernel.shape == (2, 2, 3, 24) and bias.shape == (24,)
    out = patches_of(images, 1 / 255) @ kernel.reshape(12, 24) + bias
    half = out[:, :12]
    np.testing.assert_allclose(half.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(half, rowvar=False), np.eye(12), atol=1e-3)
    np.testing.assert_allclose(out[:, 12:], -half, atol=1e-5)  # the negated copies
    raw_cov = np.cov(patches_of(images, 1 / 255), rowvar=False)
    assert np.abs(raw_cov - np.diag(np.diag(raw_cov))).max() > 0.01  # the inputs were correlated


def test_filters_follow_the_scale_the_model_sees() -> None:
    images = correlated_images(50)
    k1, b1 = whitening_filters(images, scale=1.0)
    k255, b255 = whitening_filters(images, scale=1 / 255)
    np.testing.assert_allclose(k255, 255 * k1, rtol=1e-4)  # eps is relative: same whitening
    np.testing.assert_allclose(b255, b1, rtol=1e-4, atol=1e-5)


def test_indices_choose_the_images_and_large_sets_are_subsampled(monkeypatch: pytest.MonkeyPatch) -> None:
    import regapps.shared.whitening as whitening

    images = correlated_images(90)
    idx = np.arange(10, 90, 2)
    for got, want in zip(whitening_filters(images, indices=idx), whitening_filters(images[idx]), strict=True):
        np.testing.assert_array_equal(got, want)
    monkeypatch.setattr(whitening, "MAX_IMAGES", 25)
    chosen = whitening.sample_indices(90, idx, seed=3)
    assert len(chosen) == 25 and set(chosen) <= set(idx) and list(chosen) == sorted(chosen)
    assert not np.array_equal(chosen, whitening.sample_indices(90, idx, seed=4))  # the seed draws
    np.testing.assert_array_equal(whitening_filters(images, indices=idx, seed=3)[0],
                                  whitening_filters(images[chosen])[0])


def test_bad_images_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2x2"):
        whitening_filters(np.zeros((3, 1, 5, 3)))
    with pytest.raises(ValueError):
        whitening_filters(np.zeros((0, 8, 8, 3)))


def test_layer_is_frozen_reloads_and_needs_a_whitening_model(tmp_path: Path) -> None:
    import keras
    from regapps.apps.image.model import build_model
    from regapps.shared.config import RegularizationConfig
    from regapps.shared.modelio import load_model

    reg = RegularizationConfig(batchnorm=True)
    assert not set_whitening(build_model("fast", (16, 16, 3), 4, reg, width=4, whiten=False), correlated_images(8))
    model = build_model("fast", (16, 16, 3), 4, reg, width=4, whiten=True)
    images = correlated_images(64)
    assert set_whitening(model, images, scale=1 / 255)
    layer = model.get_layer(LAYER_NAME)
    assert not layer.trainable and all(w is not layer.kernel for w in model.trainable_weights)
    kernel = np.array(layer.kernel)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    model.fit(images / 255, np.arange(64) % 4, epochs=1, batch_size=16, verbose=0)
    np.testing.assert_array_equal(np.array(layer.kernel), kernel)  # training left it alone
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(np.array(loaded.get_layer(LAYER_NAME).kernel), kernel)
    np.testing.assert_allclose(loaded.predict(images / 255, verbose=0), model.predict(images / 255, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_fit_whitens_from_its_training_images_only() -> None:
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.data import ImageData
    from regapps.apps.image.task import ImageFit
    from regapps.shared.config import build_config

    rng = np.random.default_rng(1)
    images = correlated_images(60)
    labels = np.arange(60) % 3
    images[40:] = rng.integers(0, 256, images[40:].shape, dtype=np.uint8)  # unlike the rest
    data = ImageData(images, labels, None, None, ["a", "b", "c"], "generated")
    config = build_config(ImageConfig, flags={"model.preset": "fast", "model.width": 4, "model.whiten": True,
                                              "training.epochs": 1})
    train_idx, val_idx = np.arange(40), np.arange(40, 60)
    job = ImageFit(config, data, train_idx, val_idx)
    expected, _ = whitening_filters(images[:40], scale=1 / 255)
    np.testing.assert_allclose(np.array(job.model.get_layer(LAYER_NAME).kernel), expected, rtol=1e-5)
    everything, _ = whitening_filters(images, scale=1 / 255)
    assert not np.allclose(expected, everything, rtol=1e-2)  # the held-out images would change it
    assert MAX_IMAGES >= 1000


def test_pooled_folds_each_whiten_from_their_own_training_part() -> None:
    """Cross-validation trains folds on one pooled compiled model: the second fold must not keep
    the first fold's filters."""
    from regapps.apps.image.config import ImageConfig
    from regapps.apps.image.data import ImageData
    from regapps.apps.image.task import ImageFit
    from regapps.shared.config import build_config
    from regapps.shared.model_pool import ModelPool

    rng = np.random.default_rng(4)
    images = correlated_images(60)
    images[30:] = rng.integers(0, 256, images[30:].shape, dtype=np.uint8)
    data = ImageData(images, np.arange(60) % 3, None, None, ["a", "b", "c"], "generated")
    config = build_config(ImageConfig, flags={"model.preset": "fast", "model.width": 4, "training.epochs": 1})
    pool = ModelPool()
    folds = [(np.arange(30), np.arange(30, 40)), (np.arange(20, 60), np.arange(0, 20))]
    kernels, models = [], []
    for train_idx, val_idx in folds:
        job = ImageFit(config, data, train_idx, val_idx, pool=pool)
        models.append(job.model)
        kernels.append(np.array(job.model.get_layer(LAYER_NAME).kernel))
        expected, _ = whitening_filters(images[train_idx], scale=1 / 255)
        np.testing.assert_allclose(kernels[-1], expected, rtol=1e-5)
        job.trainer.train_until(1)
        job.trainer.park()
    assert models[0] is models[1]  # the second fold trained on the pooled model
    assert not np.allclose(kernels[0], kernels[1], rtol=1e-2)
