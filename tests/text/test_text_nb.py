"""The default text model's parts: naive-Bayes log-count ratios, the NB-scaled bag of n-grams,
and the sequence length that follows the training texts."""
from __future__ import annotations

import numpy as np
import pytest


def test_nb_ratios_count_each_text_once_and_leave_padding_and_oov_out() -> None:
    from regapps.apps.text.model import nb_log_ratios

    # vocabulary: 0 pad, 1 OOV, 2 "good" (both positives, once repeated), 3 "bad" (the negative)
    ids = np.array([[2, 2, 2, 0], [2, 1, 0, 0], [3, 1, 0, 0]], dtype=np.int32)
    ratios = nb_log_ratios(ids, np.array([1, 1, 0]), vocab_size=4, alpha=1.0)
    p = np.array([1 + 2, 1 + 0], dtype=float)  # smoothed positive text counts of ids 2 and 3
    q = np.array([1 + 0, 1 + 1], dtype=float)
    expected = np.r_[0.0, 0.0, np.log(p / p.sum()) - np.log(q / q.sum())]
    np.testing.assert_allclose(ratios, expected, rtol=1e-6)
    assert ratios[2] > 0 > ratios[3]
    pruned = nb_log_ratios(ids, np.array([1, 1, 0]), vocab_size=4, alpha=1.0, min_count=2)
    np.testing.assert_allclose(pruned, [0.0, 0.0, expected[2], 0.0], rtol=1e-6)  # "bad": one text


def test_bag_scores_the_set_of_ngrams_scaled_by_their_ratios() -> None:
    from regapps.shared.layers import NaiveBayesBag

    bag = NaiveBayesBag(5)
    bag.build((None, 6))
    bag.set_ratios(np.array([9.0, 9.0, 0.5, -2.0, 3.0], dtype=np.float32))  # pad and OOV ignored
    ids = np.array([[2, 2, 3, 0, 1, 0], [4, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=np.int32)
    np.testing.assert_allclose(np.asarray(bag(ids)).reshape(-1), [0.5 - 2.0, 3.0, 0.0], rtol=1e-6)  # naive Bayes
    bag.weights_.assign(np.array([0.0, 0.0, 1.0, 0.0, 0.0], dtype=np.float32))  # id 2's weight: 1 + 1
    scores = np.asarray(bag(ids)).reshape(-1)
    np.testing.assert_allclose(scores, [0.5 * 2.0 - 2.0, 3.0, 0.0], rtol=1e-6)
    plain = NaiveBayesBag(5, weighting=False)
    plain.build((None, 6))
    plain.set_ratios(np.array([9.0, 9.0, 0.5, -2.0, 0.0], dtype=np.float32))  # id 4 left out
    assert 0 < np.abs(np.asarray(plain.weights_)).max() <= 0.05  # no naive-Bayes prior: small random weights
    plain.weights_.assign(np.ones(5, dtype=np.float32))
    np.testing.assert_allclose(np.asarray(plain(ids)).reshape(-1), [2.0, 0.0, 0.0])  # a binary bag


def test_bag_penalty_pulls_toward_naive_bayes_not_toward_zero() -> None:
    """Under BatchNormalization a penalty toward zero weights would only rescale the score; the
    bag's penalty acts on the weights' distance from the naive-Bayes start instead."""
    import keras
    from regapps.shared.layers import NaiveBayesBag

    bag = NaiveBayesBag(4, regularizer=keras.regularizers.L2(0.5))
    bag.build((None, 3))
    bag(np.array([[2, 3, 0]], dtype=np.int32))
    assert float(sum(bag.losses)) == 0.0  # at the naive-Bayes start: nothing to pay
    bag.weights_.assign(np.array([0.0, 0.0, 2.0, -1.0], dtype=np.float32))  # weights 3 and 0
    bag(np.array([[2, 3, 0]], dtype=np.int32))
    assert float(sum(bag.losses)) == pytest.approx(0.5 * (4.0 + 1.0))
    plain = NaiveBayesBag(4, weighting=False, regularizer=keras.regularizers.L2(0.5))
    plain.build((None, 3))
    plain.weights_.assign(np.array([0.0, 0.0, 2.0, -1.0], dtype=np.float32))
    plain(np.array([[2, 3, 0]], dtype=np.int32))
    assert float(sum(plain.losses)) == pytest.approx(0.5 * 5.0)  # no prior: toward zero
    assert NaiveBayesBag.from_config(bag.get_config()).prior == 1.0 and plain.get_config()["prior"] == 0.0
    older = {k: v for k, v in bag.get_config().items() if k != "prior"}  # saved before the prior: whole weights
    assert NaiveBayesBag.from_config(older).prior == 0.0


def test_nb_smoothing_follows_the_texts_lengths() -> None:
    from regapps.apps.text.config import TextModelConfig
    from regapps.apps.text.model import distinct_ngrams, nb_smoothing_for

    ids = np.array([[2, 3, 3, 4, 5, 0, 1, 1], [6, 7, 8, 9, 10, 11, 12, 13]], dtype=np.int32)
    assert distinct_ngrams(ids).tolist() == [4, 8]  # repeats, padding and OOV not counted
    assert nb_smoothing_for(TextModelConfig(), ids) == pytest.approx(np.sqrt(6.0), abs=0.005)
    long = np.arange(2, 2 + 400, dtype=np.int32)[None, :]
    assert nb_smoothing_for(TextModelConfig(), long) == pytest.approx(20.0)  # longer texts: more shrink
    assert nb_smoothing_for(TextModelConfig(nb_smoothing=5.0), long) == 5.0  # a given value is kept
    assert nb_smoothing_for(TextModelConfig(), np.zeros((3, 4), dtype=np.int32)) == 1.0  # never below add-one


def test_bag_input_dropout_keeps_the_expected_score() -> None:
    from regapps.shared.layers import NaiveBayesBag

    bag = NaiveBayesBag(1002, rate=0.5, seed=0)
    bag.build((None, 1000))
    ids = np.arange(2, 1002, dtype=np.int32)[None, :]
    dropped = np.asarray(bag(ids, training=True)).item()
    assert np.asarray(bag(ids)).item() == pytest.approx(1000.0)  # inference: every n-gram
    assert dropped != pytest.approx(1000.0) and dropped == pytest.approx(1000.0, rel=0.1)  # scaled 1/(1-rate)


def test_sequence_length_follows_the_training_texts() -> None:
    from regapps.apps.text.config import TextModelConfig
    from regapps.apps.text.model import sequence_length_for

    texts = ["word " * 10] * 99 + ["word " * 500]
    assert sequence_length_for(TextModelConfig(ngrams=1), texts) >= 10  # the 99th percentile text
    short, long = (sequence_length_for(TextModelConfig(ngrams=3), [("w " * n)] * 50) for n in (20, 200))
    assert short == 64 and long == 600  # 57 and 597 1..3-grams, up to a multiple of 8
    assert short % 8 == 0 and long % 8 == 0
    assert sequence_length_for(TextModelConfig(sequence_length=17), texts) == 17  # a given length is kept
