"""Detection metrics: flags and scores against the is_poison truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score

from poisonlab import metrics
from poisonlab._errors import ParameterError

pairs = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(0, 6).map(float), min_size=n, max_size=n),
    )
)


@settings(max_examples=60)
@given(pairs)
def test_flag_metrics_match_scikit_learn(pair: tuple[list[bool], list[float]]) -> None:
    truth, values = pair
    flags = [v > 3 for v in values]
    if any(flags):
        assert metrics.detection_precision(truth, flags) == pytest.approx(precision_score(truth, flags))
    else:
        assert math.isnan(metrics.detection_precision(truth, flags))
    if any(truth):
        assert metrics.detection_recall(truth, flags) == pytest.approx(recall_score(truth, flags))
    if any(truth) or any(flags):
        assert metrics.detection_f1(truth, flags) == pytest.approx(f1_score(truth, flags))
    else:
        assert math.isnan(metrics.detection_f1(truth, flags))


@settings(max_examples=60)
@given(pairs, st.sampled_from([0.0, 0.05, 0.2, 0.5, 1.0]))
def test_score_metrics_match_scikit_learn_and_brute_force(
    pair: tuple[list[bool], list[float]], max_fpr: float
) -> None:
    truth, values = np.array(pair[0]), np.array(pair[1])
    if truth.all() or not truth.any():
        assert math.isnan(metrics.auroc(truth, values))
        assert math.isnan(metrics.average_precision(truth, values))
        assert math.isnan(metrics.recall_at_fpr(truth, values, max_fpr))
        return
    assert metrics.auroc(truth, values) == pytest.approx(roc_auc_score(truth, values))
    assert metrics.average_precision(truth, values) == pytest.approx(average_precision_score(truth, values))
    best = 0.0  # every threshold "score >= t", and flagging nothing
    for t in np.unique(values):
        flags = values >= t
        if flags[~truth].mean() <= max_fpr:
            best = max(best, flags[truth].mean())
    assert metrics.recall_at_fpr(truth, values, max_fpr) == pytest.approx(best)


def test_bad_input() -> None:
    with pytest.raises(ParameterError, match="one length"):
        metrics.auroc([True, False], [0.1])
    with pytest.raises(ParameterError, match="finite"):
        metrics.auroc([True, False], [0.1, float("nan")])
    with pytest.raises(ParameterError, match="'max_fpr' parameter of recall_at_fpr"):
        metrics.recall_at_fpr([True, False], [0.1, 0.2], 1.5)
