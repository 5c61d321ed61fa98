"""Out-of-fold predicted probabilities of a victim: each row scored by a model that never saw it.

Label-issue detectors (confident learning and its relatives) must judge a row's label with a
model trained without that row. The answer is scikit-learn's ``cross_val_predict`` over a
stratified, seeded K-fold split with the victim Pipeline refitted (vectorizer included) in
every fold, computed without tokenising the texts again for every fold: the folds' word counts
come from the dataset's shared `word_counts`.

- The default victim (``nb``: ``CountVectorizer()`` then ``MultinomialNB()``) is sums of
  counts, so each fold's model is the class word counts of all rows minus the fold's, on the
  words its training rows contain (a vectorizer refitted on them knows no other word: unseen
  words are dropped at prediction and left out of the smoothing), and each distinct text of the
  held-out fold is predicted once. Hand-written because no library refits Naive Bayes by
  subtraction; equal to ``cross_val_predict`` up to floating-point rounding.
- Every other victim or feature set has its classifier refitted per fold on the shared count
  matrix of the training rows (every row, in order, so nothing is approximated), restricted to
  the words those rows contain, with ``tfidf`` features' idf weights refitted on the same rows
  by scikit-learn's ``TfidfTransformer``, exactly as the Pipeline's ``TfidfVectorizer`` does.
  Equal to ``cross_val_predict`` up to the order floating-point sums are taken in.
- A victim whose vectorizer has other settings than these defaults (no registered victim has)
  reads its own words: it goes through ``cross_val_predict`` itself.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_positive_int, fail
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.word_counts import WordCounts, word_counts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CacheKey = tuple[str, str, int, int]

_CACHE_SIZE = 4  # settings kept per dataset
_cache: weakref.WeakKeyDictionary[Dataset, OrderedDict[CacheKey, FloatArray]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def fold_count(dataset: Dataset, n_splits: int) -> int:
    """The folds a stratified split can use: `n_splits`, or fewer when a class has fewer rows.

    Raises `DataError` when a class has fewer than two rows: no model trained without such a
    row has seen its class.

    Examples
    --------
    >>> fold_count(Dataset(["a", "b", "c", "d"], [0, 0, 1, 1], ("ham", "spam")), 5)
    2
    """
    check_positive_int("out_of_fold_proba", "n_splits", n_splits)
    if n_splits < 2:
        raise fail("out_of_fold_proba", "n_splits", "an int >= 2", n_splits)
    counts = np.bincount(dataset.labels, minlength=len(dataset.classes))
    smallest = int(np.argmin(counts))
    if counts[smallest] < 2:
        raise DataError(
            f"Out-of-fold predictions need at least 2 rows of every class; class "
            f"{dataset.classes[smallest]!r} has {int(counts[smallest])}."
        )
    return int(min(n_splits, counts.min()))


def out_of_fold_proba(
    dataset: Dataset,
    victim: str = "nb",
    *,
    features: str = "count",
    n_splits: int = 5,
    random_state: int = 0,
) -> FloatArray:
    """Per row, the class probabilities of a `victim` trained on the other folds.

    What ``cross_val_predict(make_victim(victim, features=features), texts, labels,
    cv=StratifiedKFold(folds, shuffle=True, random_state=random_state))`` returns, computed from
    the dataset's shared word counts (see the module docstring for how, per victim). Kept for
    the dataset object (the last few settings), so several detectors of one scan share one
    cross-validation.

    Parameters
    ----------
    dataset : Dataset
    victim : str
        A registered victim name (``nb``, ``cnb``, ``logreg``, ``svm``).
    features : {"count", "tfidf"}
    n_splits : int
        Folds of `sklearn.model_selection.StratifiedKFold` (shuffled with `random_state`);
        lowered to the size of the smallest class when that is smaller.
    random_state : int
        Seeds the fold assignment and the victim.

    Returns
    -------
    ndarray of shape (n_rows, n_classes)
        Rows sum to 1. A victim without ``predict_proba`` (the linear SVM) has its decision
        values squashed by a sigmoid (two classes) or softmax: monotone, not calibrated.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> proba = out_of_fold_proba(load_dataset("article"), n_splits=2)
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((14, 2), True)
    """
    from poisonlab.victims.factory import make_victim

    folds = fold_count(dataset, n_splits)
    make_victim(victim, features=features)  # validates both names before any work
    key = (victim, features, folds, random_state)
    with _cache_lock:
        kept = _cache.get(dataset)
        if kept is not None and key in kept:
            kept.move_to_end(key)
            cached: FloatArray = kept[key].copy()
            return cached
    proba = _compute(dataset, victim, features, folds, random_state)
    with _cache_lock:
        kept = _cache.setdefault(dataset, OrderedDict())
        kept[key] = proba
        while len(kept) > _CACHE_SIZE:
            kept.popitem(last=False)
    fresh: FloatArray = proba.copy()
    return fresh


def clear_cache() -> None:
    """Forget the probabilities kept for datasets still alive (they are kept so that several
    detectors in one scan share one cross-validation)."""
    with _cache_lock:
        _cache.clear()


def _compute(dataset: Dataset, victim: str, features: str, folds: int, random_state: int) -> FloatArray:
    from sklearn.model_selection import StratifiedKFold

    from poisonlab.victims.factory import make_victim

    pipeline = make_victim(victim, features=features, random_state=random_state)
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    if not _reads_shared_words(pipeline.named_steps["vectorizer"]):
        return _cross_val_proba(pipeline, dataset, split)
    counts = word_counts(dataset)
    if counts.n_words == 0:
        raise DataError("Out-of-fold predictions need texts with words; no text here has one.")
    # the split reads only the labels and the row count, as cross_val_predict's does
    folds_rows = list(split.split(np.zeros((len(dataset), 1)), dataset.labels))
    classifier = pipeline.named_steps["classifier"]
    n_classes = len(dataset.classes)
    if features == "count" and _is_plain_multinomial_nb(classifier):
        alpha = float(classifier.alpha)
        return _naive_bayes_proba(counts, dataset.labels, n_classes, [test for _, test in folds_rows], alpha)
    return _refit_proba(counts, dataset.labels, n_classes, features, classifier, folds_rows)


def _reads_shared_words(vectorizer: Any) -> bool:
    """Whether `vectorizer` is a default ``CountVectorizer`` or ``TfidfVectorizer``: words as
    `word_counts` counts them (any other setting takes the plain cross-validation path)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    kind = type(vectorizer)
    return kind in (CountVectorizer, TfidfVectorizer) and vectorizer.get_params() == kind().get_params()


def _cross_val_proba(pipeline: Any, dataset: Dataset, split: Any) -> FloatArray:
    """scikit-learn's ``cross_val_predict`` on the whole Pipeline, vectorizer refitted per fold."""
    from sklearn.model_selection import cross_val_predict

    texts, labels = list(dataset.texts), dataset.labels
    if hasattr(pipeline, "predict_proba"):
        proba = cross_val_predict(pipeline, texts, labels, cv=split, method="predict_proba")
        return np.asarray(proba, dtype=np.float64)
    return _squash(cross_val_predict(pipeline, texts, labels, cv=split, method="decision_function"))


def _squash(decision: Any) -> FloatArray:
    """Decision values as probabilities: a sigmoid (two classes) or softmax; monotone, not calibrated."""
    from scipy.special import expit, softmax

    values = np.asarray(decision, dtype=np.float64)
    if values.ndim == 1:
        positive = expit(values)
        return np.column_stack([1.0 - positive, positive])
    return np.asarray(softmax(values, axis=1), dtype=np.float64)


def _is_plain_multinomial_nb(classifier: Any) -> bool:
    """Whether `classifier` is ``MultinomialNB`` with its defaults: the model the count
    arithmetic reproduces."""
    from sklearn.naive_bayes import MultinomialNB

    return type(classifier) is MultinomialNB and classifier.get_params() == MultinomialNB().get_params()


def _naive_bayes_proba(
    counts: WordCounts, labels: IntArray, n_classes: int, test_folds: list[IntArray], alpha: float
) -> FloatArray:
    """``MultinomialNB()`` out-of-fold probabilities from class word counts: all rows' minus the
    held-out fold's, one model per fold, each held-out distinct text predicted once."""
    import scipy.sparse as sp
    from scipy.special import softmax

    n_rows, n_folds = labels.size, len(test_folds)
    fold_of_row = np.empty(n_rows, dtype=np.int64)
    for fold, test in enumerate(test_folds):
        fold_of_row[test] = fold
    # rows per (fold, class) and distinct text, then word counts per (fold, class)
    cell = fold_of_row * n_classes + labels
    tally = sp.csr_matrix(
        (np.ones(n_rows), (cell, counts.text_of_row)), shape=(n_folds * n_classes, counts.n_distinct)
    )
    tally.sum_duplicates()
    fold_words = np.asarray((tally @ counts.matrix).todense(), dtype=np.float64)
    fold_words = fold_words.reshape(n_folds, n_classes, counts.n_words)
    fold_rows = np.bincount(cell, minlength=n_folds * n_classes).reshape(n_folds, n_classes)
    all_words, all_rows = fold_words.sum(axis=0), fold_rows.sum(axis=0)
    proba = np.empty((n_rows, n_classes))
    for fold, test in enumerate(test_folds):
        train_words = all_words - fold_words[fold]  # whole numbers: exact
        seen = train_words.sum(axis=0) > 0  # the words a vectorizer refitted on the training rows knows
        if not seen.any():
            raise DataError("Out-of-fold predictions need words in every training fold; one has none.")
        smoothed = train_words[:, seen] + alpha
        log_theta = np.zeros((n_classes, counts.n_words))
        log_theta[:, seen] = np.log(smoothed) - np.log(smoothed.sum(axis=1))[:, None]
        train_rows = (all_rows - fold_rows[fold]).astype(np.float64)
        log_prior = np.log(train_rows) - np.log(train_rows.sum())
        texts, row_text = np.unique(counts.text_of_row[test], return_inverse=True)
        joint = np.asarray(counts.matrix[texts] @ log_theta.T, dtype=np.float64) + log_prior
        proba[test] = softmax(joint, axis=1)[row_text]
    return proba


def _refit_proba(
    counts: WordCounts,
    labels: IntArray,
    n_classes: int,
    features: str,
    classifier: Any,
    folds_rows: list[tuple[IntArray, IntArray]],
) -> FloatArray:
    """A fresh clone of `classifier` fitted per fold on the training rows' shared word counts
    (the words they contain; tf-idf refitted on them for ``tfidf``), predicting the held-out rows."""
    from sklearn.base import clone
    from sklearn.feature_extraction.text import TfidfTransformer

    rows = counts.rows()
    proba = np.empty((labels.size, n_classes))
    for train, test in folds_rows:
        train_counts = rows[train]
        seen = np.flatnonzero(np.bincount(train_counts.indices, minlength=counts.n_words))
        if seen.size == 0:
            raise DataError("Out-of-fold predictions need words in every training fold; one has none.")
        train_x: Any = train_counts[:, seen]
        test_x: Any = rows[test][:, seen]
        if features == "tfidf":
            tfidf = TfidfTransformer().fit(train_x.astype(np.float64))
            train_x, test_x = (
                tfidf.transform(train_x.astype(np.float64)),
                tfidf.transform(test_x.astype(np.float64)),
            )
        model = clone(classifier).fit(train_x, labels[train])
        if hasattr(model, "predict_proba"):
            proba[test] = model.predict_proba(test_x)
        else:
            proba[test] = _squash(model.decision_function(test_x))
    return proba


__all__ = ["clear_cache", "fold_count", "out_of_fold_proba"]
