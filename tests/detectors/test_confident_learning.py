"""Confident learning: cleanlab's own functions on out-of-fold probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Poisoned
from poisonlab.detectors import ConfidentLearning
from poisonlab.detectors.out_of_fold import out_of_fold_proba


@pytest.mark.parametrize(
    ("method", "filter_by"),
    [
        ("self_confidence", "prune_by_noise_rate"),
        ("normalized_margin", "both"),
        ("confidence_weighted_entropy", "prune_by_class"),
    ],
)
def test_scores_and_flags_are_cleanlabs(sms_flip: Poisoned, method: str, filter_by: str) -> None:
    data = sms_flip.poisoned
    detector = ConfidentLearning(method=method, filter_by=filter_by)
    proba = out_of_fold_proba(data, "nb", n_splits=5, random_state=0)
    quality = get_label_quality_scores(data.labels, proba, method=method)
    np.testing.assert_array_equal(detector.score(data), 1.0 - quality)
    expected = find_label_issues(data.labels, proba, filter_by=filter_by)
    assert detector.flag(data).tolist() == expected.tolist()
    found = detector.findings(data)
    assert found.flags.tolist() == expected.tolist()
    assert [bool(reason) for reason in found.reasons] == expected.tolist()


def test_beats_chance_on_a_targeted_flip(sms_flip: Poisoned) -> None:
    found = ConfidentLearning().findings(sms_flip.poisoned)
    assert metrics.auroc(sms_flip.is_poison, found.scores) > 0.75
    assert metrics.detection_precision(sms_flip.is_poison, found.flags) > 0.4
    flagged = found.flagged_rows()
    assert "but a nb model that never saw it gives" in found.reasons[int(flagged[0])]


@pytest.mark.parametrize(
    ("field", "value"),
    [("victim", "forest"), ("features", "bert"), ("n_splits", 1), ("method", "loss"), ("filter_by", "x")],
)
def test_bad_parameters(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"'{field}' parameter of ConfidentLearning"):
        ConfidentLearning(**{field: value})  # type: ignore[arg-type]
