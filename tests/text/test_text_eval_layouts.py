"""``text evaluate --data-dir`` takes a labelled set in every shape users hold it: an aclImdb
folder or archive with or without train/, test/ alone, pos/ and neg/ directly, a folder that
holds an aclImdb archive of another name. Each is scored exactly as the model scores its texts."""
from __future__ import annotations

import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..helpers import assert_one_error, main_json
from .corpora import make_corpus, write_acl_pairs

PAIRS = make_corpus(30, seed=11)


def _tar(folder: Path, archive: Path, arcname: str) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return archive


def _test_only(tmp: Path) -> Path:
    return write_acl_pairs(tmp / "aclImdb", {"test": PAIRS})


def _train_and_test(tmp: Path) -> Path:
    return write_acl_pairs(tmp / "aclImdb", {"train": make_corpus(8, seed=2), "test": PAIRS})


def _pos_neg(tmp: Path) -> Path:
    root = write_acl_pairs(tmp / "mine", {"x": PAIRS}) / "x"
    return root


def _parent_of_acl(tmp: Path) -> Path:
    _test_only(tmp)
    return tmp


def _test_only_archive(tmp: Path) -> Path:
    return _tar(_test_only(tmp / "src"), tmp / "aclImdb_v1.tar.gz", "aclImdb")


def _loose_archive(tmp: Path) -> Path:
    return _tar(_pos_neg(tmp / "src"), tmp / "reviews.tar.gz", "reviews")


def _folder_with_renamed_archive(tmp: Path) -> Path:
    holder = tmp / "holder"
    holder.mkdir()
    _tar(_test_only(tmp / "src"), holder / "aclImdb-test.tar.gz", "aclImdb")
    return holder


LAYOUTS: dict[str, Callable[[Path], Path]] = {
    "aclImdb/test only": _test_only, "aclImdb/train + test (test scored)": _train_and_test,
    "pos/ and neg/ directly": _pos_neg, "a folder holding aclImdb/": _parent_of_acl,
    "official archive, test only": _test_only_archive, "archive of pos/ and neg/": _loose_archive,
    "folder holding aclImdb-test.tar.gz": _folder_with_renamed_archive,
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_labelled_layout_is_scored_on_its_reviews(trained_run: Path, tmp_path: Path, layout: str) -> None:
    from regapps.apps.text.formats import clean_text
    from regapps.apps.text.task import TEXT, predict_probs
    from regapps.shared.toolkit import load_trained_model, open_trained

    out = main_json("text", "evaluate", str(trained_run), "--data-dir", str(LAYOUTS[layout](tmp_path)), "--json")
    metrics = out["metrics"]["test"]
    model = load_trained_model(TEXT, open_trained(TEXT, trained_run))
    probs = predict_probs(model, [clean_text(t) for t, _ in PAIRS])
    y = np.array([label for _, label in PAIRS])
    assert metrics["n"] == len(PAIRS)
    assert metrics["accuracy"] == pytest.approx(float(((probs >= 0.5) == y).mean()), abs=1e-12)


def test_training_needs_training_reviews(cli: Any, tmp_path: Path) -> None:
    assert_one_error(cli("text", "train", "--data-dir", str(_test_only(tmp_path)), "--runs-dir",
                         str(tmp_path / "runs")), "no training reviews")
    assert not (tmp_path / "runs").exists()


def test_a_pos_neg_folder_trains_as_one_labelled_set(tmp_path: Path) -> None:
    from regapps.apps.text.data import load_text_data

    data = load_text_data("imdb", str(_pos_neg(tmp_path)))
    assert len(data.x_train) == len(PAIRS) and data.x_test is None
    assert sorted(data.y_train.tolist()) == sorted(label for _, label in PAIRS)


@pytest.mark.parametrize("make, fragment", [
    (lambda tmp: tmp, "is empty"),
    (lambda tmp: (tmp / "notes.md").write_text("hi") and tmp, "holds neither an aclImdb folder nor its archive"),
    (lambda tmp: (tmp / "pos").mkdir() or tmp, "holds no reviews"),
    (lambda tmp: (tmp / "x.tar.gz").write_bytes(b"not a tar") and tmp / "x.tar.gz", "not a readable tar archive"),
])
def test_bad_layouts_get_one_error_line(cli: Any, trained_run: Path, tmp_path: Path,
                                        make: Callable[[Path], Path], fragment: str) -> None:
    target = tmp_path / "case"
    target.mkdir()
    before = {p.name for p in (trained_run / "evaluations").glob("*")} if (trained_run / "evaluations").exists() else set()
    assert_one_error(cli("text", "evaluate", str(trained_run), "--data-dir", str(make(target))), fragment)
    after = {p.name for p in (trained_run / "evaluations").glob("*")} if (trained_run / "evaluations").exists() else set()
    assert after == before  # no half-written evaluation
    shutil.rmtree(target)
