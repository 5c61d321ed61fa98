"""Representations: the victim's weighted features, plain counts and TF-IDF + SVD, per distinct pair."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

from poisonlab._errors import DataError, ParameterError
from poisonlab.data import Dataset
from poisonlab.detectors import representation
from poisonlab.detectors.representation import (
    REPRESENTATIONS,
    binary_counts,
    binary_matrix,
    class_weights,
    distinct_pairs,
    principal_projections,
    represent,
    tfidf_matrix,
    tfidf_svd,
    total_variance,
    weighted_counts,
)
from poisonlab.detectors.word_counts import word_counts
from poisonlab.victims import make_victim


@pytest.fixture(scope="module")
def sample(sms_split: tuple[Dataset, Dataset]) -> Dataset:
    """600 SMS rows, some repeated (a few of the repeats with the other label)."""
    base = sms_split[0].take(np.arange(500))
    data = base.take(np.r_[np.arange(500), np.repeat(np.arange(0, 500, 6), 2)])
    labels = data.labels.copy()
    labels[-6:] = 1 - labels[-6:]
    return data.with_labels(labels)


def test_distinct_pairs_rebuild_every_row(sample: Dataset) -> None:
    text_of_pair, label_of_pair, pair_of_row, weights = distinct_pairs(sample)
    counts = word_counts(sample)
    assert np.array_equal(counts.text_of_row, text_of_pair[pair_of_row])
    assert np.array_equal(sample.labels, label_of_pair[pair_of_row])
    assert np.array_equal(weights, np.bincount(pair_of_row))
    assert len(set(zip(text_of_pair.tolist(), label_of_pair.tolist()))) == weights.size < len(sample)


def test_weighted_rows_sum_to_the_victims_score_for_their_label(sample: Dataset) -> None:
    """The victim is fitted on distinct pairs with weights: the same model as on the repeated rows."""
    rows = weighted_counts(sample, victim="logreg", random_state=0).rows()
    model = (
        make_victim("logreg", random_state=0)
        .set_params(vectorizer__binary=True)
        .fit(list(sample.texts), sample.labels)
    )
    logit = model.decision_function(list(sample.texts)) - model[-1].intercept_[0]
    sign = np.where(sample.labels == 1, 1.0, -1.0)
    np.testing.assert_allclose(np.asarray(rows.sum(axis=1)).ravel(), sign * logit, atol=1e-9)


@pytest.mark.parametrize("make", [lambda: LogisticRegression(tol=1e-10, max_iter=10_000), MultinomialNB])
def test_weights_fit_the_same_model_as_repeated_rows(sample: Dataset, make: object) -> None:
    text_of_pair, label_of_pair, _, weights = distinct_pairs(sample)
    repeated = CountVectorizer(binary=True, dtype=np.float64).fit_transform(sample.texts)
    distinct = binary_matrix(word_counts(sample))[text_of_pair]
    on_rows = make().fit(repeated, sample.labels)  # type: ignore[operator]
    on_pairs = make().fit(distinct, label_of_pair, sample_weight=weights.astype(np.float64))  # type: ignore[operator]
    np.testing.assert_allclose(class_weights(on_pairs, 2), class_weights(on_rows, 2), atol=1e-9)


def test_weighted_keeps_only_the_rows_words(sample: Dataset) -> None:
    rows = weighted_counts(sample, victim="nb").matrix
    counts = binary_counts(sample).matrix
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


def test_counts_are_the_binary_bag_of_words_of_every_row(sample: Dataset) -> None:
    counts = represent(sample, "counts")
    assert set(np.unique(counts.matrix.data).tolist()) == {1.0}
    expected = CountVectorizer(binary=True).fit_transform(sample.texts)
    assert (counts.rows() != expected).nnz == 0


def test_tfidf_is_the_vectorizers_on_every_row(sample: Dataset) -> None:
    expected = TfidfVectorizer().fit_transform(sample.texts)
    found = tfidf_matrix(sample)[word_counts(sample).text_of_row]
    assert abs(found - expected).max() < 1e-12


def test_tfidf_svd_finds_the_repeated_rows_top_direction(sample: Dataset) -> None:
    reduced = tfidf_svd(sample, n_components=5).rows()
    exact = TruncatedSVD(n_components=5, algorithm="arpack").fit(
        TfidfVectorizer().fit_transform(sample.texts)
    )
    np.testing.assert_allclose(np.linalg.norm(reduced[:, 0]), exact.singular_values_[0], rtol=1e-5)


def test_tfidf_svd_is_seeded_and_capped() -> None:
    texts = ["win cash now", "cash prize now", "see you soon", "you there now"]
    data = Dataset(texts, [1, 1, 0, 0], ("ham", "spam"))
    assert tfidf_svd(data, n_components=50).shape == (4, 3)
    again = tfidf_svd(data, n_components=2, random_state=3).matrix
    assert again.tobytes() == tfidf_svd(data, n_components=2, random_state=3).matrix.tobytes()


def test_every_representation_has_one_row_per_row(sample: Dataset) -> None:
    for kind in REPRESENTATIONS:
        found = represent(sample, kind, svd_components=10)
        assert found.rows().shape[0] == found.shape[0] == len(sample)
        assert found.matrix.shape[0] == found.weights.size == found.labels.size
        assert found.weights.sum() == len(sample)


def test_a_representation_is_kept_per_dataset_and_settings(sample: Dataset) -> None:
    first = represent(sample, "weighted")
    assert represent(sample, "weighted") is first
    assert represent(sample, "weighted", random_state=1) is not first
    assert represent(sample.take(np.arange(len(sample))), "weighted") is not first
    representation.clear_cache()
    again = represent(sample, "weighted")
    assert again is not first
    assert (again.matrix != first.matrix).nnz == 0
    with pytest.raises(ValueError, match="read-only"):
        again.weights[0] = 5


def test_principal_projections_are_pca_and_weights_are_repeats() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(60, 8)) * np.arange(1, 9)
    rows[rng.random(rows.shape) < 0.5] = 0.0
    for given in (rows, sp.csr_matrix(rows)):
        found = principal_projections(given, 3, random_state=0)
        expected = PCA(n_components=3, svd_solver="arpack", random_state=0).fit_transform(rows)
        np.testing.assert_allclose(np.abs(found), np.abs(expected), atol=1e-9)
        weights = rng.integers(1, 4, size=60)
        weighted = principal_projections(given, 3, weights=weights, random_state=0)
        repeated = principal_projections(np.repeat(rows, weights, axis=0), 3, random_state=0)
        np.testing.assert_allclose(np.abs(np.repeat(weighted, weights, axis=0)), np.abs(repeated), atol=1e-9)
        assert total_variance(given, weights) == pytest.approx(
            total_variance(np.repeat(rows, weights, axis=0))
        )


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
