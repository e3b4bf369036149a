"""A saved text model is a contract: what ``train`` saves, a fresh process loads and predicts
identically, for any Unicode text and at real size (DESIGN.md section 8)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..fresh import run_fresh
from .corpora import AWKWARD, make_corpus, make_large_corpus, write_acl_pairs, write_csv

# Full Unicode (hypothesis leaves out lone surrogates, which have no UTF-8), weighted toward
# the characters that broke the vocabulary file, plus whitespace-only and empty texts.
CHARS = st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from([c for c in AWKWARD if len(c) == 1]), st.sampled_from(list("ab .!")))
TEXTS = st.one_of(st.text(CHARS, max_size=60), st.sampled_from(["", " ", "\u2028\x85", "!!!", "x" * 3000]))
NOT_IN_A_TERM = {"Cc", "Zs", "Zl", "Zp"}


def _subprocess_python(code: str, *args: str, timeout: float = 300) -> str:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXTS, min_size=1, max_size=12))
def test_every_learned_term_survives_the_saved_vocabulary_file(corpus: list[str]) -> None:
    """Keras writes the vocabulary one term a line and reads it back with ``splitlines``: no term
    may hold a character that splits a line, and none may be empty or hold a stray space."""
    from regapps.apps.text.config import TextModelConfig
    from regapps.apps.text.model import adapt_vectorizer, build_vectorizer

    cfg = TextModelConfig(max_tokens=10_000, sequence_length=8)
    vectorizer = build_vectorizer(cfg, 8)
    adapt_vectorizer(vectorizer, corpus)
    vocabulary = vectorizer.get_vocabulary()
    assert "\n".join(vocabulary).splitlines() == vocabulary
    assert len(set(vocabulary)) == len(vocabulary)
    for term in vocabulary[2:]:  # after the padding and OOV entries
        words = term.split(" ")
        assert 1 <= len(words) <= cfg.ngrams and all(words), repr(term)
        assert not any(c.isspace() or unicodedata.category(c) in NOT_IN_A_TERM
                       for word in words for c in word), repr(term)


LOAD_AND_PREDICT = """
import json, sys
from pathlib import Path
from regapps.apps.text.model import custom_objects
from regapps.apps.text.task import predict_probs
from regapps.shared.modelio import load_model
cases = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
out = [predict_probs(load_model(Path(c["model"]), custom_objects=custom_objects()), c["texts"]).tolist()
       for c in cases]
print(json.dumps(out))
"""


def test_any_unicode_corpus_reloads_in_a_fresh_process_with_the_same_predictions(tmp_path: Path) -> None:
    """Tiny models trained on generated corpora of full Unicode (line and paragraph separators,
    controls, empty and whitespace-only texts, very long words), saved, then loaded and run in
    one new process: the same probabilities, none NaN."""
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.task import fit_text_model, predict_probs
    from regapps.shared.modelio import save_model

    cfg = TextConfig.model_validate({
        "model": {"max_tokens": 2000, "sequence_length": 24, "embedding_dim": 8, "hidden_units": 8,
                  "jit_compile": False},  # XLA's compile costs more than these tiny fits
        "training": {"epochs": 1, "batch_size": 16}})
    cases: list[dict[str, Any]] = []

    @settings(max_examples=4, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(TEXTS, min_size=12, max_size=40))
    def train_and_save(noise: list[str]) -> None:
        texts = [n + " " + t for n, (t, _) in zip(noise, make_corpus(len(noise), seed=len(cases)))]
        texts[0] = noise[0]  # a text that may hold no token at all
        y = np.arange(len(texts)) % 2
        result = fit_text_model(cfg, texts[4:], y[4:], texts[:4], y[:4])
        probe = [*noise, *texts, "!!!", "", "\u2028", "\x85 great \x85"]
        path = save_model(result["model"], tmp_path / f"model-{len(cases)}.keras")
        cases.append({"model": str(path), "texts": probe, "want": predict_probs(result["model"], probe).tolist()})

    train_and_save()
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps([{k: c[k] for k in ("model", "texts")} for c in cases]), encoding="utf-8")
    got = json.loads(_subprocess_python(LOAD_AND_PREDICT, str(spec)))
    assert len(got) == len(cases) >= 1
    for fresh, case in zip(got, cases):
        assert np.isfinite(fresh).all()
        np.testing.assert_allclose(fresh, case["want"], atol=1e-6)


@pytest.mark.slow
def test_a_model_trained_at_real_scale_evaluates_and_predicts_in_fresh_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """25,000 generated reviews (a vocabulary past 100,000 words and bigrams, the awkward
    characters of scraped text): train one epoch here, then ``evaluate`` on a test-only folder
    and ``predict --file`` in a new process give this process's numbers."""
    from regapps.apps.text import task
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.formats import clean_text
    from regapps.shared import modelio

    pairs = make_large_corpus(25_000, seed=3)
    train_pairs, test_pairs = pairs[:20_000], pairs[20_000:]
    data = write_acl_pairs(tmp_path / "aclImdb", {"train": train_pairs, "test": test_pairs})
    test_only = write_acl_pairs(tmp_path / "held-out", {"test": test_pairs})
    saved: list[Any] = []
    real_save = modelio.save_model  # the toolkit writes model.keras through it
    monkeypatch.setattr(modelio, "save_model", lambda model, path: (saved.append(model), real_save(model, path))[1])
    cfg = TextConfig.model_validate({"data": {"data_dir": str(data)}, "training": {"epochs": 1},
                                     "model": {"max_tokens": 200_000, "sequence_length": 300}})
    result = task.train(cfg, runs_dir=tmp_path / "runs", verbose=0)
    run = Path(result.run_dir)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["training"]["vocabulary_size"] > 100_000
    assert metrics["training"]["characters"] is None  # reviews this long: words only
    assert metrics["test"]["accuracy"] > 0.6  # one epoch learns the sentiment words

    probe = [clean_text(t) for t, _ in test_pairs[:200]]
    probe = [t for t in probe if t]
    lines = tmp_path / "probe.txt"
    lines.write_text("\n".join(probe), encoding="utf-8")
    evaluate, predict = run_fresh([["text", "evaluate", str(run), "--data-dir", str(test_only), "--json"],
                                   ["text", "predict", str(run), "--file", str(lines), "--json"]],
                                  cache=tmp_path / "cache", cwd=tmp_path, timeout=900)
    evaluated = evaluate.json()["metrics"]["test"]
    assert evaluated["n"] == metrics["test"]["n"] == len(test_pairs)
    for key in ("accuracy", "precision", "recall", "f1"):
        assert evaluated[key] == pytest.approx(metrics["test"][key], abs=1e-9), key
    for key in ("loss", "roc_auc"):
        assert evaluated[key] == pytest.approx(metrics["test"][key], abs=1e-6), key

    predicted = predict.json()["predictions"]
    assert [p["input"] for p in predicted] == probe
    np.testing.assert_allclose([p["positive_probability"] for p in predicted],
                               task.predict_probs(saved[-1], probe), atol=1e-6)
    assert metrics["training"]["refit_all"]["texts"] == 20_000  # the saved model saw every training text
    size_mb = (run / "model.keras").stat().st_size / 2**20
    weights_mb = metrics["training"]["vocabulary_size"] * 2 * 4 / 2**20  # the nb model: a ratio and a weight a term
    assert size_mb < 1.5 * weights_mb + 10  # the weights and vocabulary, no optimizer slots


@pytest.mark.slow
def test_a_short_text_model_with_character_ngrams_reloads_in_fresh_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 generated one-sentence reviews (rt-snippets' size; the awkward characters of scraped
    text) as a CSV, trained with the defaults, which add the character bag for texts this short:
    ``evaluate --csv`` on held-out ones and ``predict --file`` in a new process give this
    process's numbers."""
    from regapps.apps.text import task
    from regapps.apps.text.config import TextConfig
    from regapps.apps.text.formats import clean_text
    from regapps.shared import modelio
    from regapps.shared.metrics import binary_metrics

    pairs = make_large_corpus(10_000, seed=4, lexicon=20_000, words_per_text=(5, 40), long_every=997)
    train_csv = write_csv(tmp_path / "train.csv", pairs[:8_000])
    held_csv = write_csv(tmp_path / "held.csv", pairs[8_000:])
    saved: list[Any] = []
    real_save = modelio.save_model
    monkeypatch.setattr(modelio, "save_model", lambda model, path: (saved.append(model), real_save(model, path))[1])
    cfg = TextConfig.model_validate({"data": {"csv": str(train_csv)}})
    run = Path(task.train(cfg, runs_dir=tmp_path / "runs", verbose=0).run_dir)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    chars = metrics["training"]["characters"]
    assert chars["ngrams"] == "2..5" and chars["vocabulary_size"] > 100_000
    assert "character 2..5-grams" in (run / "report.md").read_text(encoding="utf-8")

    held = [(clean_text(t), y) for t, y in pairs[8_000:]]
    want = binary_metrics(np.array([y for _, y in held]), task.predict_probs(saved[-1], [t for t, _ in held]),
                          task.CLASS_NAMES)[0]
    assert want["accuracy"] > 0.6
    probe = [t for t, _ in held[:300] if t]
    lines = tmp_path / "probe.txt"
    lines.write_text("\n".join(probe), encoding="utf-8")
    evaluate, predict = run_fresh([["text", "evaluate", str(run), "--csv", str(held_csv), "--json"],
                                   ["text", "predict", str(run), "--file", str(lines), "--json"]],
                                  cache=tmp_path / "cache", cwd=tmp_path, timeout=900)
    evaluated = evaluate.json()["metrics"]["test"]
    assert evaluated["n"] == len(held)
    for key in ("accuracy", "precision", "recall", "f1"):
        assert evaluated[key] == pytest.approx(want[key], abs=1e-9), key
    predicted = predict.json()["predictions"]
    assert [p["input"] for p in predicted] == probe
    np.testing.assert_allclose([p["positive_probability"] for p in predicted],
                               task.predict_probs(saved[-1], probe), atol=1e-6)
