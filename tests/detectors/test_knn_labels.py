"""kNN label disagreement: Paudice et al.'s neighbourhood vote, optionally class-balanced."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors

from poisonlab import metrics
from poisonlab._errors import DataError, ParameterError
from poisonlab.attacks import Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import ConfidentLearning, KnnLabelDisagreement


def test_plain_vote_is_paudices_majority_rule(sms_sample: Dataset) -> None:
    """Unbalanced, uniform and two classes: flagged exactly when most of the k neighbours disagree."""
    k = 9  # odd: no ties
    detector = KnnLabelDisagreement(n_neighbors=k, weights="uniform", balanced=False)
    vectors = TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit_transform(sms_sample.texts)
    _, neighbours = NearestNeighbors(n_neighbors=k, metric="cosine").fit(vectors).kneighbors()
    disagree = (sms_sample.labels[neighbours] != sms_sample.labels[:, None]).sum(axis=1)
    assert detector.flag(sms_sample).tolist() == (disagree > k / 2).tolist()


def test_beats_chance_and_cleanlabs_default_on_a_targeted_flip(sms_flip: Poisoned) -> None:
    """The issue's goal, checked: F1 at least 0.05 above cleanlab's default flags."""
    data, truth = sms_flip.poisoned, sms_flip.is_poison
    found = KnnLabelDisagreement().findings(data)
    assert metrics.auroc(truth, found.scores) > 0.9
    cleanlab_f1 = metrics.detection_f1(truth, ConfidentLearning().flag(data))
    assert metrics.detection_f1(truth, found.flags) >= cleanlab_f1 + 0.05
    assert "nearest neighbours vote" in found.reasons[int(found.flagged_rows()[0])]


def test_balancing_helps_when_the_flip_empties_a_class(sms_flip: Poisoned) -> None:
    data, truth = sms_flip.poisoned, sms_flip.is_poison
    plain = KnnLabelDisagreement(balanced=False).score(data)
    balanced = KnnLabelDisagreement().score(data)
    assert metrics.auroc(truth, balanced) > metrics.auroc(truth, plain)


def test_identical_texts_are_neighbours_and_tiny_data_works() -> None:
    data = Dataset(["win cash", "win cash", "win cash", "lunch soon"], [1, 1, 0, 0], ("ham", "spam"))
    found = KnnLabelDisagreement(n_neighbors=2, balanced=False).findings(data)
    assert found.flags.tolist() == [False, False, True, False]
    one = Dataset(["hello"], [0], ("ham", "spam"))
    assert KnnLabelDisagreement().score(one).shape == (1,)


def test_texts_without_words_are_a_data_error() -> None:
    with pytest.raises(DataError, match="no text here has one"):
        KnnLabelDisagreement().score(Dataset(["!!", "?"], [0, 1], ("ham", "spam")))


@pytest.mark.parametrize(("field", "value"), [("n_neighbors", 0), ("weights", "gauss"), ("balanced", "yes")])
def test_bad_parameters(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"'{field}' parameter of KnnLabelDisagreement"):
        KnnLabelDisagreement(**{field: value})  # type: ignore[arg-type]
