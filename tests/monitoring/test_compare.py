"""Paired bootstrap comparison of two models: point estimates are scikit-learn's, intervals behave."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from poisonlab import DataError, ParameterError
from poisonlab.monitoring.compare import compare_models

CLASSES = ("ham", "spam")


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    truth = (rng.random(800) < 0.15).astype(int)
    reference = np.where(rng.random(800) < 0.03, 1 - truth, truth)
    candidate = reference.copy()
    spam = np.flatnonzero(truth == 1)
    candidate[spam[: spam.size // 3]] = 0  # the candidate lets a third of the spam through
    return truth, reference, candidate


def test_point_estimates_are_scikit_learns(predictions):
    truth, reference, candidate = predictions
    rows = compare_models(truth, reference, candidate, CLASSES, n_resamples=200)
    assert [r.label for r in rows] == [
        "accuracy",
        "precision of ham",
        "recall of ham",
        "f1 of ham",
        "precision of spam",
        "recall of spam",
        "f1 of spam",
    ]
    for model, side in ((reference, "reference"), (candidate, "candidate")):
        p, r, f, _ = precision_recall_fscore_support(truth, model, labels=[0, 1], zero_division=0)
        got = {row.label: getattr(row, side) for row in rows}
        assert got["accuracy"] == pytest.approx(accuracy_score(truth, model))
        for i, name in enumerate(CLASSES):
            assert got[f"precision of {name}"] == pytest.approx(p[i])
            assert got[f"recall of {name}"] == pytest.approx(r[i])
            assert got[f"f1 of {name}"] == pytest.approx(f[i])
    for row in rows:
        assert row.delta == pytest.approx(row.candidate - row.reference)


def test_intervals_hold_the_estimates_and_flag_the_real_loss(predictions):
    truth, reference, candidate = predictions
    rows = {r.label: r for r in compare_models(truth, reference, candidate, CLASSES)}
    for row in rows.values():
        assert row.reference_ci[0] <= row.reference <= row.reference_ci[1]
        assert row.candidate_ci[0] <= row.candidate <= row.candidate_ci[1]
        assert row.delta_ci[0] <= row.delta <= row.delta_ci[1]
    assert rows["recall of spam"].delta_ci[1] < 0
    assert rows["recall of ham"].delta_ci[0] >= 0  # fewer spam calls never hurt ham recall


def test_identical_models_differ_by_exactly_zero(predictions):
    truth, reference, _ = predictions
    for row in compare_models(truth, reference, reference, CLASSES, n_resamples=100):
        assert row.delta == 0 and row.delta_ci == (0.0, 0.0)


def test_seeded_and_reproducible(predictions):
    truth, reference, candidate = predictions
    a = compare_models(truth, reference, candidate, CLASSES, n_resamples=300, random_state=1)
    b = compare_models(truth, reference, candidate, CLASSES, n_resamples=300, random_state=1)
    assert [r.to_dict() for r in a] == [r.to_dict() for r in b]


def test_bad_input():
    with pytest.raises(DataError, match="flat arrays of one length"):
        compare_models([0, 1], [0, 1, 1], [0, 1], CLASSES)
    with pytest.raises(DataError, match="at least two messages"):
        compare_models([0], [0], [0], CLASSES)
    with pytest.raises(ParameterError, match="'confidence' parameter"):
        compare_models([0, 1], [0, 1], [0, 1], CLASSES, confidence=95.0)
