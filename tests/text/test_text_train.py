"""End to end: train on learnable fixtures and on real rt-snippets, then evaluate and predict;
the saved model reloads with safe_mode=True and takes raw strings."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .corpora import (
    NEGATIVE_SENTENCE,
    POSITIVE_SENTENCE,
    TINY_MODEL,
    make_corpus,
    write_acl,
    write_csv,
)

RUN_FILES = {"config.json", "history.csv", "metrics.json", "model.keras", "learning_curves.png",
             "confusion_matrix.png", "report.md", "status.json"}


def test_fixture_run_is_complete_and_learned(trained_run: Path) -> None:
    assert RUN_FILES <= {p.name for p in trained_run.iterdir()}
    assert json.loads((trained_run / "status.json").read_text())["status"] == "completed"
    config = json.loads((trained_run / "config.json").read_text())
    assert config["regularization"]["batchnorm"] is True  # the text app's default
    assert config["meta"]["class_names"] == ["negative", "positive"]
    assert config["meta"]["n_train"] == 400 and config["meta"]["n_test"] is None
    metrics = json.loads((trained_run / "metrics.json").read_text())
    val = metrics["validation"]
    assert val["n"] == 80 and val["accuracy"] >= 0.95 and val["roc_auc"] >= 0.98
    assert metrics["test"] is None
    assert 1 <= metrics["training"]["best_epoch"] <= metrics["training"]["epochs_run"] <= 12
    history = (trained_run / "history.csv").read_text().splitlines()
    assert len(history) == metrics["training"]["epochs_run"] + 1 and "val_auc" in history[0]


def test_predict_labels_clear_sentences(cli: Any, trained_run: Path) -> None:
    result = cli("text", "predict", str(trained_run), POSITIVE_SENTENCE, NEGATIVE_SENTENCE, "--json")
    assert result.code == 0, result.stderr
    preds = json.loads(result.stdout)["predictions"]
    assert [p["label"] for p in preds] == ["positive", "negative"]
    assert preds[0]["positive_probability"] > 0.8 and preds[1]["positive_probability"] < 0.2
    assert preds[0]["probability"] == pytest.approx(preds[0]["positive_probability"])
    assert preds[1]["probability"] == pytest.approx(1 - preds[1]["positive_probability"])
    human = cli("text", "predict", str(trained_run), POSITIVE_SENTENCE)
    assert human.code == 0 and human.stdout.startswith("positive ")
    assert "A wonderful, brilliant film" in human.stdout


def test_predict_from_file(cli: Any, trained_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "texts.txt"
    path.write_text(f"{NEGATIVE_SENTENCE}\n\n{POSITIVE_SENTENCE}<br />\n", encoding="utf-8")
    result = cli("text", "predict", str(trained_run), "--file", str(path), "--json")
    assert result.code == 0, result.stderr
    assert [p["label"] for p in json.loads(result.stdout)["predictions"]] == ["negative", "positive"]


def test_evaluate_on_a_csv(cli: Any, trained_run: Path, tmp_path: Path) -> None:
    rows = [(t, y) for t, y in make_corpus(60, seed=9)]
    result = cli("text", "evaluate", str(trained_run), "--csv", str(write_csv(tmp_path / "e.csv", rows)),
                 "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    m = out["metrics"]["test"]
    assert m["n"] == 60 and m["accuracy"] >= 0.9 and m["roc_auc"] >= 0.95
    assert set(m) >= {"precision", "recall", "f1", "loss", "majority_rate"}
    folder = Path(out["output_dir"])
    assert folder.parent == trained_run / "evaluations"
    assert {"metrics.json", "confusion_matrix.png", "status.json"} <= {p.name for p in folder.iterdir()}


def test_saved_model_reloads_safely_with_the_same_probabilities(tmp_path: Path) -> None:
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.task import fit_text_model, predict_probs
    from regapps.shared.modelio import load_model, save_model

    cfg = TextConfig.model_validate({
        "model": {"max_tokens": 300, "sequence_length": 24, "embedding_dim": 8, "hidden_units": 8,
                  "refit_all": False},
        "training": {"epochs": 2, "batch_size": 32}})
    pairs = make_corpus(120, seed=4)
    texts, y = [t for t, _ in pairs], np.array([y for _, y in pairs])
    x_val = ["zzzonlyinvalidation great film", "awful plot"]
    result = fit_text_model(cfg, texts[:100], y[:100], x_val + texts[102:], np.r_[1, 0, y[102:]])
    vocabulary = result["vectorizer"].words.get_vocabulary()
    assert "great" in vocabulary and any(" " in token for token in vocabulary)  # bigrams by default
    assert not any("zzzonlyinvalidation" in token for token in vocabulary)  # adapted on train only
    path = save_model(result["model"], tmp_path / "model.keras")
    reloaded = load_model(path)  # safe_mode=True
    probe = [POSITIVE_SENTENCE, NEGATIVE_SENTENCE, "never seen words here", "x"]
    np.testing.assert_allclose(predict_probs(reloaded, probe), predict_probs(result["model"], probe),
                               atol=1e-6)
    ids = result["vectorizer"](np.array(probe)).numpy()
    np.testing.assert_allclose(predict_probs(reloaded, probe),
                               result["classifier"].predict(ids, verbose=0).reshape(-1), atol=1e-5)


def test_conv_pooling_without_batchnorm_trains_on_acl_tarball(cli: Any, acl_tarball: Path,
                                                              tmp_path: Path) -> None:
    result = cli("text", "train", "--data-dir", str(acl_tarball), "--pooling", "conv", "--no-batchnorm",
                 *TINY_MODEL, "--epochs", "3", "--runs-dir", str(tmp_path / "runs"), "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["metrics"]["test"]["n"] == 40
    assert out["metrics"]["training"]["jit_compile"] is True  # measured faster for both poolings
    config = json.loads((Path(out["run_dir"]) / "config.json").read_text())
    assert config["model"]["pooling"] == "conv" and config["regularization"]["batchnorm"] is False


@pytest.mark.slow
def test_rt_snippets_end_to_end_beats_the_majority_class(cli: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = cli("text", "train", "--dataset", "rt-snippets", "--epochs", "5", "--runs-dir", str(runs),
                 "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    test = out["metrics"]["test"]
    assert test["n"] == 2075  # 20% of the 10,375 snippets outside the neutral band
    assert 0.5 <= test["majority_rate"] < 0.51
    assert test["accuracy"] >= test["majority_rate"] + 0.15, test
    assert any("230 snippets" in n for n in out["notes"])
    run = out["run_dir"]
    again = cli("text", "evaluate", run, "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["metrics"]["test"]["accuracy"] == pytest.approx(test["accuracy"], abs=1e-3)
    pred = cli("text", "predict", run, "A gorgeous, moving and wonderfully acted film.",
               "A dull, tedious and badly written mess.", "--json")
    assert [p["label"] for p in json.loads(pred.stdout)["predictions"]] == ["positive", "negative"]


def test_acl_folder_train_reports_test_metrics(cli: Any, tmp_path: Path) -> None:
    write_acl(tmp_path, {"train": 200, "test": 60})
    result = cli("text", "train", "--data-dir", str(tmp_path), *TINY_MODEL, "--runs-dir",
                 str(tmp_path / "runs"))
    assert result.code == 0, result.stderr
    summary = result.stdout.strip().splitlines()[-1]  # after Keras' per-epoch lines
    assert summary.startswith("text train: validation accuracy ")
    run = Path(summary.rsplit(" -> ", 1)[1])
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["n"] == 60 and test["accuracy"] >= 0.9
    evaluated = cli("text", "evaluate", str(run), "--data-dir", str(tmp_path / "aclImdb"), "--json")
    assert json.loads(evaluated.stdout)["metrics"]["test"]["accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)


def test_refit_all_trains_the_saved_model_on_every_text_for_the_best_epoch_count() -> None:
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.task import fit_text_model

    pairs = make_corpus(120, seed=4)
    texts, y = [t for t, _ in pairs], np.array([y for _, y in pairs])
    x_val = ["zzzonlyinvalidation great film", "awful plot"]
    results = {}
    for refit in (False, True):
        cfg = TextConfig.model_validate({"model": {"max_tokens": 20_000, "refit_all": refit},
                                         "training": {"epochs": 6, "batch_size": 32, "patience": 2,
                                                      "early_stopping": True, "restore_best": True}})
        results[refit] = fit_text_model(cfg, texts[:100], y[:100], x_val + texts[102:], np.r_[1, 0, y[102:]])
    first, final = results[False], results[True]
    assert first["refit"] is None
    assert not any("zzzonlyinvalidation" in t for t in first["vectorizer"].words.get_vocabulary())
    assert any("zzzonlyinvalidation" in t for t in final["vectorizer"].words.get_vocabulary())
    assert final["refit"]["texts"] == 120 and final["refit"]["epochs"] == final["fit"].best_epoch
    assert final["validation"] == first["validation"]  # the first fit's, the same seed
    # the nb default keeps every epoch (no restore of the best): the refit trains as many
    fixed = TextConfig.model_validate({"model": {"max_tokens": 20_000}, "training": {"epochs": 2, "batch_size": 32}})
    assert fixed.training.restore_best is False
    kept = fit_text_model(fixed, texts[:100], y[:100], x_val + texts[102:], np.r_[1, 0, y[102:]])
    assert kept["fit"].epochs_run == 2 and kept["refit"]["epochs"] == 2
