"""Activation clustering: per-class 2-means, poison as the small cluster."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Backdoor, Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import DETECTORS, ActivationClustering
from poisonlab.detectors.activation_clustering import small_cluster_scores
from poisonlab.detectors.representation import represent


@pytest.fixture(scope="module")
def rare_backdoor(sms_split: tuple[Dataset, Dataset]) -> Poisoned:
    """1 % of the SMS training split: spam with the rare token 'cf' at a random place, labelled ham."""
    return Backdoor(trigger="cf", rate=0.01, position="random").apply(sms_split[0], random_state=0)


def test_registered() -> None:
    assert DETECTORS.get("activation_clustering") is ActivationClustering
    assert ActivationClustering.targets == ("backdoor",)


def test_finds_a_rare_token_backdoor(rare_backdoor: Poisoned) -> None:
    scores = ActivationClustering().score(rare_backdoor.poisoned)
    assert metrics.auroc(rare_backdoor.is_poison, scores) > 0.95
    assert metrics.recall_at_fpr(rare_backdoor.is_poison, scores, 0.005) >= 0.9
    assert np.all((scores >= -1) & (scores <= 1))


def test_same_seed_same_bytes(rare_backdoor: Poisoned) -> None:
    data = rare_backdoor.poisoned.take(np.arange(800))
    detector = ActivationClustering(n_components=3, random_state=4)
    first = detector.score(data)
    assert ActivationClustering(**detector.get_params()).score(data).tobytes() == first.tobytes()


def test_distinct_pairs_with_weights_score_as_the_repeated_rows(rare_backdoor: Poisoned) -> None:
    """Repeated rows are clustered once, weighted: the scores of the plain per-row computation."""
    rows = np.r_[
        np.arange(1200), np.repeat(rare_backdoor.poison_rows, 2), np.repeat(np.arange(0, 1200, 5), 3)
    ]
    data = rare_backdoor.poisoned.take(rows)
    scores = ActivationClustering().score(data)
    each_row = represent(data, "weighted").rows()
    expected = np.zeros(len(data))
    for label in (0, 1):
        members = np.flatnonzero(data.labels == label)
        expected[members] = small_cluster_scores(each_row[members])
    np.testing.assert_allclose(scores, expected, atol=1e-9)


def test_weights_count_as_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(scale=0.1, size=(60, 3))
    rows[:4] += 3.0
    weights = rng.integers(1, 4, size=60)
    for given in (rows, sp.csr_matrix(rows)):
        weighted = small_cluster_scores(given, weights=weights)
        repeated = small_cluster_scores(np.repeat(rows, weights, axis=0))
        np.testing.assert_allclose(np.repeat(weighted, weights), repeated, atol=1e-9)
    # two distinct rows repeated: one component, the rarer row the small cluster
    two = small_cluster_scores(np.array([[0.0, 0.0], [1.0, 1.0]]), weights=[5, 1])
    assert two[1] > 0 > two[0]


def test_small_cluster_scores_positive_only_inside_the_small_cluster() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(scale=0.1, size=(100, 4))
    rows[:6] += 3.0
    for given in (rows, sp.csr_matrix(rows)):
        scores = small_cluster_scores(given)
        assert np.all(scores[:6] > 0.5) and np.all(scores[6:] < 0)


def test_a_smaller_cluster_scores_higher() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(scale=0.1, size=(100, 3))
    few, many = base.copy(), base.copy()
    few[:5] += 3.0
    many[:40] += 3.0
    assert small_cluster_scores(few)[:5].min() > small_cluster_scores(many)[:40].max()


def test_too_few_or_identical_rows_score_zero() -> None:
    assert small_cluster_scores(np.ones((2, 3))).tolist() == [0.0, 0.0]
    assert small_cluster_scores(np.ones((5, 3))).tolist() == [0.0] * 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"representation": "pixels"}, "representation"),
        ({"victim": "forest"}, "victim"),
        ({"n_components": 0}, "n_components"),
        ({"svd_components": -1}, "svd_components"),
        ({"random_state": 1.5}, "random_state"),
    ],
)
def test_bad_parameters(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{field}' parameter of ActivationClustering must be"):
        ActivationClustering(**params)  # type: ignore[arg-type]
