"""CIFAR-10 binary and python archives, image folders, digits: values and failure modes."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from regapps.apps.image.data import load_digits, load_image_data, load_local
from regapps.apps.image.formats import safe_unpickle
from regapps.shared.errors import DataError

from .fixtures import (
    batch_arrays,
    cifar_files,
    write_archive,
    write_folder,
    write_image_tree,
)


@pytest.mark.parametrize("version", ["binary", "python"])
@pytest.mark.parametrize("packed", [True, False])
def test_cifar_round_trip(tmp_path: Path, version: str, packed: bool) -> None:
    files = cifar_files(version)
    if packed:
        path = write_archive(tmp_path / f"cifar-10-{version}.tar.gz", files)
    else:
        path = write_folder(tmp_path, files)  # tmp_path holds cifar-10-batches-*/
    local = load_local(path)
    x0, y0 = batch_arrays(0)
    assert local.train is not None and local.test is not None
    assert local.train.x.shape == (30, 32, 32, 3) and local.train.x.dtype == np.uint8
    np.testing.assert_array_equal(local.train.x[:6], x0)  # pixel layout HWC preserved
    np.testing.assert_array_equal(local.train.y[:6], y0)
    np.testing.assert_array_equal(local.test.x, batch_arrays(5)[0])
    assert local.class_names[0] == "airplane" and len(local.class_names) == 10


def test_archive_without_test_batch_notes_it(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "c.tar.gz", cifar_files("binary", test=False))
    data = load_image_data("cifar10", str(path))
    assert data.x_test is None
    assert any("no test split was given" in n for n in data.notes)


def test_missing_batch_is_named(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "c.tar.gz", cifar_files("binary", skip=("data_batch_3.bin",)))
    with pytest.raises(DataError, match="lacks CIFAR-10 batch file.*data_batch_3.bin"):
        load_local(path)


def test_truncated_binary_batch(tmp_path: Path) -> None:
    files = cifar_files("binary")
    files["cifar-10-batches-bin/data_batch_2.bin"] = files["cifar-10-batches-bin/data_batch_2.bin"][:-7]
    with pytest.raises(DataError, match="data_batch_2.bin is truncated"):
        load_local(write_folder(tmp_path, files))


def test_truncated_archive(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "c.tar.gz", cifar_files("python"))
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(DataError):
        load_local(path)


@pytest.mark.parametrize("content", [b"", b"not a tarball at all", b"\x89PNG\r\n\x1a\n" + b"0" * 100])
def test_not_an_archive(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not a readable tar archive|no CIFAR-10 batch"):
        load_local(path)


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("echo pwned > /tmp/regapps-pwned",))


def test_crafted_pickle_is_refused(tmp_path: Path) -> None:
    payload = pickle.dumps({b"data": _Exploit(), b"labels": [0]}, protocol=2)
    with pytest.raises(DataError, match="unsafe or invalid pickle.*refused to load"):
        safe_unpickle(payload, "data_batch_1")
    files = cifar_files("python")
    files["cifar-10-batches-py/data_batch_1"] = payload
    with pytest.raises(DataError, match="refused"):
        load_local(write_archive(tmp_path / "evil.tar.gz", files))
    assert not Path("/tmp/regapps-pwned").exists()


def test_image_folders_with_test_split(tmp_path: Path) -> None:
    write_image_tree(tmp_path / "train", {"cat": 3, "dog": 2})
    write_image_tree(tmp_path / "test", {"dog": 1, "cat": 1})
    local = load_local(tmp_path)
    assert local.class_names == ["cat", "dog"]
    assert local.train is not None and local.train.x.shape == (5, 10, 12, 3)
    assert sorted(local.train.y.tolist()) == [0, 0, 0, 1, 1]
    assert local.test is not None and sorted(local.test.y.tolist()) == [0, 1]


def test_flat_class_folders_and_resize(tmp_path: Path) -> None:
    write_image_tree(tmp_path, {"a": 2, "b": 2}, size=(20, 16))
    local = load_local(tmp_path, size=(8, 8), channels=1)
    assert local.train is not None and local.train.x.shape == (4, 8, 8, 1)
    assert local.test is None and "no test" in local.notes[0]


def test_corrupt_image_is_named(tmp_path: Path) -> None:
    write_image_tree(tmp_path / "train", {"a": 2, "b": 2})
    (tmp_path / "train" / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not png data")
    with pytest.raises(DataError, match="broken.png is not a readable image"):
        load_local(tmp_path)


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_local(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="is empty"):
        load_local(tmp_path / "empty")
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "x.png").write_bytes(b"")
    with pytest.raises(DataError, match="neither a CIFAR-10 archive nor class folders"):
        load_local(tmp_path / "loose")
    (tmp_path / "noimg" / "train" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        load_local(tmp_path / "noimg")


def test_digits_split_is_fixed_and_stratified() -> None:
    a, b = load_digits(), load_digits()
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.x_train.shape[1:] == (8, 8, 1) and a.x_train.dtype == np.uint8
    assert a.x_train.max() == 255 and len(a.y_test) == 360
    assert set(np.bincount(a.y_test)) <= {35, 36, 37}  # stratified: every class ~10%
