"""Exact leave-one-out Naive Bayes: count arithmetic checked against brute-force refits."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import MultinomialNB

from poisonlab import metrics
from poisonlab._errors import DataError, ParameterError
from poisonlab.attacks import Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import NaiveBayesInfluence, nb_influence
from poisonlab.detectors.nb_influence import (
    KINDS,
    CountModel,
    leave_groups_out_joint,
    leave_one_out_joint,
    leave_rows_out_joint,
    validation_influence,
)


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


def resampled(data: Dataset, size: int, seed: int) -> Dataset:
    """Rows drawn with replacement, some relabelled: repeated texts, some under both labels."""
    rng = np.random.default_rng(seed)
    drawn = data.take(rng.choice(len(data), size=size, replace=True))
    labels = drawn.labels.copy()
    flip = rng.random(size) < 0.05
    labels[flip] = 1 - labels[flip]
    return drawn.with_labels(labels)


def test_multiplicity_stands_for_repeated_rows() -> None:
    rng = np.random.default_rng(5)
    counts = rng.poisson(0.8, size=(10, 7)).astype(float)
    labels = np.arange(10) % 3
    times = rng.integers(1, 4, size=10)
    repeated = np.repeat(np.arange(10), times)
    expanded = sp.csr_matrix(counts[repeated])
    loo = leave_one_out_joint(sp.csr_matrix(counts), labels, 3, 0.5, multiplicity=times)
    np.testing.assert_allclose(
        loo[repeated], leave_one_out_joint(expanded, labels[repeated], 3, 0.5), rtol=1e-12
    )
    held = rng.poisson(0.8, size=(6, 7)).astype(float)
    held_labels, held_times = np.arange(6) % 3, rng.integers(1, 4, size=6)
    held_repeated = np.repeat(np.arange(6), held_times)
    got = validation_influence(
        sp.csr_matrix(counts),
        labels,
        sp.csr_matrix(held),
        held_labels,
        3,
        0.5,
        multiplicity=times,
        validation_multiplicity=held_times,
    )
    expected = validation_influence(
        expanded, labels[repeated], sp.csr_matrix(held[held_repeated]), held_labels[held_repeated], 3, 0.5
    )
    np.testing.assert_allclose(got[repeated], expected, rtol=1e-9, atol=1e-15)


def test_scores_per_distinct_text_and_label_equal_the_row_by_row_computation(sms_sample: Dataset) -> None:
    data = resampled(sms_sample, 1200, seed=2)
    assert len(set(data.texts)) < len(data)
    counts = CountVectorizer().fit_transform(data.texts).astype(float)
    loo = leave_one_out_joint(counts, data.labels, 2)  # one row at a time, repeats and all
    expected = loo[np.arange(len(data)), 1 - data.labels] - loo[np.arange(len(data)), data.labels]
    found = NaiveBayesInfluence().findings(data)
    np.testing.assert_allclose(found.scores, expected, rtol=1e-12)
    assert found.flags.tolist() == (expected > 0).tolist()
    assert all(bool(reason) == flag for reason, flag in zip(found.reasons, found.flags.tolist()))


def test_validation_scores_per_distinct_pair_equal_the_row_by_row_computation(sms_sample: Dataset) -> None:
    data = resampled(sms_sample, 900, seed=4)
    detector = NaiveBayesInfluence(kind="validation", n_validation=150, random_state=6)
    counts = CountVectorizer().fit_transform(data.texts).astype(float).tocsr()
    rng = np.random.default_rng(6)
    expected = np.empty(len(data))
    for train, held in StratifiedKFold(n_splits=2, shuffle=True, random_state=6).split(counts, data.labels):
        held = np.sort(rng.choice(held, size=150, replace=False))
        expected[train] = validation_influence(
            counts[train], data.labels[train], counts[held], data.labels[held], 2, 1.0
        )
    np.testing.assert_allclose(detector.score(data), expected, rtol=1e-9, atol=1e-15)


def subtract_and_refit(counts: sp.csr_matrix, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The definition: the full model's counts minus the group's, asked about the group's rows."""
    full = CountModel.fit(counts, labels, 2, 1.0)
    removed = CountModel.fit(counts[rows], labels[rows], 2, 1.0)
    rest = CountModel(
        full.feature_counts - removed.feature_counts, full.class_counts - removed.class_counts, 1.0
    )
    return rest.joint_log_likelihood(counts[rows])


def test_many_groups_judged_together_equal_one_at_a_time(
    sms_sample: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nb_influence, "_GROUP_ROWS", 7)  # many batches, groups across their edges
    counts = CountVectorizer().fit_transform(sms_sample.texts).astype(float).tocsr()
    rng = np.random.default_rng(3)
    groups = [rng.choice(len(sms_sample), size=int(rng.integers(1, 12)), replace=False) for _ in range(40)]
    groups += [np.array([5, 9]), np.array([9, 12]), np.array([], dtype=np.int64), np.array([3, 50, 51, 400])]
    judged = list(leave_groups_out_joint(counts, sms_sample.labels, iter(groups), 2))
    assert len(judged) == len(groups)
    for rows, joint in zip(groups, judged):
        np.testing.assert_allclose(joint, subtract_and_refit(counts, sms_sample.labels, rows), rtol=1e-12)
    dense = counts.toarray()
    for rows, joint in zip(groups[:5], judged):
        refit = refit_without(dense, sms_sample.labels, list(rows), 1.0)
        np.testing.assert_allclose(joint, refit.predict_joint_log_proba(dense[rows]), rtol=1e-10)


def test_texts_without_words_are_a_data_error() -> None:
    data = Dataset(["!", "?", "a", "b"], [0, 0, 1, 1], ("ham", "spam"))
    for kind in KINDS:
        with pytest.raises(DataError, match="needs texts with words"):
            NaiveBayesInfluence(kind=kind).score(data)
