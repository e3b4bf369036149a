"""Accuracy of the text app's default model, with and without BatchNormalization, against a
scikit-learn TF-IDF (words + bigrams) + logistic-regression baseline, on the real IMDB training
reviews (``$REGAPPS_BENCH_DATA/aclImdb-train.tar.gz``; the official test split is not used).

20% of the 25,000 reviews are held out (stratified, seed 0) and used for scoring only; the
regapps models take their own validation split from the other 80%, exactly as ``regapps text
train`` does, and early-stop on it.

    REGAPPS_BENCH_DATA=../shared/data python bench/text_accuracy.py [--epochs N]
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_data, print_table  # noqa: E402


def load_reviews() -> tuple[list[str], np.ndarray]:
    from regapps.apps.text.formats import read_acl_tarball

    root = bench_data()
    if root is None:
        raise SystemExit("set REGAPPS_BENCH_DATA to the folder holding aclImdb-train.tar.gz")
    local = read_acl_tarball(root / "aclImdb-train.tar.gz")
    assert local.train is not None
    return local.train.x, local.train.y


def tfidf_baseline(x_tr: list[str], y_tr: np.ndarray, x_te: list[str], y_te: np.ndarray,
                   c: float) -> dict[str, object]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform(x_tr)
    clf = LogisticRegression(C=c, max_iter=2000).fit(features, y_tr)
    accuracy = float((clf.predict(vectorizer.transform(x_te)) == y_te).mean())
    return {"model": f"TF-IDF 1-2 grams + LogisticRegression(C={c:g})", "accuracy": accuracy,
            "seconds": time.perf_counter() - start, "best_epoch": "", "epochs": ""}


def regapps_model(x_tr: list[str], y_tr: np.ndarray, x_te: list[str], y_te: np.ndarray,
                  batchnorm: bool, epochs: int | None, seed: int) -> dict[str, object]:
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.data import split_validation, vectorize
    from regapps.apps.text.task import fit_text_model, score_ids

    start = time.perf_counter()
    training: dict[str, object] = {"seed": seed, **({"epochs": epochs} if epochs else {})}
    config = TextConfig.model_validate({"regularization": {"batchnorm": batchnorm},
                                        "training": training})  # the rest: the app's defaults
    t = config.training
    a_tr, a_val, b_tr, b_val = split_validation(x_tr, y_tr, t.validation_split, t.seed)
    result = fit_text_model(config, a_tr, b_tr, a_val, b_val, verbose=0)
    metrics, _ = score_ids(result["classifier"], vectorize(result["vectorizer"], x_te), y_te)
    fit = result["fit"]
    return {"model": f"regapps default, BatchNorm {'on' if batchnorm else 'off'}",
            "accuracy": metrics["accuracy"], "seconds": time.perf_counter() - start,
            "best_epoch": fit.best_epoch, "epochs": fit.epochs_run,
            "history": [round(v, 4) for v in fit.history.get("val_accuracy", [])]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="override the default max epochs")
    parser.add_argument("--seed", type=int, default=42, help="training seed of the regapps models")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the baseline")
    args = parser.parse_args()
    from regapps.shared.environment import import_tensorflow

    logging.basicConfig(level=logging.WARNING)
    import_tensorflow()  # quietly, before anything else imports it
    from sklearn.model_selection import train_test_split

    start = time.perf_counter()
    texts, labels = load_reviews()
    x_tr, x_te, y_tr, y_te = train_test_split(texts, labels, test_size=0.2, stratify=labels,
                                              random_state=0)
    print(f"IMDB train reviews: {len(texts)} ({time.perf_counter() - start:.1f} s to read); "
          f"fit on {len(x_tr)}, score on {len(x_te)} held out; {os.cpu_count()} CPUs", flush=True)
    rows = [tfidf_baseline(x_tr, y_tr, x_te, y_te, args.c)]
    print(f"  done: {rows[-1]['model']}", flush=True)
    for batchnorm in (True, False):
        rows.append(regapps_model(x_tr, y_tr, x_te, y_te, batchnorm, args.epochs, args.seed))
        print(f"  done: {rows[-1]['model']} (validation accuracy by epoch: {rows[-1]['history']})",
              flush=True)
    print()
    for r in rows:
        r["accuracy"] = round(float(r["accuracy"]), 4)  # type: ignore[arg-type]
        r["wall s"] = round(float(r.pop("seconds")), 1)  # type: ignore[arg-type]
        r["epochs to best"], r["epochs run"] = r.pop("best_epoch"), r.pop("epochs")
    print_table(rows, ["model", "accuracy", "wall s", "epochs to best", "epochs run"])
    base, bn, no_bn = (float(r["accuracy"]) for r in rows)  # type: ignore[arg-type]
    print(f"\ndefault (BatchNorm) - baseline: {100 * (bn - base):+.2f} points; "
          f"BatchNorm on - off: {100 * (bn - no_bn):+.2f} points; epochs to best "
          f"{rows[1]['epochs to best']} (on) vs {rows[2]['epochs to best']} (off)")


if __name__ == "__main__":
    main()
