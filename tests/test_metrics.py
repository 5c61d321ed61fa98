"""Metrics: plain functions, checked against scikit-learn where it has the same metric."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from poisonlab import ParameterError
from poisonlab.metrics import (
    accuracy,
    asr_eligible,
    attack_success_rate,
    ham_loss,
    per_class_scores,
    spam_leak,
)

Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 0, 1, 0]
Y_PRED = [0, 1, 0, 0, 1, 0, 1, 1, 1, 0]


# --- accuracy -----------------------------------------------------------------------------------


def test_accuracy_known_value():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.7)
    assert accuracy([1, 1], [1, 1]) == 1.0
    assert accuracy([1, 1], [0, 0]) == 0.0


def test_accuracy_matches_sklearn():
    rng = np.random.default_rng(0)
    truth, pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert accuracy(truth, pred) == pytest.approx(skm.accuracy_score(truth, pred))


def test_accuracy_returns_a_python_float():
    assert type(accuracy(np.array([0, 1]), np.array([0, 1]))) is float


def test_accuracy_of_nothing_is_nan():
    assert math.isnan(accuracy([], []))


@pytest.mark.parametrize(
    ("truth", "pred"),
    [([0, 1, 1, 1], [1]), ([0, 1], [0, 1, 1]), ([[0, 1]], [[0, 1]]), (0, 0)],
)
def test_accuracy_refuses_arrays_of_different_lengths(truth, pred):
    with pytest.raises(ParameterError, match="one value per message"):
        accuracy(truth, pred)


# --- ham loss and spam leak ---------------------------------------------------------------------


def test_ham_loss_and_spam_leak_known_values():
    # 6 ham: 2 classified spam; 4 spam: 1 classified ham
    assert ham_loss(Y_TRUE, Y_PRED) == pytest.approx(2 / 6)
    assert spam_leak(Y_TRUE, Y_PRED) == pytest.approx(1 / 4)


def test_ham_loss_and_spam_leak_match_the_confusion_matrix():
    rng = np.random.default_rng(1)
    truth, pred = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    (tn, fp), (fn, tp) = skm.confusion_matrix(truth, pred, labels=[0, 1])
    assert ham_loss(truth, pred) == pytest.approx(fp / (tn + fp))
    assert spam_leak(truth, pred) == pytest.approx(fn / (fn + tp))
    # ham loss is the false positive rate = 1 - recall of ham; spam leak = 1 - recall of spam
    recall = skm.recall_score(truth, pred, average=None, labels=[0, 1])
    assert ham_loss(truth, pred) == pytest.approx(1 - recall[0])
    assert spam_leak(truth, pred) == pytest.approx(1 - recall[1])


def test_ham_loss_with_other_class_indices():
    truth = [2, 2, 0, 0, 1]
    pred = [0, 2, 2, 1, 1]
    # ham=2, spam=0: of the two 2s, one went to 0
    assert ham_loss(truth, pred, ham=2, spam=0) == pytest.approx(0.5)
    # spam=0, ham=2: of the two 0s, one went to 2 (the other went to 1, which is neither)
    assert spam_leak(truth, pred, ham=2, spam=0) == pytest.approx(0.5)
    assert spam_leak(truth, pred, ham=1, spam=0) == pytest.approx(0.5)


def test_ham_loss_nan_without_ham_and_spam_leak_nan_without_spam():
    assert math.isnan(ham_loss([1, 1], [0, 1]))
    assert math.isnan(spam_leak([0, 0], [0, 1]))
    assert spam_leak([0, 1], [0, 1]) == 0.0


def test_rates_refuse_arrays_of_different_lengths():
    with pytest.raises(ParameterError):
        ham_loss([0, 0, 1], [0, 1])
    with pytest.raises(ParameterError):
        spam_leak([0, 0, 1], [1])


# --- per-class scores ---------------------------------------------------------------------------


def test_per_class_scores_match_sklearn():
    rng = np.random.default_rng(2)
    truth, pred = rng.integers(0, 3, 150), rng.integers(0, 3, 150)
    scores = per_class_scores(truth, pred, 3)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(truth, pred, labels=[0, 1, 2])
    assert scores.shape == (3, 3)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores[:, 0], precision)
    np.testing.assert_allclose(scores[:, 1], recall)
    np.testing.assert_allclose(scores[:, 2], f1)


def test_per_class_scores_known_values():
    scores = per_class_scores([0, 0, 1, 1], [0, 1, 1, 1], 2)
    np.testing.assert_allclose(scores, [[1.0, 0.5, 2 / 3], [2 / 3, 1.0, 0.8]])


def test_per_class_scores_for_a_class_never_predicted_or_present():
    scores = per_class_scores([0, 0, 1], [0, 0, 0], 3)
    np.testing.assert_allclose(scores[1], [0.0, 0.0, 0.0])  # never predicted: precision 0, no warning
    np.testing.assert_allclose(scores[2], [0.0, 0.0, 0.0])  # absent altogether
    np.testing.assert_allclose(scores[0], [2 / 3, 1.0, 0.8])


# --- attack success -----------------------------------------------------------------------------


def test_asr_eligible_counts_source_messages_the_clean_model_keeps():
    truth = [1, 1, 1, 0, 0]
    clean_triggered = [1, 0, 1, 1, 0]
    assert asr_eligible(truth, clean_triggered, source=1).tolist() == [True, False, True, False, False]
    assert asr_eligible(truth, clean_triggered, source=0).tolist() == [False, False, False, False, True]
    assert asr_eligible(truth, clean_triggered, source=1).dtype == bool


def test_attack_success_rate_known_value():
    eligible = np.array([True, True, True, False, True])
    pred = [0, 0, 1, 0, 1]
    assert attack_success_rate(pred, eligible, target=0) == pytest.approx(2 / 4)
    assert attack_success_rate(pred, eligible, target=1) == pytest.approx(2 / 4)


def test_attack_success_rate_ignores_ineligible_rows():
    pred = [0, 0, 0, 0]
    assert attack_success_rate(pred, [True, False, False, False], target=0) == 1.0
    assert attack_success_rate([1, 0, 0, 0], [True, False, False, False], target=0) == 0.0


def test_attack_success_rate_is_nan_when_nothing_is_eligible():
    assert math.isnan(attack_success_rate([0, 1], [False, False], target=0))
    assert math.isnan(attack_success_rate([], [], target=0))
    truth, clean = [0, 0], [0, 0]
    assert math.isnan(attack_success_rate([0, 0], asr_eligible(truth, clean, source=1), target=0))


def test_attack_success_rate_takes_0_1_masks():
    assert attack_success_rate([0, 1, 0], [1, 0, 1], target=0) == 1.0


def test_asr_functions_refuse_arrays_of_different_lengths():
    with pytest.raises(ParameterError):
        asr_eligible([1, 1, 0], [1], source=1)
    with pytest.raises(ParameterError):
        attack_success_rate([0, 1], [True, False, True], target=0)


def test_asr_end_to_end_is_the_share_of_flipped_eligible_messages():
    truth = np.array([1, 1, 1, 1, 0, 0])
    clean_triggered = np.array([1, 1, 1, 0, 0, 1])  # the 4th spam is already missed
    poisoned_triggered = np.array([0, 0, 1, 0, 0, 0])
    eligible = asr_eligible(truth, clean_triggered, source=1)
    assert eligible.sum() == 3
    assert attack_success_rate(poisoned_triggered, eligible, target=0) == pytest.approx(2 / 3)


# --- properties ---------------------------------------------------------------------------------


@st.composite
def label_pairs(draw, n_classes=3):
    n = draw(st.integers(1, 50))
    labels = st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n)
    return np.array(draw(labels)), np.array(draw(labels))


def _in_unit_interval_or_nan(value):
    return math.isnan(value) or 0.0 <= value <= 1.0


@settings(max_examples=100, deadline=None)
@given(pair=label_pairs())
def test_rates_are_in_the_unit_interval(pair):
    truth, pred = pair
    assert 0.0 <= accuracy(truth, pred) <= 1.0
    assert accuracy(truth, pred) == pytest.approx(skm.accuracy_score(truth, pred))
    assert _in_unit_interval_or_nan(ham_loss(truth, pred))
    assert _in_unit_interval_or_nan(spam_leak(truth, pred))
    assert math.isnan(ham_loss(truth, pred)) == (not np.any(truth == 0))
    assert math.isnan(spam_leak(truth, pred)) == (not np.any(truth == 1))
    scores = per_class_scores(truth, pred, 3)
    assert np.all((scores >= 0) & (scores <= 1))


@settings(max_examples=100, deadline=None)
@given(pair=label_pairs(2), clean=st.data(), source=st.integers(0, 1))
def test_asr_is_in_the_unit_interval_and_nan_exactly_when_nothing_is_eligible(pair, clean, source):
    truth, poisoned = pair
    clean_pred = np.array(clean.draw(st.lists(st.integers(0, 1), min_size=len(truth), max_size=len(truth))))
    eligible = asr_eligible(truth, clean_pred, source=source)
    assert np.all(truth[eligible] == source)
    assert np.all(clean_pred[eligible] == source)
    asr = attack_success_rate(poisoned, eligible, target=1 - source)
    assert math.isnan(asr) == (not eligible.any())
    assert _in_unit_interval_or_nan(asr)
    if eligible.any():
        assert asr == pytest.approx(np.mean(poisoned[eligible] == 1 - source))
