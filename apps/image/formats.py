"""Readers for the official CIFAR-10 archive formats and for image folders.

Everything returns uint8 NHWC arrays. Archives are read member by member (nothing is
extracted to disk); the python-version pickles go through an unpickler restricted to the
NumPy and builtin names they need, so a crafted pickle cannot run code.
"""
from __future__ import annotations

import io
import logging
import pickle
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from regapps.shared.errors import DataError
from regapps.shared.files import archive_problem

log = logging.getLogger(__name__)

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
RECORD = 1 + 32 * 32 * 3
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
Need = Literal["train", "test"]  # what the caller needs of a labelled set: training data, or a test part
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


@dataclass
class Split:
    x: np.ndarray
    y: np.ndarray


@dataclass
class LocalImages:
    train: Split | None
    test: Split | None
    class_names: list[str]
    source: str
    notes: list[str] = field(default_factory=list)


# --- CIFAR-10 binary and python versions --------------------------------------------------

def parse_binary_batch(data: bytes, name: str) -> Split:
    if len(data) == 0 or len(data) % RECORD:
        raise DataError(f"{name} is truncated or not a CIFAR-10 binary batch "
                        f"({len(data)} bytes is not a multiple of {RECORD})")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= 10:
        raise DataError(f"{name} has label {labels.max()}; CIFAR-10 labels are 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return Split(np.ascontiguousarray(images), labels)


class _RestrictedUnpickler(pickle.Unpickler):
    """Allows only what NumPy arrays in a CIFAR pickle need; anything else is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}")
        return super().find_class(module, name)


def safe_unpickle(data: bytes, name: str) -> Any:
    try:
        return _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as exc:
        raise DataError(f"{name}: unsafe or invalid pickle ({exc})") from exc
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError,
            ImportError) as exc:
        raise DataError(f"{name} is truncated or not a CIFAR-10 python batch") from exc


def parse_python_batch(data: bytes, name: str) -> Split:
    batch = safe_unpickle(data, name)
    if not isinstance(batch, dict):
        raise DataError(f"{name} is not a CIFAR-10 python batch (no dict inside)")
    images = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(images, np.ndarray) or labels is None:
        raise DataError(f"{name} lacks the 'data' or 'labels' entry of a CIFAR-10 python batch")
    try:
        images = np.asarray(images, dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} has arrays of the wrong shape for CIFAR-10") from exc
    if len(images) != len(labels) or (len(labels) and (labels.min() < 0 or labels.max() >= 10)):
        raise DataError(f"{name} has mismatched or out-of-range labels")
    return Split(np.ascontiguousarray(images), labels)


def _concat(parts: list[Split]) -> Split:
    return Split(np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]))


def read_cifar(members: dict[str, Callable[[], bytes]], source: str, *,
               need: Need = "train") -> LocalImages:
    """Assemble CIFAR-10 from a ``basename -> reader`` map of one version's batch files.

    ``need="train"`` (training) requires all five training batches and reads the test batch
    when there is one. ``need="test"`` (evaluation) reads only the test batch, or, when there is
    none, whatever training batches there are; it never parses batches it does not use."""
    batches = [k for k in members if k.startswith(("data_batch_", "test_batch"))]
    if not batches:
        raise DataError(f"{source} holds no CIFAR-10 batch files (data_batch_1..5, test_batch)")
    binary = any(k.endswith(".bin") for k in batches)
    suffix = ".bin" if binary else ""
    parse = parse_binary_batch if binary else parse_python_batch
    test_name = "test_batch" + suffix
    present = [b + suffix for b in TRAIN_BATCHES if b + suffix in members]
    names = _class_names(members, binary)
    if need == "test" and test_name in members:
        return LocalImages(None, parse(members[test_name](), test_name), names, source)
    if need == "test":
        if not present:
            raise DataError(f"{source} holds no CIFAR-10 batch of the {'binary' if binary else 'python'} "
                            f"version (data_batch_1..5{suffix}, {test_name})")
        train = _concat([parse(members[b](), b) for b in present])
        return LocalImages(train, None, names, source,
                           [f"{source} has no test batch: evaluating its training batches"])
    if not present and test_name in members:
        raise DataError(f"{source} holds only the CIFAR-10 test batch ({test_name}); training needs "
                        f"data_batch_1{suffix} to data_batch_5{suffix} (evaluate takes a test-only set)")
    missing = [b + suffix for b in TRAIN_BATCHES if b + suffix not in members]
    if missing:
        raise DataError(f"{source} lacks CIFAR-10 batch file(s): {', '.join(missing)}")
    train = _concat([parse(members[b](), b) for b in present])
    test = parse(members[test_name](), test_name) if test_name in members else None
    notes = [] if test is not None else [f"{source} has no test batch: no test split was given, "
                                         "so only validation metrics are reported"]
    return LocalImages(train, test, names, source, notes)


def _class_names(members: dict[str, Callable[[], bytes]], binary: bool) -> list[str]:
    try:
        if binary and "batches.meta.txt" in members:
            names = [n.strip() for n in members["batches.meta.txt"]().decode("utf-8").splitlines()]
            names = [n for n in names if n]
        elif not binary and "batches.meta" in members:
            meta = safe_unpickle(members["batches.meta"](), "batches.meta")
            raw = meta.get(b"label_names", meta.get("label_names", [])) if isinstance(meta, dict) else []
            names = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in raw or []]
        else:
            names = []
    except (UnicodeDecodeError, DataError):
        names = []
    return names if len(names) == 10 else list(CIFAR10_CLASSES)


CIFAR_MEMBER = re.compile(r"(?:^|/)((?:data|test)_batch(?:_\d)?(?:\.bin)?|batches\.meta(?:\.txt)?)$")


def read_cifar_archive(path: Path, *, need: Need = "train") -> LocalImages:
    try:
        archive = tarfile.open(path, mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable tar archive: {archive_problem(exc)}") from exc
    with archive:
        try:
            found = {}
            for member in archive.getmembers():
                match = CIFAR_MEMBER.search(member.name)
                if match and member.isfile():
                    found[match.group(1)] = member
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise DataError(f"{path} is truncated or corrupt: {archive_problem(exc)}") from exc
        if not found:
            raise DataError(f"{path} holds no CIFAR-10 batch files")

        def reader(member: tarfile.TarInfo) -> Callable[[], bytes]:
            def read() -> bytes:
                try:
                    handle = archive.extractfile(member)
                    return handle.read() if handle else b""
                except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                    raise DataError(f"{path}: cannot read {member.name}: {archive_problem(exc)}") from exc
            return read

        return read_cifar({k: reader(m) for k, m in found.items()}, str(path), need=need)


def read_cifar_folder(folder: Path, *, need: Need = "train") -> LocalImages:
    members = {p.name: _file_reader(p) for p in folder.iterdir()
               if p.is_file() and CIFAR_MEMBER.search(p.name)}
    return read_cifar(members, str(folder), need=need)


def _file_reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from exc
    return read


# --- image files and folders ----------------------------------------------------------------

SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
BACKGROUND = 255  # transparent pixels are shown over white, as image viewers and browsers do


def _visible(path: Path, root: Path) -> bool:
    """False for anything under a hidden folder (.ipynb_checkpoints, .git) or a hidden file
    (macOS ``._name.png`` resource forks), relative to ``root``."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                  and _visible(p, folder) and p.is_file())


def class_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_image(path: Path, size: tuple[int, int] | None, channels: int, *,
               scaled: list[Path] | None = None) -> np.ndarray:
    """Decode one image to uint8 HxWxC, resized to ``size`` (W, H) when given.

    Any failure of the decoder (corrupt or truncated data, an unknown format, a header claiming
    more pixels than PIL's decompression-bomb limit, ...) becomes a DataError naming the file.
    16-bit greyscale is scaled to 8 bits (the high byte, as PIL does for 16-bit colour PNGs) and
    ``path`` is appended to ``scaled``; transparency is composited over white; the EXIF
    orientation of photos is applied."""
    import warnings

    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                img, sixteen = _to_8bit(img, channels)
                if size is not None and img.size != size:
                    img = img.resize(size, Image.Resampling.BILINEAR)
                array = np.asarray(img, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"{path} is not a readable image: {_bomb_detail(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - decoders raise OSError, ValueError, SyntaxError,
        # struct.error, EOFError, MemoryError, IndexError, ... on hostile files: all mean "unreadable"
        raise DataError(f"{path} is not a readable image ({type(exc).__name__})") from exc
    if sixteen and scaled is not None:
        scaled.append(path)
    return array[..., None] if channels == 1 else array


def _to_8bit(img: Any, channels: int) -> tuple[Any, bool]:
    """``img`` as an 8-bit "L" or "RGB" image, and whether it was 16-bit greyscale."""
    from PIL import Image

    target = "L" if channels == 1 else "RGB"
    if img.mode in SIXTEEN_BIT_MODES:  # convert() would clip every value above 255 to white
        values = np.clip(np.asarray(img, dtype=np.int64), 0, 65535) >> 8
        return Image.fromarray(values.astype(np.uint8), mode="L").convert(target), True
    if img.mode in ALPHA_MODES or (img.mode in {"P", "L", "RGB", "1"} and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (BACKGROUND, BACKGROUND, BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert(target), False
    return (img if img.mode == target else img.convert(target)), False


def _bomb_detail(exc: Exception) -> str:
    numbers = [int(n) for n in re.findall(r"(\d+) pixels", str(exc))]
    if len(numbers) == 2:
        return (f"its header claims {numbers[0]:,} pixels, more than the {numbers[1]:,} "
                "that PIL decodes (decompression-bomb guard)")
    return "its header claims more pixels than PIL decodes (decompression-bomb guard)"


def log_scaled(scaled: list[Path], where: str) -> None:
    if scaled:
        log.info("%d 16-bit image(s) in %s (e.g. %s) were scaled to 8 bits", len(scaled), where,
                 scaled[0].name)


def read_class_tree(folder: Path, class_names: list[str] | None,
                    size: tuple[int, int] | None, channels: int) -> tuple[Split, list[str]]:
    """Read ``folder/<class>/*`` into arrays; ``class_names`` fixes the label order if given.
    Hidden folders and files and files without an image suffix are skipped."""
    dirs = class_folders(folder)
    if not dirs:
        raise DataError(f"{folder} has no class folders (expected {folder}/<class>/*.png)")
    names = class_names or [d.name for d in dirs]
    index = {n: i for i, n in enumerate(names)}
    images: list[np.ndarray] = []
    labels: list[int] = []
    scaled: list[Path] = []
    for d in dirs:
        if d.name not in index:
            raise DataError(f"class folder {d} is not one of the known classes: {', '.join(names)}")
        for f in _image_files(d):
            img = load_image(f, size, channels, scaled=scaled)
            if size is None:
                size = (img.shape[1], img.shape[0])
            images.append(img)
            labels.append(index[d.name])
    if not images:
        raise DataError(f"{folder} has class folders but no images "
                        f"({', '.join(sorted(IMAGE_SUFFIXES))})")
    log_scaled(scaled, str(folder))
    return Split(np.stack(images), np.asarray(labels, dtype=np.int64)), names


def read_image_folders(folder: Path, *, size: tuple[int, int] | None = None,
                       channels: int = 3, need: Need = "train") -> LocalImages:
    """``folder/train/<class>/`` and/or ``folder/test/<class>/``, or ``folder/<class>/``.

    ``need="train"``: the training part (``train/`` or the class folders), plus ``test/`` when
    present (its classes must be among the training ones). ``need="test"``: ``test/`` alone
    when present (its own class names, for the caller to map), else the training part."""
    train_dir, test_dir = folder / "train", folder / "test"
    split_layout = train_dir.is_dir() or test_dir.is_dir()
    root = train_dir if train_dir.is_dir() else folder
    if need == "test" and test_dir.is_dir():
        only_test, names = read_class_tree(test_dir, None, size, channels)
        return LocalImages(None, only_test, names, str(folder))
    if split_layout and not train_dir.is_dir():
        raise DataError(f"{folder} holds only a test/ folder; training needs {folder}/train/<class>/ "
                        "or class folders directly (evaluate takes a test-only folder)")
    train, names = read_class_tree(root, None, size, channels)
    if need == "test":
        return LocalImages(train, None, names, str(folder),
                           [f"{folder} has no test/ folder: evaluating all its images"])
    test = None
    notes: list[str] = []
    if test_dir.is_dir():
        test, _ = read_class_tree(test_dir, names, (train.x.shape[2], train.x.shape[1]), channels)
    else:
        notes.append(f"{folder} has no test/ folder: no test split was given, "
                     "so only validation metrics are reported")
    return LocalImages(train, test, names, str(folder), notes)


def iter_sources(folder: Path) -> Iterator[Path]:
    """Official archive names a folder may hold, in order of preference."""
    for name in ("cifar-10-batches-bin", "cifar-10-batches-py", "cifar-10-binary.tar.gz",
                 "cifar-10-python.tar.gz"):
        if (folder / name).exists():
            yield folder / name
