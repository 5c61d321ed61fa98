"""Out-of-fold predicted probabilities of a victim: each row scored by a model that never saw it.

Label-issue detectors (confident learning and its relatives) must judge a row's label with a
model trained without that row; this is scikit-learn's `cross_val_predict` over a stratified,
seeded K-fold split, with the victim Pipeline refitted (vectorizer included) in every fold.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_positive_int, fail
from poisonlab.data.dataset import Dataset

FloatArray = npt.NDArray[np.float64]

_CACHE_SIZE = 4
_cache: OrderedDict[tuple[object, ...], FloatArray] = OrderedDict()
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
    key = (dataset.fingerprint(), victim, features, folds, random_state)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            cached: FloatArray = _cache[key].copy()
            return cached
    proba = _compute(dataset, victim, features, folds, random_state)
    with _cache_lock:
        _cache[key] = proba
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    fresh: FloatArray = proba.copy()
    return fresh


def clear_cache() -> None:
    """Forget the probabilities kept for the last few datasets (they are kept so that several
    detectors in one scan share one cross-validation)."""
    with _cache_lock:
        _cache.clear()


def _compute(dataset: Dataset, victim: str, features: str, folds: int, random_state: int) -> FloatArray:
    from scipy.special import expit, softmax
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from poisonlab.victims.factory import make_victim

    model = make_victim(victim, features=features, random_state=random_state)
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    texts, labels = list(dataset.texts), dataset.labels
    if hasattr(model, "predict_proba"):
        proba = cross_val_predict(model, texts, labels, cv=split, method="predict_proba")
        return np.asarray(proba, dtype=np.float64)
    decision = np.asarray(
        cross_val_predict(model, texts, labels, cv=split, method="decision_function"), dtype=np.float64
    )
    if decision.ndim == 1:
        positive = expit(decision)
        return np.column_stack([1.0 - positive, positive])
    return np.asarray(softmax(decision, axis=1), dtype=np.float64)


__all__ = ["clear_cache", "fold_count", "out_of_fold_proba"]
