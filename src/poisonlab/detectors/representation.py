"""Representations of a dataset's rows that the spectral and clustering detectors work in.

Spectral signatures (Tran et al. 2018) and activation clustering (Chen et al. 2018) look for
poison as an outlying direction or a small cluster *inside one class*, in the space the victim
decides in. Text victims here are linear (or Naive Bayes) models on bag-of-words features, so
they have no hidden layer; the analogue of a network's activations is the per-word
contribution to the decision. Three representations are offered:

``weighted`` (the default)
    Binary bag-of-words, each present word scaled by the weight a linear victim fitted on the
    (possibly poisoned) dataset gives it for the row's class: row ``i`` of class ``c`` is
    ``x_i * W[c]``, so its entries sum to the model's score for ``c`` minus the intercept.
    Words the model ignores vanish, and a dirty-label poison row (text of one class, label of
    another) stands out inside its labelled class by the large opposite-class contributions
    it carries. Binary presence keeps one word repeated many times (HTML entities, "ha ha ha")
    from dominating the variance.
``counts``
    The same binary bag-of-words without weights: the plain baseline in the same features.
``tfidf_svd``
    TF-IDF then truncated SVD (latent semantic analysis): a victim-free, dense baseline.

Which works, measured on SMS with a 1 % dirty-label backdoor (``bench/detect_quality.py``,
spectral signatures, mean AUROC over 5 seeds for a rare-token, a phrase and a common-word
trigger): ``weighted`` with a logistic-regression victim, 1.00 / 1.00 / 0.95; plain
``counts``, 0.46 / 0.59 / 0.57; ``tfidf_svd``, 0.40 / 0.41 / 0.45 (worse than chance). The
plain spaces put topic and message length first, so their top directions miss the poison.
Naive Bayes weights are no better (0.54 / 0.41 / 0.43): a word's log-ratio
``log P(w|c1) - log P(w|c0)`` is never small (a word seen equally often in both classes gets
about ``log(N_c0 / N_c1)``, the ratio of the classes' word totals), so every word contributes
and message length dominates; logistic regression shrinks the weights of words that do not
help the decision toward zero.

Rows that repeat a text with the same label have the same representation, so each distinct
(text, label) pair is represented once (`DistinctRows`), with the number of rows carrying it
as its weight: the victim is fitted with those weights as ``sample_weight`` (every victim here
minimises a sum of per-row losses, which the weights reproduce exactly), and `principal_projections`
weights its mean and variance by them, so every result equals the one on the repeated rows.
Words come from `poisonlab.detectors.word_counts` (tokenised once per dataset), and a
representation is kept per dataset object (`represent`), so the detectors of one scan share
one victim fit.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_choice, check_positive_int
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.word_counts import WordCounts, label_pairs, word_counts
from poisonlab.victims.factory import VICTIMS, make_victim

if TYPE_CHECKING:
    import scipy.sparse as sp

REPRESENTATIONS = ("weighted", "counts", "tfidf_svd")
"""Representation names, as the detectors' ``representation`` parameter takes them."""

FloatArray = npt.NDArray[np.float64]
FloatMatrix = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Rows: TypeAlias = "sp.csr_matrix | FloatMatrix"

_CACHE_SIZE = 4  # representations kept per dataset object
_cache: weakref.WeakKeyDictionary[Dataset, OrderedDict[tuple[Any, ...], DistinctRows]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()


@dataclasses.dataclass(frozen=True, eq=False)
class DistinctRows:
    """A dataset's rows in a representation, each distinct (text, label) pair once.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix or ndarray, shape (n_pairs, n_dimensions)
        One row per distinct (text, label) pair. Shared by every caller of `represent`: read it,
        never write to it.
    labels : ndarray of int, shape (n_pairs,)
        Each pair's label.
    weights : ndarray of int, shape (n_pairs,)
        How many dataset rows carry each pair.
    pair_of_row : ndarray of int, shape (n_rows,)
        For each dataset row, the position of its pair.
    """

    matrix: Any
    labels: IntArray
    weights: IntArray
    pair_of_row: IntArray

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_dimensions)``: the shape of `rows`."""
        return int(self.pair_of_row.size), int(self.matrix.shape[1])

    def rows(self) -> Rows:
        """The representation of every dataset row, repeated rows repeated."""
        return self.matrix[self.pair_of_row]

    def scores_within_classes(self, score: Callable[[Rows, IntArray], FloatArray]) -> FloatArray:
        """One score per dataset row, from ``score(matrix, weights)`` run on each class's pairs
        alone (spectral signatures and activation clustering look for poison inside a class)."""
        scores = np.zeros(self.labels.size, dtype=np.float64)
        for label in np.unique(self.labels):
            members = np.flatnonzero(self.labels == label)
            scores[members] = score(self.matrix[members], self.weights[members])
        return scores[self.pair_of_row]


def distinct_pairs(dataset: Dataset) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Each distinct (text, label) pair's text (a row of ``word_counts(dataset).matrix``) and
    label, each row's pair, and each pair's count of rows.

    Examples
    --------
    >>> ds = Dataset(["win", "hi", "win", "win"], [1, 0, 1, 0], ("ham", "spam"))
    >>> [a.tolist() for a in distinct_pairs(ds)]
    [[0, 0, 1], [0, 1, 0], [1, 2, 1, 0], [1, 2, 1]]
    """
    texts, labels, weights, pair_of_row = label_pairs(
        word_counts(dataset).text_of_row, dataset.labels, len(dataset.classes)
    )
    return texts, labels, pair_of_row, weights


def binary_matrix(counts: WordCounts) -> sp.csr_matrix:
    """The binary bag-of-words (float64) of each distinct text of `counts`.

    Examples
    --------
    >>> from poisonlab.detectors.word_counts import count_words
    >>> binary_matrix(count_words(["win win cash", "see you"])).toarray().tolist()
    [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """
    import scipy.sparse as sp

    matrix = counts.matrix
    return sp.csr_matrix(
        (np.ones(matrix.nnz, dtype=np.float64), matrix.indices.copy(), matrix.indptr.copy()),
        shape=matrix.shape,
    )


def check_has_words(dataset: Dataset) -> WordCounts:
    """The dataset's word counts; `DataError` unless some text has a word the victims' tokeniser
    keeps (two or more letters or digits)."""
    counts = word_counts(dataset)
    if counts.n_words == 0:
        raise DataError("No text has a word of two or more letters or digits; there is nothing to represent.")
    return counts


def class_weights(classifier: Any, n_classes: int) -> FloatMatrix:
    """Per-class, per-feature weights of a fitted linear or Naive Bayes classifier: ``(n_classes, d)``.

    Row ``c`` is what a feature adds to the score of class ``c``: ``coef_`` for linear models
    (for two classes ``-coef_[0]`` and ``+coef_[0]``) and, for Naive Bayes, the class's
    ``feature_log_prob_`` minus the mean over classes.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> clf = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    >>> weights = class_weights(clf, 2)
    >>> weights.shape, bool(weights[1, 0] > 0 > weights[0, 0])
    ((2, 2), True)
    """
    seen = [int(c) for c in classifier.classes_]
    if hasattr(classifier, "feature_log_prob_"):
        log_prob = np.asarray(classifier.feature_log_prob_, dtype=np.float64)
        fitted = log_prob - log_prob.mean(axis=0, keepdims=True)
    else:
        coef = np.asarray(classifier.coef_, dtype=np.float64)
        fitted = np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef
    weights = np.zeros((n_classes, fitted.shape[1]), dtype=np.float64)
    weights[seen] = fitted
    return weights


def weighted_counts(
    dataset: Dataset, *, victim: str = "logreg", random_state: int | None = 0
) -> DistinctRows:
    """Binary bag-of-words scaled by the weights a `victim` fitted on `dataset` gives each row's class.

    Row ``i`` (labelled ``c``) is ``x_i * W[c]`` with ``W = class_weights(...)``: the per-word
    contributions to the victim's score for the row's own label.

    The victim's classifier is fitted on the binary bag-of-words of the distinct (text, label)
    pairs with their row counts as ``sample_weight``. Every victim here minimises a weighted sum
    of per-row losses (logistic regression: ``C`` times the weighted log-loss plus the L2
    penalty, scaled by the total weight as on the repeated rows; linear SVM: each row's ``C``
    times its weight; Naive Bayes: weighted counts), so the fit is the one on the repeated rows:
    to rounding for logistic regression (lbfgs) and Naive Bayes, to the solver's tolerance for
    the linear SVM (coordinate descent visits the rows in another order).

    Examples
    --------
    >>> ds = Dataset(["win cash", "cash prize", "see you", "you there"], [1, 1, 0, 0], ("ham", "spam"))
    >>> Z = weighted_counts(ds)
    >>> Z.shape, bool(Z.matrix[0].sum() > 0 and Z.matrix[2].sum() > 0)
    ((4, 6), True)
    """
    import scipy.sparse as sp

    check_choice("weighted_counts", "victim", victim, VICTIMS.names())
    counts = check_has_words(dataset)
    _check_two_classes(dataset)
    text_of_pair, label_of_pair, pair_of_row, weights = distinct_pairs(dataset)
    classifier = make_victim(victim, features="count", random_state=random_state)[-1]
    binary = binary_matrix(counts)[text_of_pair]
    classifier.fit(binary, label_of_pair, sample_weight=weights.astype(np.float64))
    coefficients = class_weights(classifier, len(dataset.classes))
    row_of_entry = np.repeat(np.arange(binary.shape[0]), np.diff(binary.indptr))
    data = coefficients[label_of_pair[row_of_entry], binary.indices]
    matrix = sp.csr_matrix((data, binary.indices, binary.indptr), shape=binary.shape)
    return DistinctRows(matrix, label_of_pair, weights, pair_of_row)


def binary_counts(dataset: Dataset) -> DistinctRows:
    """The binary bag-of-words of `dataset`, one row per distinct (text, label) pair.

    Examples
    --------
    >>> ds = Dataset(["win win cash", "see you", "win win cash"], [1, 0, 1], ("ham", "spam"))
    >>> counts = binary_counts(ds)
    >>> counts.matrix.toarray().tolist(), counts.weights.tolist()
    ([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]], [2, 1])
    """
    counts = check_has_words(dataset)
    text_of_pair, label_of_pair, pair_of_row, weights = distinct_pairs(dataset)
    return DistinctRows(binary_matrix(counts)[text_of_pair], label_of_pair, weights, pair_of_row)


def tfidf_matrix(dataset: Dataset) -> sp.csr_matrix:
    """``TfidfVectorizer()``'s matrix of `dataset`, one row per distinct text (`word_counts` order).

    The document frequencies count every row, so row ``t`` equals the row ``TfidfVectorizer()
    .fit_transform(dataset.texts)`` gives each row carrying text ``t``.

    Examples
    --------
    >>> ds = Dataset(["win cash", "see you", "win cash"], [1, 0, 1], ("ham", "spam"))
    >>> tfidf_matrix(ds).shape
    (2, 4)
    """
    tfidf: sp.csr_matrix = check_has_words(dataset).tfidf()
    return tfidf


def tfidf_svd(dataset: Dataset, *, n_components: int = 100, random_state: int | None = 0) -> DistinctRows:
    """TF-IDF then truncated SVD (latent semantic analysis): one dense row per distinct pair.

    The TF-IDF is `tfidf_matrix`'s (``TfidfVectorizer()`` on the rows). The SVD is
    scikit-learn's ``TruncatedSVD`` fitted on the distinct texts, each scaled by the square
    root of its row count: the same Gram matrix as the repeated rows, so the same singular
    directions, up to the randomized solver's approximation. `n_components` is capped below
    the number of distinct texts and of words.

    Examples
    --------
    >>> texts = ["win cash now", "cash prize now", "see you soon", "you there"]
    >>> tfidf_svd(Dataset(texts, [1, 1, 0, 0], ("ham", "spam")), n_components=2).shape
    (4, 2)
    """
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    check_positive_int("tfidf_svd", "n_components", n_components)
    tfidf = tfidf_matrix(dataset)
    text_of_pair, label_of_pair, pair_of_row, weights = distinct_pairs(dataset)
    k = min(n_components, tfidf.shape[0] - 1, tfidf.shape[1] - 1)
    if k < 1:
        dense = np.asarray(tfidf.toarray(), dtype=np.float64)
        return DistinctRows(dense[text_of_pair], label_of_pair, weights, pair_of_row)
    rows_of_text = word_counts(dataset).multiplicity.astype(np.float64)
    svd = TruncatedSVD(n_components=k, random_state=random_state)
    svd.fit(sp.diags(np.sqrt(rows_of_text)) @ tfidf)
    reduced = np.asarray(svd.transform(tfidf), dtype=np.float64)
    return DistinctRows(reduced[text_of_pair], label_of_pair, weights, pair_of_row)


def _check_two_classes(dataset: Dataset) -> None:
    labels = dataset.labels
    if np.unique(labels).size < 2:
        raise DataError(
            "The weighted representation needs rows of at least two classes to fit a victim; "
            f"this dataset has only {dataset.classes[int(labels[0])] if labels.size else 'no'} rows."
        )


def total_variance(rows: Rows, weights: npt.ArrayLike | None = None) -> float:
    """Sum over columns of the rows' variance, each row counted `weights` times (sparse rows are
    not densified).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> total_variance(np.array([[1.0, 2.0], [1.0, 2.0]])), total_variance(sp.csr_matrix([[0.0], [2.0]]))
    (0.0, 1.0)
    >>> total_variance(sp.csr_matrix([[0.0], [2.0]]), weights=[3, 1])
    0.75
    """
    import scipy.sparse as sp

    if rows.shape[0] == 0:
        return 0.0
    w = np.ones(rows.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if sp.issparse(rows):
        sparse = sp.csr_matrix(rows)
        mean = np.asarray(sparse.T @ w).ravel() / total
        mean_square = np.asarray(sparse.multiply(sparse).T @ w).ravel() / total
        return float(np.maximum(mean_square - mean**2, 0.0).sum())
    dense = np.asarray(rows, dtype=np.float64)
    mean = w @ dense / total
    return float((w @ (dense - mean) ** 2).sum() / total)


def principal_projections(
    rows: Rows, n_components: int, *, weights: npt.ArrayLike | None = None, random_state: int | None = 0
) -> FloatMatrix:
    """The rows, centred, projected on their top `n_components` principal directions.

    Each row counts `weights` times (default once): the mean is the weighted mean, and the
    directions are the top right singular vectors of the centred rows each scaled by the
    square root of its weight, whose Gram matrix is the repeated rows' scatter matrix. With
    unit weights this is ``PCA(n_components, svd_solver="arpack").fit_transform(rows)`` (up to
    each component's sign): the same ARPACK call on the same implicitly centred operator, so
    sparse rows are never densified. Hand-written because scikit-learn's ``PCA`` takes no
    sample weights. Needs ``1 <= n_components < min(rows.shape)``.

    Examples
    --------
    >>> rows = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.1]])
    >>> repeated = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [2.0, 2.1]])
    >>> weighted = principal_projections(rows, 1, weights=[1, 2, 1])
    >>> bool(np.allclose(np.abs(weighted[[0, 1, 1, 2]]), np.abs(principal_projections(repeated, 1))))
    True
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, svds
    from sklearn.utils import check_random_state

    n, d = rows.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    scale = np.sqrt(w)
    if sp.issparse(rows):
        matrix: Any = sp.csr_matrix(rows, dtype=np.float64)
        transposed: Any = matrix.T.tocsr()  # row-major both ways: the fastest sparse products
    else:
        matrix = np.asarray(rows, dtype=np.float64)
        transposed = matrix.T
    mean = np.asarray(transposed @ w, dtype=np.float64).ravel() / w.sum()

    def times(block: Any) -> Any:  # (Z - 1 mean) v, rows scaled
        block = np.asarray(block, dtype=np.float64)
        flat = block.ndim == 1
        block = block.reshape(d, -1)
        out = scale[:, None] * (np.asarray(matrix @ block) - mean @ block)
        return out.ravel() if flat else out

    def times_transposed(block: Any) -> Any:  # (Z - 1 mean)^T (scale * u)
        block = np.asarray(block, dtype=np.float64)
        flat = block.ndim == 1
        scaled = scale[:, None] * block.reshape(n, -1)
        out = np.asarray(transposed @ scaled) - np.outer(mean, scaled.sum(axis=0))
        return out.ravel() if flat else out

    operator = LinearOperator(
        (n, d),
        matvec=times,
        rmatvec=times_transposed,
        matmat=times,
        rmatmat=times_transposed,
        dtype=np.float64,
    )
    v0 = check_random_state(random_state).uniform(-1, 1, size=min(n, d))
    _, singular, directions = svds(operator, k=n_components, tol=0.0, v0=v0)
    directions = directions[np.argsort(-singular)]
    projected: FloatMatrix = np.asarray(matrix @ directions.T, dtype=np.float64) - mean @ directions.T
    return projected


def represent(
    dataset: Dataset,
    kind: str,
    *,
    victim: str = "logreg",
    svd_components: int = 100,
    random_state: int | None = 0,
) -> DistinctRows:
    """`dataset` in representation `kind` (one of `REPRESENTATIONS`), one row per distinct pair.

    Sparse for ``weighted`` and ``counts``, dense for ``tfidf_svd``. Kept per dataset object
    (the last few settings), so detectors run one after another on the same data share one
    victim fit; `clear_cache` forgets them.

    Examples
    --------
    >>> ds = Dataset(["win cash", "cash prize", "see you", "you there"], [1, 1, 0, 0], ("ham", "spam"))
    >>> [represent(ds, kind, svd_components=2).shape for kind in REPRESENTATIONS]
    [(4, 6), (4, 6), (4, 2)]
    >>> represent(ds, "weighted") is represent(ds, "weighted")
    True
    """
    check_choice("represent", "kind", kind, REPRESENTATIONS)
    key: tuple[Any, ...] = (
        kind,
        victim if kind == "weighted" else None,
        svd_components if kind == "tfidf_svd" else None,
        random_state if kind != "counts" else None,
    )
    with _cache_lock:
        kept = _cache.get(dataset)
        if kept is not None and key in kept:
            kept.move_to_end(key)
            return kept[key]
    if kind == "weighted":
        found = weighted_counts(dataset, victim=victim, random_state=random_state)
    elif kind == "counts":
        found = binary_counts(dataset)
    else:
        found = tfidf_svd(dataset, n_components=svd_components, random_state=random_state)
    for array in (found.labels, found.weights, found.pair_of_row):
        array.setflags(write=False)
    with _cache_lock:
        kept = _cache.setdefault(dataset, OrderedDict())
        kept[key] = found
        while len(kept) > _CACHE_SIZE:
            kept.popitem(last=False)
    return found


def clear_cache() -> None:
    """Forget the representations kept for datasets still alive."""
    with _cache_lock:
        _cache.clear()


__all__ = [
    "REPRESENTATIONS",
    "DistinctRows",
    "binary_counts",
    "binary_matrix",
    "check_has_words",
    "class_weights",
    "clear_cache",
    "distinct_pairs",
    "principal_projections",
    "represent",
    "tfidf_matrix",
    "tfidf_svd",
    "total_variance",
    "weighted_counts",
]
