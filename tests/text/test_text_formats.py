"""Loaders on tiny generated corpora: aclImdb folder and tarball, CSV variants, snippets."""
from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
from regapps.apps.text.data import (
    load_local,
    load_text_data,
    parse_snippets,
    split_validation,
)
from regapps.apps.text.formats import clean_text, read_csv
from regapps.shared.errors import DataError

from .corpora import make_corpus, write_acl, write_csv


def test_clean_text_removes_html_breaks_and_extra_space() -> None:
    assert clean_text("Good.<br /><br />Really <BR>good<br/>!\r\n") == "Good. Really good !"


def test_acl_folder_reads_both_splits_with_labels(acl_dir: Path) -> None:
    local = load_local(acl_dir.parent)  # a folder holding aclImdb/ is found too
    assert local.train is not None and local.test is not None
    assert len(local.train.x) == 60 and len(local.test.x) == 40
    assert local.train.y.sum() == 30 and local.test.y.sum() == 20
    assert not any("<br" in t for t in local.train.x)
    expected = {clean_text(t): y for t, y in make_corpus(60, 0)}
    assert all(expected[t] == y for t, y in zip(local.train.x, local.train.y))
    assert local.notes == []


def test_tarball_matches_extracted_folder(acl_dir: Path, acl_tarball: Path) -> None:
    from_tar, from_dir = load_local(acl_tarball), load_local(acl_dir)
    assert from_tar.train is not None and from_dir.train is not None
    assert sorted(zip(from_tar.train.x, from_tar.train.y.tolist())) == \
        sorted(zip(from_dir.train.x, from_dir.train.y.tolist()))
    assert from_tar.test is not None and len(from_tar.test.x) == 40


def test_folder_holding_the_tarball(acl_tarball: Path) -> None:
    local = load_local(acl_tarball.parent)
    assert local.train is not None and len(local.train.x) == 60


def test_tarball_ignores_unsup_and_readme(tmp_path: Path) -> None:
    base = write_acl(tmp_path / "src", {"train": 10})
    (base / "train" / "unsup").mkdir()
    (base / "train" / "unsup" / "0_0.txt").write_text("unlabelled", encoding="utf-8")
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(base, arcname="aclImdb")
    local = load_local(archive)
    assert local.train is not None and len(local.train.x) == 10 and local.test is None


def test_train_only_folder_notes_missing_test_split(tmp_path: Path) -> None:
    write_acl(tmp_path, {"train": 20})
    data = load_text_data("imdb", str(tmp_path / "aclImdb"))
    assert data.x_test is None and len(data.x_train) == 20
    assert any("no test split was given" in n for n in data.notes)


@pytest.mark.parametrize("labels", [("0", "1"), ("neg", "pos"), ("NEG", "Pos"), ("negative", "POSITIVE")])
def test_csv_label_spellings(tmp_path: Path, labels: tuple[str, str]) -> None:
    rows = [(t, labels[y]) for t, y in make_corpus(10)]
    local = read_csv(write_csv(tmp_path / "r.csv", rows), "text", "label")
    assert local.train is not None
    assert local.train.y.tolist() == [y for _, y in make_corpus(10)]
    assert any("no test split" in n for n in local.notes)


def test_csv_custom_columns_and_empty_rows(tmp_path: Path) -> None:
    rows = [("fine film", 1), ("", 0), ("poor film", 0)]
    local = read_csv(write_csv(tmp_path / "r.csv", rows, ("review", "sentiment")), "review", "sentiment")
    assert local.train is not None and local.train.x == ["fine film", "poor film"]
    assert local.train.y.tolist() == [1, 0]
    assert any("1 rows" in n and "empty" in n for n in local.notes)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"text,label\n", "no rows"),
    (b"body,label\nnice,1\n", "no column 'text'"),
    (b"text,label\nnice,1\nmeh,2\n", "'2' is not one of 0/1"),
    (b"text,label\nnice,maybe\n", "'maybe'"),
    (b"text,label\nna\xefve \xff,1\n", "not UTF-8"),
])
def test_csv_bad_inputs(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_csv(path, "text", "label")


def test_one_class_csv_cannot_train(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [("good", 1), ("fine", 1), ("nice", 1)])
    with pytest.raises(DataError, match="only positive examples"):
        load_text_data("imdb", csv=str(path))


def test_non_utf8_review_names_the_file(tmp_path: Path) -> None:
    base = write_acl(tmp_path, {"train": 4})
    bad = base / "train" / "pos" / "99_9.txt"
    bad.write_bytes(b"caf\xe9 latte")
    with pytest.raises(DataError, match="99_9.txt is not UTF-8"):
        load_local(base)


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: p, "is empty"),
    (lambda p: (p / "x.txt").write_text("x") and p, "neither an aclImdb folder"),
])
def test_bad_data_dirs(tmp_path: Path, make: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_local(make(tmp_path))  # type: ignore[operator]


def test_corrupt_tarball(tmp_path: Path) -> None:
    path = tmp_path / "aclImdb_v1.tar.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="not a readable tar archive"):
        load_local(path)


def test_snippets_label_by_sign_and_drop_the_neutral_band() -> None:
    text = ("1\t2.5\tA <br />fine film.\r\n2\t-3.1\tA dreadful one.\r\n"
            "3\t0.1\tIt exists.\r\n4\t-0.24\tHmm.\r\n5\t0.25\tMildly nice.\r\n")
    texts, labels, neutral = parse_snippets(text, band=0.25)
    assert texts == ["A fine film.", "A dreadful one.", "Mildly nice."]
    assert labels.tolist() == [1, 0, 1] and neutral == 2
    with pytest.raises(DataError, match="line 1"):
        parse_snippets("1\tnot-a-number\ttext\n")


def test_validation_split_is_stratified_and_seeded() -> None:
    texts = [f"t{i}" for i in range(100)]
    y = np.array([0] * 70 + [1] * 30)
    a = split_validation(texts, y, 0.2, seed=3)
    b = split_validation(texts, y, 0.2, seed=3)
    assert a[1] == b[1] and len(a[1]) == 20 and int(a[3].sum()) == 6
    assert not set(a[0]) & set(a[1])
