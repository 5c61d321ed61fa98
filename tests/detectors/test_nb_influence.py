"""Exact leave-one-out Naive Bayes: count arithmetic checked against brute-force refits."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from poisonlab import metrics
from poisonlab._errors import DataError, ParameterError
from poisonlab.attacks import Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import NaiveBayesInfluence
from poisonlab.detectors.nb_influence import leave_one_out_joint, leave_rows_out_joint, validation_influence


def refit_without(counts: np.ndarray, labels: np.ndarray, rows: list[int], alpha: float) -> MultinomialNB:
    keep = np.setdiff1d(np.arange(labels.size), rows)
    return MultinomialNB(alpha=alpha).fit(counts[keep], labels[keep])


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), alpha=st.sampled_from([0.1, 1.0, 2.5]), n_classes=st.sampled_from([2, 3]))
def test_leave_one_out_equals_refitting(seed: int, alpha: float, n_classes: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.8, size=(12, 9)).astype(float)
    labels = np.tile(np.arange(n_classes), 12 // n_classes + 1)[:12]  # every class at least twice
    loo = leave_one_out_joint(sp.csr_matrix(counts), labels, n_classes, alpha)
    for i in range(12):
        expected = refit_without(counts, labels, [i], alpha).predict_joint_log_proba(counts[i : i + 1])[0]
        np.testing.assert_allclose(loo[i], expected, atol=1e-9)


def test_validation_influence_equals_refitting() -> None:
    rng = np.random.default_rng(7)
    counts = rng.poisson(0.7, size=(24, 10)).astype(float)
    labels = rng.permutation(np.arange(24) % 3)
    held = rng.poisson(0.7, size=(11, 10)).astype(float)
    held_labels = rng.integers(0, 3, 11)

    def mean_log_likelihood(model: MultinomialNB) -> float:
        return float(model.predict_log_proba(held)[np.arange(11), held_labels].mean())

    base = mean_log_likelihood(MultinomialNB(alpha=0.5).fit(counts, labels))
    expected = [mean_log_likelihood(refit_without(counts, labels, [i], 0.5)) - base for i in range(24)]
    got = validation_influence(sp.csr_matrix(counts), labels, sp.csr_matrix(held), held_labels, 3, 0.5)
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_removing_a_group_equals_refitting_on_real_text(sms_sample: Dataset) -> None:
    counts = CountVectorizer().fit_transform(sms_sample.texts).astype(float)
    rows = [3, 50, 51, 400]
    expected = refit_without(counts.toarray(), sms_sample.labels, rows, 1.0).predict_joint_log_proba(
        counts[rows].toarray()
    )
    got = leave_rows_out_joint(counts, sms_sample.labels, rows, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_margin_flags_are_leave_one_out_mistakes(small_dataset: Dataset) -> None:
    counts = CountVectorizer().fit_transform(small_dataset.texts).toarray().astype(float)
    labels = small_dataset.labels.copy()
    labels[0] = 0  # a spam text labelled ham
    data = small_dataset.with_labels(labels)
    brute = np.array(
        [refit_without(counts, labels, [i], 1.0).predict(counts[i : i + 1])[0] for i in range(len(data))]
    )
    assert NaiveBayesInfluence().flag(data).tolist() == (brute != labels).tolist()
    assert int(np.argmax(NaiveBayesInfluence().score(data))) == 0


def test_beats_chance_on_a_targeted_flip(sms_flip: Poisoned) -> None:
    found = NaiveBayesInfluence().findings(sms_flip.poisoned)
    assert metrics.auroc(sms_flip.is_poison, found.scores) > 0.8
    assert metrics.detection_precision(sms_flip.is_poison, found.flags) > 0.5
    assert "trained on every other row says 'spam'" in found.reasons[int(found.flagged_rows()[0])]


def test_validation_kind_scores_every_row_and_needs_four_rows_per_class(sms_sample: Dataset) -> None:
    scores = NaiveBayesInfluence(kind="validation", n_validation=100).score(sms_sample)
    assert scores.shape == (len(sms_sample),) and np.all(np.isfinite(scores))
    few = Dataset(["aa bb", "bb cc", "cc dd", "dd ee", "ee ff"], [0, 0, 0, 1, 1], ("ham", "spam"))
    with pytest.raises(DataError, match="at least 4 rows of every class"):
        NaiveBayesInfluence(kind="validation").score(few)


def test_a_class_of_one_row_still_gets_finite_scores() -> None:
    data = Dataset(["win cash", "lunch", "see you", "call me"], [1, 0, 0, 0], ("ham", "spam"))
    scores = NaiveBayesInfluence().score(data)
    assert np.all(np.isfinite(scores)) and int(np.argmax(scores)) == 0


@pytest.mark.parametrize(("field", "value"), [("kind", "loss"), ("alpha", 0), ("n_validation", 0)])
def test_bad_parameters(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"'{field}' parameter of NaiveBayesInfluence"):
        NaiveBayesInfluence(**{field: value})  # type: ignore[arg-type]
