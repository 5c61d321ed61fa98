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
from poisonlab.detectors import ConfidentLearning, KnnLabelDisagreement, knn_labels
from poisonlab.detectors.knn_labels import TEXTS_PER_CELL, candidate_neighbours, text_cells, tfidf_vectors
from poisonlab.detectors.word_counts import word_counts


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


# --- per distinct text: TF-IDF, the exact rule, and the approximate search ------------------------


def reference_scores(data: Dataset, k: int, *, weighted: bool, balanced: bool) -> np.ndarray:
    """The documented neighbour rule, row by row over all rows (slow, plain): the row's own
    duplicates first at similarity 1, then the other rows from the most similar text down,
    the texts tied at the similarity that reaches k sharing the rows still missing."""
    texts, labels = np.asarray(data.texts, dtype=object), data.labels
    vectors = TfidfVectorizer(sublinear_tf=True, dtype=np.float64).fit_transform(data.texts)
    similarity = (vectors @ vectors.T).toarray()
    n_classes = len(data.classes)
    share = np.bincount(labels, minlength=n_classes) / len(data)
    scores = []
    for row in range(len(data)):
        others = np.arange(len(data)) != row
        same = others & (texts == texts[row])
        level = np.where(same, np.inf, similarity[row])  # duplicates before everything else
        tally, total, missing = np.zeros(n_classes), 0.0, float(k)
        for value in sorted(set(level[others].tolist()), reverse=True):
            group = others & (level == value)
            part = min(1.0, missing / group.sum())
            strength = (1.0 if value == np.inf else max(min(value, 1.0), 0.0)) if weighted else 1.0
            tally += part * strength * np.bincount(labels[group], minlength=n_classes)
            total += part * strength * group.sum()
            missing -= part * group.sum()
            if missing <= 1e-12:
                break
        vote = (k * (tally / total if total > 0 else 0.0) + share) / (k + 1)
        vote = vote / share if balanced else vote
        other = max(v for c, v in enumerate(vote) if c != labels[row])
        scores.append(np.log(max(other, 1e-300)) - np.log(max(vote[labels[row]], 1e-300)))
    return np.asarray(scores)


@pytest.fixture(scope="module")
def duplicated(sms_flip: Poisoned) -> Dataset:
    """300 flipped SMS rows and 60 of them again (some with their label changed): duplicates
    that carry different labels, texts tied in similarity."""
    data = sms_flip.poisoned
    rows = np.concatenate([np.arange(300), np.arange(0, 120, 2)])
    again = data.take(rows)
    labels = again.labels.copy()
    labels[300::3] = 1 - labels[300::3]
    return Dataset(list(again.texts), labels, again.classes)


def test_tfidf_of_distinct_texts_equals_tfidfvectorizer_on_all_rows(duplicated: Dataset) -> None:
    """Document frequency counts rows, not distinct texts: equal to scikit-learn on every row."""
    counts = word_counts(duplicated)
    assert counts.n_distinct < len(duplicated)
    mine = tfidf_vectors(counts)[counts.text_of_row]
    theirs = TfidfVectorizer(sublinear_tf=True, dtype=np.float64).fit_transform(duplicated.texts)
    assert abs(mine - theirs).max() < 1e-15


@pytest.mark.parametrize(
    ("k", "weights", "balanced"), [(20, "distance", True), (7, "uniform", False), (3, "uniform", True)]
)
def test_exact_search_follows_the_documented_rule(
    duplicated: Dataset, k: int, weights: str, balanced: bool
) -> None:
    detector = KnnLabelDisagreement(n_neighbors=k, weights=weights, balanced=balanced)
    expected = reference_scores(duplicated, k, weighted=weights == "distance", balanced=balanced)
    np.testing.assert_allclose(detector.score(duplicated), expected, rtol=0, atol=1e-9)


def test_row_order_does_not_change_a_rows_score(duplicated: Dataset) -> None:
    order = np.random.default_rng(0).permutation(len(duplicated))
    shuffled = duplicated.take(order)
    detector = KnnLabelDisagreement(n_neighbors=9, weights="uniform")
    np.testing.assert_allclose(
        detector.score(shuffled), detector.score(duplicated)[order], rtol=0, atol=1e-12
    )


def test_approximate_search_in_one_cell_equals_the_exact_search(duplicated: Dataset) -> None:
    """Under 512 distinct texts the partition is one cell: every text is a candidate, and
    only the single-precision part of the similarity differs."""
    assert word_counts(duplicated).n_distinct <= 512
    for params in ({}, {"weights": "uniform", "n_neighbors": 5}):
        exact = KnnLabelDisagreement(**params).score(duplicated)  # type: ignore[arg-type]
        approximate = KnnLabelDisagreement(exact_below=0, **params).score(duplicated)  # type: ignore[arg-type]
        np.testing.assert_allclose(approximate, exact, rtol=0, atol=1e-5)


def test_threshold_switches_to_the_approximate_search(
    sms_flip: Poisoned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`exact_below` low on the 4,459-row split: the approximate search runs, stays seeded,
    and flags about what the exact search flags, even in cells of 128 texts (a thirtieth
    of the texts, as at a million rows; at this size it would search one cell of all)."""
    data, truth = sms_flip.poisoned, sms_flip.is_poison
    monkeypatch.setattr(knn_labels, "SEARCH_PAIRS", 0)
    searched: list[int] = []
    search = knn_labels.candidate_neighbours

    def spy(*args: object, **kwargs: object) -> object:
        searched.append(1)
        return search(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(knn_labels, "candidate_neighbours", spy)
    exact = KnnLabelDisagreement().findings(data)
    assert not searched
    approximate = KnnLabelDisagreement(exact_below=4_000).findings(data)
    assert searched and word_counts(data).n_distinct >= 4_000
    again = KnnLabelDisagreement(exact_below=4_000).findings(data)
    assert again.scores.tobytes() == approximate.scores.tobytes()
    # diverse short texts are the hard case for cells: a text's nearest are spread widely
    assert np.mean(approximate.flags == exact.flags) > 0.88
    f1_exact = metrics.detection_f1(truth, exact.flags)
    assert metrics.detection_f1(truth, approximate.flags) > f1_exact - 0.15
    assert metrics.auroc(truth, approximate.scores) > 0.88
    twice = KnnLabelDisagreement(exact_below=4_000, partitions=2).findings(data)
    assert np.mean(twice.flags == exact.flags) > np.mean(approximate.flags == exact.flags)


def test_candidates_are_the_most_similar_of_their_cells(
    sms_flip: Poisoned, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The similarities are the true cosine; never the text itself; a second partition
    finds at least as many of the true nearest texts."""
    monkeypatch.setattr(knn_labels, "SEARCH_PAIRS", 0)  # cells of 128 texts
    vectors = tfidf_vectors(word_counts(sms_flip.poisoned))
    queries = np.arange(0, vectors.shape[0], 7)
    exact = (vectors[queries] @ vectors.T).toarray()
    exact[np.arange(queries.size), queries] = -np.inf
    kth = -np.partition(-exact, 9, axis=1)[:, 9]
    recall = []
    for partitions in (1, 2):
        found, similarity = candidate_neighbours(vectors, queries, 10, partitions=partitions, random_state=0)
        assert (found != queries[:, None]).all() and (found >= 0).all()
        true = np.take_along_axis(exact, found, axis=1)
        np.testing.assert_allclose(similarity, true, rtol=0, atol=1e-6)
        recall.append(np.mean(true >= kth[:, None] - 1e-12))
    assert recall[1] > recall[0] > 0.2


def test_cells_cover_every_text_once() -> None:
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    vectors = normalize(sp.random(5_000, 400, density=0.02, random_state=1, format="csr"))
    vectors = sp.vstack([vectors, vectors[:700]]).tocsr()  # identical vectors k-means cannot split
    order, ranges = text_cells(vectors, random_state=3)
    assert sorted(order.tolist()) == list(range(5_700))
    assert (ranges[1:, 0] == ranges[:-1, 1]).all() and ranges[-1, 1] == 5_700
    assert ((ranges[:, 2] <= ranges[:, 0]) & (ranges[:, 1] <= ranges[:, 3])).all()
    assert (ranges[:, 1] - ranges[:, 0]).max() <= 4 * TEXTS_PER_CELL
    again, _ = text_cells(vectors, random_state=3)
    assert again.tobytes() == order.tobytes()


@pytest.mark.parametrize(("field", "value"), [("exact_below", -1), ("partitions", 0), ("random_state", "0")])
def test_bad_search_parameters(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"'{field}' parameter of KnnLabelDisagreement"):
        KnnLabelDisagreement(**{field: value})  # type: ignore[arg-type]


def test_scores_do_not_depend_on_blas_threads(sms_flip: Poisoned) -> None:
    """A scan's forked workers run with one BLAS thread, a lone scan with all: same bytes."""
    from threadpoolctl import threadpool_limits

    data = sms_flip.poisoned
    for detector in (KnnLabelDisagreement(), KnnLabelDisagreement(exact_below=0)):
        with threadpool_limits(limits=2):
            many = detector.score(data)
        with threadpool_limits(limits=1):
            one = detector.score(data)
        assert many.tobytes() == one.tobytes()
