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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_choice, check_positive_int
from poisonlab.data.dataset import Dataset
from poisonlab.victims.factory import VICTIMS, make_victim

if TYPE_CHECKING:
    import scipy.sparse as sp

REPRESENTATIONS = ("weighted", "counts", "tfidf_svd")
"""Representation names, as the detectors' ``representation`` parameter takes them."""

FloatMatrix = npt.NDArray[np.float64]
Rows: TypeAlias = "sp.csr_matrix | FloatMatrix"


def binary_counts(texts: tuple[str, ...] | list[str]) -> tuple[sp.csr_matrix, Any]:
    """Binary bag-of-words of `texts` (the victims' tokenisation) and the fitted vectorizer.

    Examples
    --------
    >>> X, vectorizer = binary_counts(["win win cash", "see you"])
    >>> X.toarray().tolist(), list(vectorizer.get_feature_names_out())
    ([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]], ['cash', 'see', 'win', 'you'])
    """
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(binary=True, dtype=np.float64)
    check_has_words(texts)
    return sp.csr_matrix(vectorizer.fit_transform(list(texts))), vectorizer


def check_has_words(texts: tuple[str, ...] | list[str]) -> None:
    """Raise `DataError` unless some text has a word the victims' tokeniser keeps (2+ letters or digits)."""
    from sklearn.feature_extraction.text import CountVectorizer

    analyzer = CountVectorizer().build_analyzer()
    if not any(analyzer(text) for text in texts):
        raise DataError("No text has a word of two or more letters or digits; there is nothing to represent.")


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
) -> sp.csr_matrix:
    """Binary bag-of-words scaled by the weights a `victim` fitted on `dataset` gives each row's class.

    Row ``i`` (labelled ``c``) is ``x_i * W[c]`` with ``W = class_weights(...)``: the per-word
    contributions to the victim's score for the row's own label.

    Examples
    --------
    >>> ds = Dataset(["win cash", "cash prize", "see you", "you there"], [1, 1, 0, 0], ("ham", "spam"))
    >>> Z = weighted_counts(ds)
    >>> Z.shape, bool(Z[0].sum() > 0 and Z[2].sum() > 0)
    ((4, 6), True)
    """
    import scipy.sparse as sp

    check_choice("weighted_counts", "victim", victim, VICTIMS.names())
    check_has_words(dataset.texts)
    labels = dataset.labels
    if np.unique(labels).size < 2:
        raise DataError(
            "The weighted representation needs rows of at least two classes to fit a victim; "
            f"this dataset has only {dataset.classes[int(labels[0])] if labels.size else 'no'} rows."
        )
    model = make_victim(victim, features="count", random_state=random_state)
    model.set_params(vectorizer__binary=True, vectorizer__dtype=np.float64)
    X = sp.csr_matrix(model[0].fit_transform(list(dataset.texts)), dtype=np.float64)
    model[-1].fit(X, labels)
    weights = class_weights(model[-1], len(dataset.classes))
    coo = X.tocoo()
    data = coo.data * weights[labels[coo.row], coo.col]
    return sp.csr_matrix((data, (coo.row, coo.col)), shape=X.shape)


def tfidf_svd(
    texts: tuple[str, ...] | list[str], *, n_components: int = 100, random_state: int | None = 0
) -> FloatMatrix:
    """TF-IDF then truncated SVD (latent semantic analysis): one dense row per text.

    `n_components` is capped below the number of texts and of distinct words.

    Examples
    --------
    >>> Z = tfidf_svd(["win cash now", "cash prize now", "see you soon", "you there"], n_components=2)
    >>> Z.shape
    (4, 2)
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    check_positive_int("tfidf_svd", "n_components", n_components)
    check_has_words(texts)
    X = TfidfVectorizer().fit_transform(list(texts))
    k = min(n_components, X.shape[0] - 1, X.shape[1] - 1)
    if k < 1:
        return np.asarray(X.toarray(), dtype=np.float64)
    svd = TruncatedSVD(n_components=k, random_state=random_state)
    return np.asarray(svd.fit_transform(X), dtype=np.float64)


def total_variance(rows: Rows) -> float:
    """Sum over columns of the rows' variance (sparse rows are not densified).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> total_variance(np.array([[1.0, 2.0], [1.0, 2.0]])), total_variance(sp.csr_matrix([[0.0], [2.0]]))
    (0.0, 1.0)
    """
    import scipy.sparse as sp

    if rows.shape[0] == 0:
        return 0.0
    if sp.issparse(rows):
        sparse = sp.csr_matrix(rows)
        mean = np.asarray(sparse.mean(axis=0)).ravel()
        mean_square = np.asarray(sparse.multiply(sparse).mean(axis=0)).ravel()
        return float(np.maximum(mean_square - mean**2, 0.0).sum())
    return float(np.asarray(rows, dtype=np.float64).var(axis=0).sum())


def represent(
    dataset: Dataset,
    kind: str,
    *,
    victim: str = "logreg",
    svd_components: int = 100,
    random_state: int | None = 0,
) -> Rows:
    """The rows of `dataset` in representation `kind` (one of `REPRESENTATIONS`).

    Returns a sparse matrix for ``weighted`` and ``counts``, a dense array for ``tfidf_svd``.

    Examples
    --------
    >>> ds = Dataset(["win cash", "cash prize", "see you", "you there"], [1, 1, 0, 0], ("ham", "spam"))
    >>> [represent(ds, kind, svd_components=2).shape for kind in REPRESENTATIONS]
    [(4, 6), (4, 6), (4, 2)]
    """
    check_choice("represent", "kind", kind, REPRESENTATIONS)
    if kind == "weighted":
        return weighted_counts(dataset, victim=victim, random_state=random_state)
    if kind == "counts":
        return binary_counts(dataset.texts)[0]
    return tfidf_svd(dataset.texts, n_components=svd_components, random_state=random_state)


__all__ = [
    "REPRESENTATIONS",
    "binary_counts",
    "check_has_words",
    "class_weights",
    "represent",
    "tfidf_svd",
    "total_variance",
    "weighted_counts",
]
