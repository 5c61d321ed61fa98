"""Spectral signatures: per-class top-direction outliers, in the victim's weighted feature space."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Backdoor, Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import DETECTORS, SpectralSignature
from poisonlab.detectors.representation import represent
from poisonlab.detectors.spectral_signature import top_direction_scores


@pytest.fixture(scope="module")
def rare_backdoor(sms_split: tuple[Dataset, Dataset]) -> Poisoned:
    """1 % of the SMS training split: spam with the rare token 'cf' at a random place, labelled ham."""
    return Backdoor(trigger="cf", rate=0.01, position="random").apply(sms_split[0], random_state=0)


def test_registered() -> None:
    assert DETECTORS.get("spectral_signature") is SpectralSignature
    assert SpectralSignature.targets == ("backdoor",)


def test_weighted_space_finds_the_backdoor_and_the_plain_one_does_not(rare_backdoor: Poisoned) -> None:
    truth = rare_backdoor.is_poison
    weighted = SpectralSignature().score(rare_backdoor.poisoned)
    plain = SpectralSignature(representation="counts").score(rare_backdoor.poisoned)
    assert metrics.auroc(truth, weighted) > 0.95
    assert metrics.recall_at_fpr(truth, weighted, 0.005) >= 0.9
    assert metrics.auroc(truth, weighted) > metrics.auroc(truth, plain) + 0.2


def test_scores_average_one_within_each_class(rare_backdoor: Poisoned) -> None:
    data = rare_backdoor.poisoned
    scores = SpectralSignature().score(data)
    for label in (0, 1):
        assert scores[data.labels == label].mean() == pytest.approx(1.0)
    assert np.all(scores >= 0)


def test_same_seed_same_bytes(rare_backdoor: Poisoned) -> None:
    data = rare_backdoor.poisoned.take(np.arange(800))
    for detector in (SpectralSignature(), SpectralSignature(representation="tfidf_svd", svd_components=5)):
        first = detector.score(data)
        assert SpectralSignature(**detector.get_params()).score(data).tobytes() == first.tobytes()


def test_distinct_pairs_with_weights_score_as_the_repeated_rows(rare_backdoor: Poisoned) -> None:
    """Repeated rows are scored once, weighted: the scores of the plain per-row computation."""
    rows = np.r_[
        np.arange(1200), np.repeat(rare_backdoor.poison_rows, 2), np.repeat(np.arange(0, 1200, 5), 3)
    ]
    data = rare_backdoor.poisoned.take(rows)
    scores = SpectralSignature().score(data)
    each_row = represent(data, "weighted").rows()
    expected = np.zeros(len(data))
    for label in (0, 1):
        members = np.flatnonzero(data.labels == label)
        expected[members] = top_direction_scores(each_row[members])
    np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-9)


def test_weights_count_as_repeated_rows() -> None:
    rng = np.random.default_rng(2)
    rows = rng.normal(scale=0.1, size=(50, 4))
    rows[:3] += 2.0
    weights = rng.integers(1, 5, size=50)
    for given in (rows, sp.csr_matrix(rows)):
        weighted = top_direction_scores(given, weights=weights)
        repeated = top_direction_scores(np.repeat(rows, weights, axis=0))
        np.testing.assert_allclose(np.repeat(weighted, weights), repeated, rtol=1e-9)


def test_top_direction_finds_a_planted_outlier_in_dense_and_sparse_rows() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(scale=0.1, size=(200, 5))
    rows[17] += 4.0
    for given in (rows, sp.csr_matrix(rows)):
        scores = top_direction_scores(given)
        assert int(scores.argmax()) == 17
        assert scores.mean() == pytest.approx(1.0)


def test_top_direction_of_too_few_or_constant_rows_is_zero() -> None:
    assert top_direction_scores(np.ones((1, 4))).tolist() == [0.0]
    assert top_direction_scores(np.ones((3, 1))).tolist() == [0.0, 0.0, 0.0]
    assert top_direction_scores(np.ones((4, 3))).tolist() == [0.0] * 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"representation": "pixels"}, "representation"),
        ({"victim": "forest"}, "victim"),
        ({"svd_components": 0}, "svd_components"),
        ({"random_state": "0"}, "random_state"),
    ],
)
def test_bad_parameters(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{field}' parameter of SpectralSignature must be"):
        SpectralSignature(**params)  # type: ignore[arg-type]
