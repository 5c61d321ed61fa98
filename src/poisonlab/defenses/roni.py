"""`RONI`: reject on negative impact — keep a row only if adding it does not hurt held-out data."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses._impact import (
    batch_impacts,
    is_count_naive_bayes,
    is_linear,
    linear_impacts,
    naive_bayes_impacts,
)
from poisonlab.defenses._training import fit_rows
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimLike, as_factory

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_FOLDS = 50
METHODS = ("naive_bayes_counts", "linear_influence", "batch_refits")


def fold_of(texts: Sequence[str], folds: int) -> IntArray:
    """The calibration fold, in ``[0, folds)``, of each text: SHA-256 of its UTF-8 bytes, mod `folds`.

    Deterministic and independent of row order, so identical texts always share a fold: copies
    of one message never vouch for each other from the calibration side.

    Examples
    --------
    >>> fold_of(["win cash", "see you", "win cash", "lunch?"], 5).tolist()
    [3, 2, 3, 3]
    """
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest()[:8], "big") % folds
            for t in texts
        ),
        dtype=np.int64,
        count=len(texts),
    )


def _method(template: Any, n_classes: int) -> str:
    if is_count_naive_bayes(template):
        return "naive_bayes_counts"
    if is_linear(template) and n_classes == 2:
        return "linear_influence"
    return "batch_refits"


def row_impacts(
    dataset: Dataset,
    template: Any,
    *,
    folds: int = 5,
    batch_size: int = 16,
    random_state: int | None = 0,
) -> tuple[FloatArray, str]:
    """Each row's impact on held-out calibration data, averaged over the folds it is a candidate in.

    The rows are split into `folds` by `fold_of`; each fold in turn is the calibration set and the
    other rows the candidates. A row's impact on a fold is the mean calibration score with the
    row minus without it (see `poisonlab.defenses._impact`). Rows never measured (a fold whose
    candidates lack a class) get NaN. Returns the impacts and the method used.

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.victims import make_victim
    >>> train, _ = load_train_test("sms_spam")
    >>> impacts, method = row_impacts(train.take(range(400)), make_victim("nb"))
    >>> method, impacts.shape, bool(np.isfinite(impacts).all())
    ('naive_bayes_counts', (400,), True)
    """
    from sklearn.base import clone

    n_classes = len(dataset.classes)
    method = _method(template, n_classes)
    fold = fold_of(dataset.texts, folds)
    total = np.zeros(len(dataset), dtype=np.float64)
    measured = np.zeros(len(dataset), dtype=np.int64)
    rng = np.random.default_rng(random_state)
    for part in range(folds):
        candidates = np.flatnonzero(fold != part)
        held_out = np.flatnonzero(fold == part)
        labels = dataset.labels[candidates]
        if held_out.size == 0 or np.unique(labels).size < 2:
            continue
        texts = [dataset.texts[i] for i in candidates]
        calibration_texts = [dataset.texts[i] for i in held_out]
        calibration_labels = dataset.labels[held_out]
        if method == "batch_refits":
            impacts: FloatArray | None = batch_impacts(
                template,
                texts,
                labels,
                calibration_texts,
                calibration_labels,
                batch_size=batch_size,
                rng=rng,
            )
        else:
            vectorizer = clone(template.steps[0][1])
            try:
                matrix = vectorizer.fit_transform(texts)
            except ValueError:  # scikit-learn's "empty vocabulary": no candidate has a word
                continue
            calibration = vectorizer.transform(calibration_texts)
            if method == "naive_bayes_counts":
                classifier = template.steps[1][1]
                impacts = naive_bayes_impacts(
                    matrix,
                    labels,
                    calibration,
                    calibration_labels,
                    n_classes,
                    alpha=float(classifier.alpha),
                    fit_prior=bool(classifier.fit_prior),
                )
            else:
                classifier = clone(template.steps[1][1]).fit(matrix, labels)
                impacts = linear_impacts(classifier, matrix, labels, calibration, calibration_labels)
        if impacts is None:
            continue
        total[candidates] += impacts
        measured[candidates] += 1
    with np.errstate(invalid="ignore"):
        out = np.where(measured > 0, total / np.maximum(measured, 1), np.nan)
    return out, method


def reject_negative(impacts: FloatArray, threshold: float) -> tuple[BoolArray, float]:
    """Flag rows whose impact is below ``median - threshold * MAD`` and below zero.

    Impacts are tiny and a typical clean row's is slightly negative (each row makes the model a
    little more confident, and a few calibration messages less well fitted), so a fixed cut at
    zero would reject a large share of clean rows; the cut is a robust z-score instead (MAD
    scaled to a standard deviation; the standard deviation when the MAD is 0). Rows with a NaN
    impact are kept. Returns the flags and the cut.

    Examples
    --------
    >>> flags, cut = reject_negative(np.array([0.0, -0.1, 0.1, 0.05, -0.05, -3.0]), 3.0)
    >>> flags.tolist()
    [False, False, False, False, False, True]
    """
    finite = np.isfinite(impacts)
    if not finite.any():
        return np.zeros(impacts.size, dtype=bool), float("nan")
    values = impacts[finite]
    center = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - center)))
    if spread == 0.0:
        spread = float(values.std())
    cut = min(center - threshold * spread, 0.0)
    flags = np.zeros(impacts.size, dtype=bool)
    flags[finite] = values < cut
    return flags, cut


@DEFENSES.register("roni")
@dataclasses.dataclass(frozen=True, kw_only=True)
class RONI(Defense):
    """Reject on negative impact: drop the training rows whose addition hurts held-out data.

    Nelson et al. (2008) keep a training message only if adding it does not hurt a held-out
    calibration ("quiz") set. Here the training rows are split into `folds` calibration sets
    (by a hash of the text: deterministic, and copies of a message fall together); each fold
    in turn is held out and every other row's impact on it is measured: the mean calibration
    score (probability of the true class; a linear SVM's margin clipped to [-1, 1]) of the
    model trained with the row minus without it. A row is rejected when its mean impact is
    below zero and more than `threshold` robust standard deviations below the median impact
    (`reject_negative`); the victim is then trained on the rows kept.

    How the impacts are computed, by victim:

    - ``nb`` (``CountVectorizer`` + ``MultinomialNB``): exact count arithmetic, no refit per
      row (`poisonlab.defenses._impact.naive_bayes_impacts`, tested equal to refits).
    - ``logreg`` and ``svm`` (binary): an influence-function approximation, one Newton step of
      the victim's regularised objective per row, all rows from one conjugate-gradient solve
      per fold, with the vectorizer held fixed (Koh & Liang 2017).
    - any other victim (``cnb``, tf-idf Naive Bayes, multi-class, a user's Pipeline): refits
      on random candidate batches of `batch_size` rows; each row gets its batch's impact.

    It targets attacks whose rows hurt clean messages of their own kind, such as the
    dictionary attack it was made for (spam rows stuffed with ham words raise the ham loss).
    The calibration folds come from the same training data, so poison that fills them (a
    heavy label flip, many backdoor rows sharing a trigger) vouches for itself.

    Parameters
    ----------
    folds : int
        Number of calibration folds, in [2, 50]; each row is a candidate in all but its own.
    threshold : float
        Robust z-score below the median impact at which a row is rejected, > 0.
    batch_size : int
        Rows per refit batch, for victims without a fast path; >= 1.

    Examples
    --------
    >>> from poisonlab.attacks import DictionaryAttack
    >>> from poisonlab.data import load_train_test
    >>> train, _ = load_train_test("sms_spam")
    >>> poisoned = DictionaryAttack(n=10).apply(train.take(range(800)), random_state=0)
    >>> defended = RONI().fit(poisoned.poisoned, "nb")
    >>> int(defended.removed.sum()), int((defended.removed & poisoned.is_poison).sum())
    (13, 10)
    """

    name: ClassVar[str] = "roni"
    paper: ClassVar[str] = (
        "Nelson, Barreno, Chi, Joseph, Rubinstein, Saini, Sutton, Tygar & Xia (2008), Exploiting "
        "Machine Learning to Subvert Your Spam Filter, LEET; influence approximation: Koh & Liang "
        "(2017), Understanding Black-box Predictions via Influence Functions, ICML."
    )

    folds: int = 5
    threshold: float = 5.0
    batch_size: int = 16

    def __post_init__(self) -> None:
        freeze_sequences(self)
        if (
            isinstance(self.folds, bool)
            or not isinstance(self.folds, int)
            or not 2 <= self.folds <= MAX_FOLDS
        ):
            raise fail("RONI", "folds", f"an int in [2, {MAX_FOLDS}]", self.folds)
        value = self.threshold
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise fail("RONI", "threshold", "a finite float > 0", value)
        check_positive_int("RONI", "batch_size", self.batch_size)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default, few folds with a strict cut, and many folds with small batches."""
        return [cls(), cls(folds=2, threshold=3.0), cls(folds=10, threshold=8.0, batch_size=4)]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Measure every row's impact, reject the harmful ones, train `victim` on the rest.

        `random_state` seeds the victim and the batches of the refit path.
        """
        factory = as_factory(victim, random_state=random_state)
        impacts, method = row_impacts(
            dataset, factory(), folds=self.folds, batch_size=self.batch_size, random_state=random_state
        )
        rejected, cut = reject_negative(impacts, float(self.threshold))
        model = fit_rows(factory, dataset, ~rejected, owner="RONI")
        finite = impacts[np.isfinite(impacts)]
        return Defended(
            model=model,
            defense=self.name,
            params=self.get_params(),
            removed=rejected,
            info={
                "method": method,
                "rejected": int(rejected.sum()),
                "rows_measured": int(finite.size),
                "impact_median": float(np.median(finite)) if finite.size else None,
                "impact_cut": None if np.isnan(cut) else float(cut),
                "impact_min": float(finite.min()) if finite.size else None,
                "calibration": f"{self.folds} folds by sha256(text) mod {self.folds}",
            },
        )
