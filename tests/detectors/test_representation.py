"""Representations: the victim's weighted features, plain counts and TF-IDF + SVD."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

from poisonlab._errors import DataError, ParameterError
from poisonlab.data import Dataset
from poisonlab.detectors.representation import (
    REPRESENTATIONS,
    binary_counts,
    class_weights,
    represent,
    tfidf_svd,
    weighted_counts,
)
from poisonlab.victims import make_victim


@pytest.fixture(scope="module")
def sample(sms_split: tuple[Dataset, Dataset]) -> Dataset:
    return sms_split[0].take(np.arange(600))


def test_weighted_rows_sum_to_the_victims_score_for_their_label(sample: Dataset) -> None:
    rows = weighted_counts(sample, victim="logreg", random_state=0)
    model = (
        make_victim("logreg", random_state=0)
        .set_params(vectorizer__binary=True)
        .fit(list(sample.texts), sample.labels)
    )
    logit = model.decision_function(list(sample.texts)) - model[-1].intercept_[0]
    sign = np.where(sample.labels == 1, 1.0, -1.0)
    np.testing.assert_allclose(np.asarray(rows.sum(axis=1)).ravel(), sign * logit, atol=1e-9)


def test_weighted_keeps_only_the_rows_words(sample: Dataset) -> None:
    rows = weighted_counts(sample, victim="nb")
    counts, _ = binary_counts(sample.texts)
    assert rows.shape == counts.shape
    assert set(zip(*rows.nonzero())) <= set(zip(*counts.nonzero()))


def test_class_weights_of_two_and_three_classes() -> None:
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    binary = LogisticRegression().fit(X, [0, 1, 1, 0])
    weights = class_weights(binary, 2)
    np.testing.assert_allclose(weights[1], binary.coef_[0])
    np.testing.assert_allclose(weights[0], -binary.coef_[0])
    three = LogisticRegression().fit(X, [0, 1, 2, 0])
    np.testing.assert_allclose(class_weights(three, 3), three.coef_)
    nb = MultinomialNB().fit(X, [0, 1, 2, 0])
    np.testing.assert_allclose(class_weights(nb, 3).sum(axis=0), 0.0, atol=1e-12)
    absent = LogisticRegression().fit(X, [0, 2, 2, 0])  # class 1 has no rows: zero weights
    assert np.all(class_weights(absent, 3)[1] == 0.0)


def test_counts_are_binary(sample: Dataset) -> None:
    counts = represent(sample, "counts")
    assert set(np.unique(counts.data).tolist()) == {1.0}


def test_tfidf_svd_is_seeded_and_capped() -> None:
    texts = ["win cash now", "cash prize now", "see you soon", "you there now"]
    assert tfidf_svd(texts, n_components=50).shape == (4, 3)
    again = tfidf_svd(texts, n_components=2, random_state=3)
    assert again.tobytes() == tfidf_svd(texts, n_components=2, random_state=3).tobytes()


def test_every_representation_has_one_row_per_text(sample: Dataset) -> None:
    for kind in REPRESENTATIONS:
        assert represent(sample, kind, svd_components=10).shape[0] == len(sample)


def test_bad_input_says_why() -> None:
    one_class = Dataset(["win cash", "cash prize"], [1, 1], ("ham", "spam"))
    with pytest.raises(DataError, match="at least two classes"):
        weighted_counts(one_class)
    no_words = Dataset(["!", "?"], [0, 1], ("ham", "spam"))
    for kind in REPRESENTATIONS:
        with pytest.raises(DataError, match="No text has a word"):
            represent(no_words, kind)
    with pytest.raises(ParameterError, match="The 'kind' parameter of represent must be"):
        represent(one_class, "pixels")
    with pytest.raises(ParameterError, match="The 'victim' parameter of weighted_counts must be"):
        weighted_counts(one_class, victim="forest")
