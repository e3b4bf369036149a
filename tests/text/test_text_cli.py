"""The text CLI: help without TensorFlow, one-line errors with exit code 2 for bad input,
and a fail-fast offline IMDB download."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ..helpers import assert_one_error, modules_imported_by
from .corpora import TINY_MODEL, write_acl, write_csv


def test_help_and_argument_errors_do_not_import_tensorflow() -> None:
    loaded = modules_imported_by([['text', '--help'], ['text', 'train', '--help'], ['text', 'predict', '--help'], ['text', 'train', '--max-tokens', '0'], ['text', 'train', '--pooling', 'lstm']],
                                 ("tensorflow", "keras"))
    assert not any(loaded.values()), loaded


@pytest.mark.parametrize("args, fragments", [
    (["--max-tokens", "0"], ["model.max_tokens=0", "greater than or equal to 10"]),
    (["--sequence-length", "-5"], ["model.sequence_length=-5"]),
    (["--pooling", "lstm"], ["model.pooling='lstm'", "average", "conv"]),
    (["--ngrams", "7"], ["model.ngrams=7"]),
    (["--dataset", "sst2"], ["data.dataset='sst2'"]),
    (["--dropout", "1.5"], ["regularization.dropout=1.5"]),
    (["--set", "model.vocab=3"], ["unknown key 'model.vocab'", "max_tokens"]),
])
def test_bad_hyperparameters(cli: Any, args: list[str], fragments: list[str]) -> None:
    assert_one_error(cli("text", "train", *args), *fragments)


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], list[str]]]:
    empty_dir = tmp / "empty"
    empty_dir.mkdir()
    write_acl(tmp / "onlyneg", {"train": 6})
    for f in (tmp / "onlyneg" / "aclImdb" / "train" / "pos").iterdir():
        f.unlink()
    latin = tmp / "latin1.csv"
    latin.write_bytes("text,label\ncaf\xe9 cr\xe8me,1\n".encode("latin-1"))
    (tmp / "empty.csv").write_bytes(b"")
    return {
        "missing dir": (["--data-dir", str(tmp / "nope")], ["does not exist"]),
        "empty dir": (["--data-dir", str(empty_dir)], ["is empty"]),
        "one class": (["--data-dir", str(tmp / "onlyneg")], ["only negative examples"]),
        "missing csv": (["--csv", str(tmp / "nope.csv")], ["does not exist"]),
        "empty csv": (["--csv", str(tmp / "empty.csv")], ["is empty"]),
        "missing column": (["--csv", str(write_csv(tmp / "c.csv", [("x", 1)], ("review", "label")))],
                           ["no column 'text'", "--text-col"]),
        "three classes": (["--csv", str(write_csv(tmp / "three.csv", [("a", "pos"), ("b", "neutral")]))],
                          ["'neutral'", "two-class"]),
        "non-utf8": (["--csv", str(latin)], ["not UTF-8"]),
        "both sources": (["--csv", str(latin), "--data-dir", str(empty_dir)], ["not both"]),
    }


@pytest.mark.parametrize("case", ["missing dir", "empty dir", "one class", "missing csv", "empty csv",
                                  "missing column", "three classes", "non-utf8", "both sources"])
def test_bad_training_data(cli: Any, tmp_path: Path, case: str) -> None:
    args, fragments = _bad_inputs(tmp_path)[case]
    result = cli("text", "train", *args, "--runs-dir", str(tmp_path / "runs"))
    assert_one_error(result, *fragments)
    assert not (tmp_path / "runs").exists()  # rejected before a run directory is made


def test_offline_imdb_fails_fast_naming_the_alternatives(cli: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import regapps.apps.text.data as data

    monkeypatch.setattr(data, "IMDB_URL", "http://127.0.0.1:9/aclImdb_v1.tar.gz")  # refused at once
    start = time.perf_counter()
    result = cli("text", "train", "--runs-dir", str(tmp_path / "runs"))
    assert time.perf_counter() - start < 30
    assert_one_error(result, "cannot reach 127.0.0.1", "--data-dir", "--csv", "--dataset rt-snippets")


def test_run_dir_errors(cli: Any, tmp_path: Path) -> None:
    assert_one_error(cli("text", "predict", str(tmp_path / "nope"), "good"), "run directory not found")
    assert_one_error(cli("text", "evaluate", str(tmp_path)), "not a regapps run directory")
    fake = tmp_path / "imagerun"
    fake.mkdir()
    (fake / "status.json").write_text(json.dumps({"app": "image", "command": "train", "status": "completed"}))
    assert_one_error(cli("text", "predict", str(fake), "good"), "'image' app, not 'text'")
    (fake / "status.json").write_text(json.dumps({"app": "text", "command": "train", "status": "running"}))
    assert_one_error(cli("text", "predict", str(fake), "good"), "not a finished run")


def test_predict_input_errors(cli: Any, trained_run: Path, tmp_path: Path) -> None:
    assert_one_error(cli("text", "predict", str(trained_run), "great film", "  "), "text 2 is empty")
    assert_one_error(cli("text", "predict", str(trained_run)), "at least one text")
    assert_one_error(cli("text", "predict", str(trained_run), "--file", str(tmp_path / "no.txt")),
                    "does not exist")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n", encoding="utf-8")
    assert_one_error(cli("text", "predict", str(trained_run), "--file", str(blank)), "holds no text")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("tr\xe8s bien\n".encode("latin-1"))
    assert_one_error(cli("text", "predict", str(trained_run), "--file", str(latin)), "not UTF-8")


def test_evaluate_without_test_split_asks_for_data(cli: Any, trained_run: Path) -> None:
    assert_one_error(cli("text", "evaluate", str(trained_run)), "has no test split", "--data-dir", "--csv")


def test_train_without_test_split_reports_validation_only(cli: Any, tmp_path: Path) -> None:
    write_acl(tmp_path, {"train": 80})
    result = cli("text", "train", "--data-dir", str(tmp_path / "aclImdb"), *TINY_MODEL,
                 "--epochs", "2", "--runs-dir", str(tmp_path / "runs"), "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["metrics"]["test"] is None and out["metrics"]["validation"]["n"] == 16
    assert any("no test split was given" in n for n in out["notes"])
    assert "no test split was given" in result.stderr


def test_partial_overrides_keep_the_text_defaults(tmp_path: Path) -> None:
    from regapps.apps.text.config import TextConfig
    from regapps.shared.config import build_config

    cfg = build_config(TextConfig, flags={"training.seed": 3, "regularization.l2": 1e-4},
                       sets=["model.ngrams=1"])
    assert cfg.training.seed == 3 and cfg.training.epochs == 3 and cfg.training.patience == 2
    assert cfg.training.batch_size == 256 and cfg.schedule.name == "cosine"  # nb: few, quiet, decaying steps
    assert cfg.training.early_stopping is False and cfg.training.restore_best is False  # a fixed schedule
    assert cfg.model.nb_smoothing is None  # from the training texts' lengths
    assert cfg.regularization.batchnorm is True and cfg.regularization.dropout == 0.0
    assert cfg.regularization.l2 == 1e-4 and cfg.optimizer.learning_rate == 2e-2
    assert cfg.model.pooling == "nb" and cfg.model.ngrams == 1 and cfg.model.max_tokens == 1_000_000
    assert cfg.model.sequence_length is None  # from the training texts
    off = build_config(TextConfig, flags={"regularization.batchnorm": False})
    assert off.regularization.batchnorm is False and off.regularization.dropout == 0.0
    assert TextConfig.model_validate(cfg.to_dict()) == cfg  # a run's config.json reads back
    # the embedding poolings keep their own defaults (heavy dropout, a smaller step)
    emb = build_config(TextConfig, flags={"model.pooling": "average", "training.seed": 3})
    assert emb.regularization.dropout == 0.5 and emb.optimizer.learning_rate == 5e-4
    assert emb.training.epochs == 10 and emb.training.batch_size == 64 and emb.schedule.name == "constant"
    assert TextConfig.model_validate(emb.to_dict()) == emb
