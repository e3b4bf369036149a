"""Readers for local labelled text: the official ``aclImdb`` layout (folder or tarball, read
member by member without extracting) and CSV files. Everything returns lists of cleaned
strings and int64 labels (0 = negative, 1 = positive)."""
from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from regapps.shared.errors import DataError, DataParameterError
from regapps.shared.files import archive_problem

CLASS_NAMES = ["negative", "positive"]
LABEL_DIRS = {"neg": 0, "pos": 1}
SPLITS = ("train", "test")
LOOSE = "labelled"  # pos/ and neg/ folders outside train/ or test/: one labelled set
LABEL_WORDS = {"0": 0, "1": 1, "neg": 0, "pos": 1, "negative": 0, "positive": 1}
_BREAKS = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")  # Unicode whitespace: U+0085, U+2028, U+00A0, ... included


@dataclass
class TextSplit:
    x: list[str]
    y: np.ndarray  # int64, 0 = negative, 1 = positive


@dataclass
class LocalText:
    train: TextSplit | None
    test: TextSplit | None
    source: str
    notes: list[str] = field(default_factory=list)


def clean_text(text: str) -> str:
    """Replace HTML line breaks (IMDB reviews are full of ``<br />``), collapse whitespace, and
    replace lone surrogates (undecodable command-line bytes) with U+FFFD: they have no UTF-8."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _SPACES.sub(" ", _BREAKS.sub(" ", text)).strip()


def decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where} is not UTF-8 text (undecodable byte at offset {exc.start})") from exc


def _split(pairs: Iterable[tuple[str, int]]) -> TextSplit | None:
    items = list(pairs)
    if not items:
        return None
    return TextSplit([t for t, _ in items], np.asarray([y for _, y in items], dtype=np.int64))


# --- aclImdb ----------------------------------------------------------------------------------

def _acl_key(parts: list[str]) -> tuple[str, int] | None:
    """``.../{train,test}/{pos,neg}/<id>_<rating>.txt`` -> (split, label); a ``{pos,neg}/*.txt``
    outside a split folder -> (``LOOSE``, label); anything else None."""
    if len(parts) < 2 or not parts[-1].endswith(".txt") or parts[-2] not in LABEL_DIRS:
        return None
    split = parts[-3] if len(parts) >= 3 and parts[-3] in SPLITS else LOOSE
    return split, LABEL_DIRS[parts[-2]]


def read_acl_tarball(path: Path) -> LocalText:
    """The official ``aclImdb_v1.tar.gz`` (or any tarball of the same layout), streamed."""
    found: dict[str, list[tuple[str, int]]] = {s: [] for s in (*SPLITS, LOOSE)}
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:
                key = _acl_key(member.name.split("/")) if member.isfile() else None
                if key is None:
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                text = clean_text(decode(handle.read(), f"{path}:{member.name}"))
                found[key[0]].append((text, key[1]))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a readable tar archive ({archive_problem(exc)})") from exc
    return _acl_result(found, str(path), "the archive")


def read_acl_folder(root: Path) -> LocalText:
    """An extracted ``aclImdb/`` folder (``{train,test}/{pos,neg}/*.txt``, either split alone),
    or a folder holding ``pos/`` and ``neg/`` directly."""
    found: dict[str, list[tuple[str, int]]] = {s: [] for s in (*SPLITS, LOOSE)}
    for split in (*SPLITS, LOOSE):
        for label_dir, label in LABEL_DIRS.items():
            folder = root / label_dir if split == LOOSE else root / split / label_dir
            if not folder.is_dir():
                continue
            for file in sorted(folder.glob("*.txt")):
                try:
                    data = file.read_bytes()
                except OSError as exc:
                    raise DataError(f"cannot read {file}: {exc.strerror or exc}") from exc
                found[split].append((clean_text(decode(data, str(file))), label))
    return _acl_result(found, str(root), str(root))


def _acl_result(found: dict[str, list[tuple[str, int]]], source: str, where: str) -> LocalText:
    train, test = _split(found["train"]), _split(found["test"])
    notes: list[str] = []
    if train is None and test is None:
        train = _split(found[LOOSE])
        if train is None:
            raise DataError(f"{where} holds no reviews (expected train/pos/*.txt and train/neg/*.txt "
                            "as in the official aclImdb layout, test/pos and test/neg, or pos/ and neg/)")
        notes.append(f"{source} is one labelled set (pos/, neg/): no test split was given, so only "
                     "validation metrics are reported")
    elif found[LOOSE]:
        notes.append(f"{source}: pos/ and neg/ folders outside train/ and test/ were ignored")
    if train is None:  # only test/: still usable for evaluation
        notes.append(f"{source} has no train/ reviews; only its test/ reviews were read")
    elif test is None:
        notes.append(f"{source} has no test/ reviews: no test split was given, so only "
                     "validation metrics are reported")
    return LocalText(train, test, source, notes)


def find_acl_root(path: Path) -> Path | None:
    """``path`` itself, or ``path/aclImdb``, when it has a train/ or test/ split folder, or
    ``pos/`` and ``neg/`` folders directly."""
    for candidate in (path, path / "aclImdb"):
        if any((candidate / s / d).is_dir() for s in SPLITS for d in LABEL_DIRS):
            return candidate
        if any((candidate / d).is_dir() for d in LABEL_DIRS):
            return candidate
    return None


def iter_archives(folder: Path) -> Iterator[Path]:
    """The official archive's name first, then any other ``aclImdb*.tar[.gz]`` in ``folder``."""
    official = folder / "aclImdb_v1.tar.gz"
    if official.is_file():
        yield official
    for candidate in sorted(folder.glob("aclImdb*.t*")):
        if candidate != official and candidate.is_file() and candidate.name.endswith((".tar", ".tar.gz", ".tgz")):
            yield candidate


# --- CSV ----------------------------------------------------------------------------------------

def parse_label(value: object, row: int, path: Path) -> int:
    key = str(value).strip().lower()
    if key.endswith(".0"):  # pandas reads 0/1 with a missing value as floats
        key = key[:-2]
    if key not in LABEL_WORDS:
        raise DataError(f"{path} row {row}: label {str(value)[:40]!r} is not one of 0/1 or "
                        "neg/pos (negative/positive); only two-class sentiment labels are supported")
    return LABEL_WORDS[key]


def read_csv(path: Path, text_col: str, label_col: str) -> LocalText:
    """A labelled CSV: one text column, one label column (0/1 or neg/pos, any case)."""
    import pandas as pd

    if not path.is_file():
        raise DataParameterError("csv", "{param} {path} does not exist" if not path.exists()
                                 else "{param} {path} is not a file", path=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise DataParameterError("csv", "{param} {path} is empty", path=path)
    text = decode(raw, str(path))
    try:
        import io

        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataParameterError("csv", "{param} {path} is not a readable CSV: {first}", path=path, first=first) from exc
    missing = [c for c in (text_col, label_col) if c not in frame.columns]
    if missing:
        raise DataParameterError("csv", "{param} {path} has no column {column} (columns: {columns}); use "
                                 "{text_col}/{label_col}", path=path, column=repr(missing[0]),
                                 columns=", ".join(map(str, frame.columns[:10])))
    if frame.empty:
        raise DataParameterError("csv", "{param} {path} has a header but no rows", path=path)
    pairs: list[tuple[str, int]] = []
    dropped = 0
    for i, (body, label) in enumerate(zip(frame[text_col], frame[label_col], strict=True), start=2):
        cleaned = clean_text(body)
        if not cleaned:
            dropped += 1
            continue
        pairs.append((cleaned, parse_label(label, i, path)))
    split = _split(pairs)
    if split is None:
        raise DataParameterError("csv", "{param} {path}: every row has an empty {column}", path=path,
                                 column=repr(text_col))
    notes = [f"{path} is one labelled set: no test split was given, so only validation "
             "metrics are reported"]
    if dropped:
        notes.append(f"{dropped} rows of {path} with empty text were skipped")
    return LocalText(split, None, str(path), notes)
