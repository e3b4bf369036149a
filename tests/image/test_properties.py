"""Property tests: any bytes given to an image loader either load or raise DataError."""
from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from regapps.apps.image.formats import (
    load_image,
    parse_binary_batch,
    parse_python_batch,
    read_cifar_archive,
)
from regapps.shared.errors import DataError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(st.binary(max_size=4000))
def test_binary_batch_bytes(data: bytes) -> None:
    try:
        split = parse_binary_batch(data, "x.bin")
    except DataError:
        return
    assert split.x.shape == (len(data) // 3073, 32, 32, 3) and split.y.max() < 10


@SETTINGS
@given(st.one_of(st.binary(max_size=2000),
                 st.binary(max_size=300).map(lambda b: pickle.dumps({b"data": b, b"labels": [1]}, protocol=2)),
                 st.lists(st.integers(0, 255), max_size=50).map(
                     lambda v: pickle.dumps({b"data": np.array(v, np.uint8), b"labels": v}, protocol=2))))
def test_python_batch_bytes(data: bytes) -> None:
    try:
        split = parse_python_batch(data, "data_batch_1")
    except DataError:
        return
    assert split.x.ndim == 4 and len(split.x) == len(split.y)


def _tar_with(member: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("cifar-10-batches-bin/data_batch_1.bin")
        info.size = len(member)
        archive.addfile(info, io.BytesIO(member))
    return buffer.getvalue()


@SETTINGS
@given(st.one_of(st.binary(max_size=3000), st.binary(max_size=3000).map(_tar_with)))
def test_archive_bytes(tmp_path_factory: object, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("arch")) / "c.tar.gz"  # type: ignore[attr-defined]
    path.write_bytes(data)
    try:
        read_cifar_archive(path)
    except DataError:
        return
    raise AssertionError("an archive with one batch cannot be a complete CIFAR-10")


PNG_HEADER = b"\x89PNG\r\n\x1a\n"


@SETTINGS
@given(st.one_of(st.binary(max_size=2000), st.binary(max_size=500).map(lambda b: PNG_HEADER + b)))
def test_image_bytes(tmp_path_factory: object, data: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("img")) / "x.png"  # type: ignore[attr-defined]
    path.write_bytes(data)
    try:
        image = load_image(path, (8, 8), 3)
    except DataError:
        return
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
