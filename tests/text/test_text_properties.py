"""Property tests: any bytes given to the text loaders (labelled CSV, aclImdb tarball and folder,
the rt-snippets ground-truth file, predict --file) either load or raise DataError."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from regapps.apps.text.data import from_local, load_local, parse_snippets, read_text_file
from regapps.apps.text.formats import read_csv
from regapps.shared.errors import DataError

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

HEADERS = ["text", "label", "review", "text ", "label", ""]
CELLS = ["good film", "bad", "0", "1", "pos", "neg", "positive", "1.0", "", " ", "<br />", '"a, b"',
         '"unterminated', "\u00e9t\u00e9", "\x00", "nan", "2"]


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=4))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), max_size=len(header) + 1), max_size=10))
    return "\n".join(",".join(r) for r in [header, *rows]) + draw(st.sampled_from(["\n", "\r\n", ""]))


def _write(tmp_path_factory: object, name: str, data: bytes) -> Path:
    path = Path(tmp_path_factory.mktemp("text")) / name  # type: ignore[attr-defined]
    path.write_bytes(data)
    return path


@SETTINGS
@given(st.one_of(st.binary(max_size=1500), csv_text().map(str.encode),
                 csv_text().map(lambda t: t.encode("utf-16"))))
@example(b"text,label\n\"never closed,1\n")
@example(b"\xef\xbb\xbftext,label\ngood,1\n")  # a byte-order mark
def test_csv_bytes(tmp_path_factory: object, data: bytes) -> None:
    path = _write(tmp_path_factory, "reviews.csv", data)
    try:
        local = read_csv(path, "text", "label")
    except DataError:
        return
    assert local.train is not None and len(local.train.x) == len(local.train.y) > 0
    assert set(local.train.y.tolist()) <= {0, 1} and all(local.train.x)


@SETTINGS
@given(st.one_of(st.text(max_size=400), st.lists(
    st.tuples(st.sampled_from(["1", "x", ""]), st.sampled_from(["2.5", "-0.1", "0", "nan", "inf", "x", ""]),
              st.text(max_size=20)).map("\t".join), max_size=10).map("\n".join)))
def test_snippet_lines(text: str) -> None:
    try:
        texts, labels, neutral = parse_snippets(text)
    except DataError:
        return
    assert len(texts) == len(labels) and neutral >= 0 and set(labels.tolist()) <= {0, 1}


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MEMBER_NAMES = ["aclImdb/train/pos/1_9.txt", "aclImdb/train/neg/2_1.txt", "aclImdb/test/pos/3_8.txt",
                "train/neg/x.txt", "../train/pos/0.txt", "/abs/train/neg/1.txt", "aclImdb/train/unsup/0.txt"]


@SETTINGS
@given(st.one_of(st.binary(max_size=1500),
                 st.lists(st.tuples(st.sampled_from(MEMBER_NAMES), st.binary(max_size=60)), max_size=6).map(_tar),
                 st.lists(st.tuples(st.sampled_from(MEMBER_NAMES), st.binary(max_size=60)), min_size=1,
                          max_size=6).map(_tar).map(lambda b: b[: len(b) // 2])))
def test_acl_tarball_bytes(tmp_path_factory: object, data: bytes) -> None:
    path = _write(tmp_path_factory, "aclImdb_v1.tar.gz", data)
    try:
        data_ = from_local(load_local(path), require_train=True)
    except DataError:
        return
    assert len(data_.x_train) == len(data_.y_train) > 0 and set(data_.y_train.tolist()) == {0, 1}


@SETTINGS
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_acl_folder_review_bytes(tmp_path_factory: object, positive: bytes, negative: bytes) -> None:
    root = Path(tmp_path_factory.mktemp("acl")) / "aclImdb"  # type: ignore[attr-defined]
    for label, data in (("pos", positive), ("neg", negative)):
        (root / "train" / label).mkdir(parents=True)
        (root / "train" / label / "0_5.txt").write_bytes(data)
    try:
        local = load_local(root.parent)
    except DataError:
        return
    assert local.train is not None and sorted(local.train.y.tolist()) == [0, 1]


@SETTINGS
@given(st.binary(max_size=500))
def test_predict_file_bytes(tmp_path_factory: object, data: bytes) -> None:
    path = _write(tmp_path_factory, "texts.txt", data)
    try:
        lines = read_text_file(path)
    except DataError:
        return
    assert lines and all(line.strip() for line in lines)
