"""`regapps text cv` / `compare`: the vocabulary is adapted inside each training fold, a planted
bad learning rate ranks last, and compare trains every variant on the same split."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..helpers import assert_one_error, main_json
from ..text.corpora import make_corpus, write_csv

SMALL = ["--set", "model.max_tokens=500", "--set", "model.sequence_length=32",
         "--set", "model.embedding_dim=16", "--set", "model.hidden_units=16",
         "--set", "training.batch_size=32", "--set", "training.patience=3", "--epochs", "6"]


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    rows = [(t, "pos" if y else "neg") for t, y in make_corpus(240, 3)]
    rows.append(("zyzzyva zyzzyva only here " * 2, "pos"))  # a word found in one review only
    return write_csv(tmp_path / "reviews.csv", rows)


def test_vocabulary_is_adapted_inside_the_fold(reviews: Path) -> None:
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.cv import text_cv_task
    from regapps.apps.text.data import load_text_data
    from regapps.apps.text.model import adapt_vectorizer, build_vectorizer
    from regapps.shared.config import build_config

    cfg = build_config(TextConfig, flags={"data.csv": str(reviews), "model.max_tokens": 500})
    data = load_text_data("imdb", None, str(reviews))
    rare = next(i for i, text in enumerate(data.x_train) if "zyzzyva" in text)
    task = text_cv_task(data)
    train_idx, _ = next((tr, va) for tr, va in task.splits(3, 0) if rare in va)
    fold, full = build_vectorizer(cfg.model, 64), build_vectorizer(cfg.model, 64)
    adapt_vectorizer(fold, [data.x_train[i] for i in train_idx])
    adapt_vectorizer(full, data.x_train)
    assert "zyzzyva" in full.get_vocabulary() and "zyzzyva" not in fold.get_vocabulary()
    assert not np.array_equal(task.splits(3, 0)[0][1], task.splits(3, 1)[0][1])  # seeded folds


def test_a_fold_is_vectorized_once_and_trains_as_its_own_would(reviews: Path) -> None:
    """Trials on one fold share its vectorizer and ids (adapting per trial ran a long IMDB
    search out of memory); a trial on the shared ones scores as one that adapted its own, and
    another fold or other vectorizer settings get their own, one kept per fold."""
    import pickle

    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.cv import text_cv_task
    from regapps.apps.text.data import load_text_data
    from regapps.apps.text.task import TextFit
    from regapps.shared.config import build_config

    small = {"data.csv": str(reviews), "model.max_tokens": 500, "model.sequence_length": 32,
             "training.batch_size": 32, "training.epochs": 2, "training.patience": 50}
    data = load_text_data("imdb", None, str(reviews))
    task = text_cv_task(data)
    (tr0, va0), (tr1, va1) = task.splits(3, 0)[:2]
    slow, fast = (build_config(TextConfig, flags={**small, "optimizer.learning_rate": lr}) for lr in (1e-3, 2e-2))
    shared = [task.start(config, tr0, va0).advance(2).score for config in (slow, fast)]
    assert len(task.vectors) == 1
    x, y = data.x_train, data.y_train
    for config, score in zip((slow, fast), shared, strict=True):
        own = TextFit(config, [x[i] for i in tr0], y[tr0], [x[i] for i in va0], y[va0])
        own.trainer.train_until(2)
        assert own.validate()["accuracy"] == pytest.approx(score, abs=1e-9)
    task.start(slow, tr1, va1)
    assert len(task.vectors) == 2
    words = build_config(TextConfig, flags={**small, "model.ngrams": 1})
    first = task.vectors.get(slow, tr0, va0)
    assert task.vectors.get(words, tr0, va0).vocab_size < first.vocab_size  # its own, words only
    assert len(task.vectors) == 2  # one per fold, for the settings last asked
    assert len(pickle.loads(pickle.dumps(task.vectors))) == 0  # a worker builds its own
    task.release()
    assert len(task.vectors) == 0


@pytest.mark.slow
def test_text_cv_ranks_a_planted_bad_learning_rate_last(reviews: Path, tmp_path: Path) -> None:
    # the embedding model: the nb model's batch-normalized linear score is scale-invariant, and on
    # this corpus (whose words carry the label) it starts as a perfect naive-Bayes classifier, so
    # no learning rate is bad for it
    result = main_json("text", "cv", "--csv", str(reviews), "--grid", "learning_rate=1e-2,20",
                       "--set", "model.pooling=average", "--folds", "2", *SMALL, "--runs-dir", str(tmp_path), "--json")
    assert result["best"]["params"]["optimizer.learning_rate"] == 1e-2
    with open(Path(result["run_dir"]) / "summary.csv", newline="") as handle:
        ranked = sorted(csv.DictReader(handle), key=lambda r: int(r["rank"]))
    assert float(ranked[-1]["optimizer.learning_rate"]) == 20
    assert float(ranked[0]["mean"]) > 0.85 and result["test"] is None  # a CSV has no test split


@pytest.mark.slow
def test_text_compare_regularizers(reviews: Path, tmp_path: Path) -> None:
    result = main_json("text", "compare", "--csv", str(reviews), "--regularizers", "none,batchnorm",
                       "--set", "optimizer.learning_rate=0.01", *SMALL, "--runs-dir", str(tmp_path), "--json")
    assert [r["variant"] for r in result["results"]] == ["none", "batchnorm"]
    assert all(r["score"] > 0.8 for r in result["results"])


def test_text_compare_ablates_one_setting(reviews: Path, tmp_path: Path) -> None:
    """``--ablate key=v1,v2``: one variant per value, everything else as configured; the NB
    scaling pays on a corpus whose words carry the label."""
    result = main_json("text", "compare", "--csv", str(reviews), "--ablate", "model.nb_weighting=true,false",
                       *SMALL, "--runs-dir", str(tmp_path), "--json")
    assert [r["variant"] for r in result["results"]] == ["model.nb_weighting=true", "model.nb_weighting=false"]
    config = json.loads((Path(result["run_dir"]) / "config.json").read_text())
    assert config["kind"] == "settings"
    assert config["variants"] == {"model.nb_weighting=true": {"model.nb_weighting": True},
                                  "model.nb_weighting=false": {"model.nb_weighting": False}}
    assert all(0.5 < r["score"] <= 1 for r in result["results"])


def test_text_compare_ablate_bad_input(cli: Any, reviews: Path, tmp_path: Path) -> None:
    base = ("text", "compare", "--csv", str(reviews), "--runs-dir", str(tmp_path))
    assert_one_error(cli(*base, "--ablate", "model.min_count"), "--ablate expects key=v1,v2")
    assert_one_error(cli(*base, "--ablate", "model.min_count=0,2"), "greater than or equal to 1")
    assert_one_error(cli(*base, "--ablate", "model.min_count=2,2"), "--ablate lists 2 twice")
    assert_one_error(cli(*base, "--ablate", "model.min_count=2", "--optimizers", "adam"),
                     "exactly one of --optimizers, --regularizers or --ablate")
    assert not any(tmp_path.rglob("status.json"))  # refused before a run directory


def test_text_cv_bad_input(cli: Any, reviews: Path, tmp_path: Path) -> None:
    assert_one_error(cli("text", "cv", "--csv", str(reviews), "--grid", "dropout=1",
                         "--runs-dir", str(tmp_path)), "--grid regularization.dropout=1")
    assert_one_error(cli("text", "cv", "--csv", str(reviews), "--grid", "l2=0,1e-3", "--folds", "500",
                         "--runs-dir", str(tmp_path)), "larger than the smallest class")
