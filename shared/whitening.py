"""A frozen patch-whitening first layer (the CIFAR-10 speed-run trick of KellerJordan's airbench).

The layer is a ``PATCH`` x ``PATCH`` convolution whose filters are the eigenvectors of the
training images' patch covariance, each scaled by one over the square root of its eigenvalue,
and the same filters negated (so a ReLU after it keeps both signs). Its bias centres the
patches on the training images' mean patch. Every output channel then has unit variance over
the training patches and no two are correlated: the next convolution starts from decorrelated
inputs, which well-conditions its first steps. The filters come from the data and never train.

Only the images a model trains on set the filters (cross-validation computes them per fold from
that fold's training part), so no held-out image informs them.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

PATCH = 2
LAYER_NAME = "whiten"
MAX_IMAGES = 5_000  # patches of this many images estimate a 12x12 covariance far past need
EPS = 5e-4  # added to each eigenvalue, as a fraction of their mean (airbench's 5e-4 on unit-variance pixels)


def sample_indices(n: int, indices: np.ndarray | None = None, *, seed: int = 0) -> np.ndarray:
    """The images (of ``indices``, or all ``n``) that set the filters: at most ``MAX_IMAGES`` of
    them, drawn with ``seed``, in ascending order."""
    chosen = np.arange(n) if indices is None else np.asarray(indices)
    if len(chosen) > MAX_IMAGES:
        chosen = np.random.default_rng(seed).permutation(chosen)[:MAX_IMAGES]
    return np.sort(chosen)


def whitening_filters(images: np.ndarray, *, indices: np.ndarray | None = None, scale: float = 1.0,
                      patch: int = PATCH, eps: float = EPS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Kernel ``(patch, patch, channels, 2 * patch * patch * channels)`` and bias for images
    ``(n, h, w, channels)`` that the model sees multiplied by ``scale``: from those at
    ``indices`` (default all), at most ``MAX_IMAGES`` of them (:func:`sample_indices`), gathered
    only once drawn."""
    chosen = sample_indices(len(images), indices, seed=seed)
    if images.ndim != 4 or images.shape[1] < patch or images.shape[2] < patch or len(chosen) == 0:
        raise ValueError(f"need images (n, h, w, c) of at least {patch}x{patch}, got shape {images.shape}"
                         f" and {len(chosen)} chosen")
    x = np.asarray(images[chosen], dtype=np.float64) * scale
    channels = x.shape[3]
    windows = np.lib.stride_tricks.sliding_window_view(x, (patch, patch), axis=(1, 2))  # n,h',w',c,ph,pw
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, patch * patch * channels)  # (ph, pw, c) order
    mean = patches.mean(axis=0)
    covariance = np.cov(patches, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    scaled = eigenvectors / np.sqrt(eigenvalues + eps * max(eigenvalues.mean(), 1e-12))
    filters = np.concatenate([scaled, -scaled], axis=1)  # (patch*patch*c, 2*patch*patch*c)
    kernel = filters.reshape(patch, patch, channels, -1)
    bias = -mean @ filters
    return kernel.astype(np.float32), bias.astype(np.float32)


def whitening_layer(x: Any, channels: int, *, patch: int = PATCH) -> Any:
    """The frozen convolution (random until :func:`set_whitening` fills it), then ReLU."""
    import keras

    out = 2 * patch * patch * channels
    x = keras.layers.Conv2D(out, patch, padding="valid", use_bias=True, trainable=False, name=LAYER_NAME)(x)
    return keras.layers.Activation("relu", name=f"{LAYER_NAME}_act")(x)


def set_whitening(model: Any, images: np.ndarray, *, indices: np.ndarray | None = None, scale: float = 1.0,
                  seed: int = 0) -> bool:
    """Fill ``model``'s whitening layer, if it has one, from ``images`` at ``indices`` (seen by
    the model multiplied by ``scale``); True when it did. Nothing is gathered without the layer."""
    try:
        layer = model.get_layer(LAYER_NAME)
    except ValueError:
        return False
    kernel, bias = whitening_filters(images, indices=indices, scale=scale, patch=layer.kernel_size[0], seed=seed)
    layer.set_weights([kernel, bias])
    used = min(len(images) if indices is None else len(indices), MAX_IMAGES)
    log.info("patch whitening from %d images (%d filters)", used, kernel.shape[-1])
    return True
