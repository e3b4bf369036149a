"""Tiny generated CIFAR-10 archives (binary and python versions) and image folders."""
from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

N_PER_BATCH = 6


def batch_arrays(seed: int, n: int = N_PER_BATCH) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n).astype(np.int64)


def binary_batch(x: np.ndarray, y: np.ndarray) -> bytes:
    planes = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # R, G, B planes, row-major
    return np.concatenate([y.astype(np.uint8)[:, None], planes], axis=1).tobytes()


def python_batch(x: np.ndarray, y: np.ndarray) -> bytes:
    batch = {b"data": x.transpose(0, 3, 1, 2).reshape(len(x), -1), b"labels": [int(v) for v in y]}
    return pickle.dumps(batch, protocol=2)


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def cifar_files(version: str, *, skip: tuple[str, ...] = (), test: bool = True) -> dict[str, bytes]:
    """Member name -> bytes of a small CIFAR-10 archive in the official layout."""
    folder = "cifar-10-batches-bin" if version == "binary" else "cifar-10-batches-py"
    suffix = ".bin" if version == "binary" else ""
    encode = binary_batch if version == "binary" else python_batch
    names = [f"data_batch_{i}" for i in range(1, 6)] + (["test_batch"] if test else [])
    files = {}
    for seed, name in enumerate(names):
        if name + suffix in skip:
            continue
        files[f"{folder}/{name}{suffix}"] = encode(*batch_arrays(seed))
    if version == "binary":
        files[f"{folder}/batches.meta.txt"] = "\n".join(
            ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]).encode()
    return files


def write_archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            _add(archive, name, data)
    return path


def write_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def write_image_tree(root: Path, classes: dict[str, int], size: tuple[int, int] = (12, 10),
                     seed: int = 0) -> Path:
    """``root/<class>/<i>.png`` with a per-class colour so classes are learnable."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c, (name, count) in enumerate(classes.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            base = np.zeros((size[1], size[0], 3), np.uint8)
            base[..., c % 3] = 200
            noise = rng.integers(0, 40, base.shape, dtype=np.uint8)
            Image.fromarray(base + noise).save(root / name / f"{i}.png")
    return root
