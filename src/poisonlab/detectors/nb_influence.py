"""`NaiveBayesInfluence`: exact leave-one-out influence of each row on a Naive Bayes model.

Multinomial Naive Bayes is sums of counts, so the model without row i is the model with row
i's word counts subtracted from its class: every leave-one-out refit is a few array
operations, not a refit (no library computes this, hence the arithmetic here). The vocabulary
is the one fitted on all rows and stays fixed when a row is removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_choice, check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS

KINDS = ("margin", "validation")
IntArray = npt.NDArray[np.int64]
_BLOCK = 4_000_000  # floats per dense block of (validation rows x removed rows)


@dataclasses.dataclass(frozen=True)
class CountModel:
    """A fitted multinomial Naive Bayes as counts: what `sklearn.naive_bayes.MultinomialNB` learns.

    Attributes
    ----------
    feature_counts : ndarray (n_classes, n_features)
        Word counts per class.
    class_counts : ndarray (n_classes,)
        Rows per class.
    alpha : float
        Additive (Laplace/Lidstone) smoothing.
    """

    feature_counts: FloatArray
    class_counts: FloatArray
    alpha: float

    @classmethod
    def fit(cls, counts: Any, labels: IntArray, n_classes: int, alpha: float) -> CountModel:
        """Count words per class from a sparse row-by-word count matrix."""
        import scipy.sparse as sp

        n = labels.size
        onehot = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, n_classes))
        feature_counts = np.asarray((onehot.T @ counts).todense(), dtype=np.float64)
        class_counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        return cls(feature_counts, class_counts, alpha)

    @property
    def totals(self) -> FloatArray:
        """Smoothed word total per class: the denominator of every word probability."""
        totals: FloatArray = self.feature_counts.sum(axis=1) + self.alpha * self.feature_counts.shape[1]
        return totals

    def joint_log_likelihood(self, counts: Any) -> FloatArray:
        """``log P(class) + sum_j x_j log P(word_j | class)`` per row and class."""
        log_theta = np.log(self.feature_counts + self.alpha) - np.log(self.totals)[:, None]
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.class_counts) - np.log(self.class_counts.sum())
        joint: FloatArray = np.asarray(counts @ log_theta.T, dtype=np.float64) + log_prior
        return joint


def _removal_terms(model: CountModel, counts: Any, labels: IntArray) -> tuple[Any, FloatArray, FloatArray]:
    """For each row removed from `model`: the sparse change of its class's log word probabilities
    (numerators only), the change of that class's log denominator, and of its log prior."""
    import scipy.sparse as sp

    counts = sp.csr_matrix(counts, dtype=np.float64)
    row_of_entry = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    own = model.feature_counts[labels[row_of_entry], counts.indices] + model.alpha
    numerator = sp.csr_matrix(
        (np.log(own - counts.data) - np.log(own), counts.indices, counts.indptr), shape=counts.shape
    )
    size = np.asarray(counts.sum(axis=1)).ravel()
    totals = model.totals[labels]
    denominator = np.log(totals - size) - np.log(totals)
    with np.errstate(divide="ignore"):
        prior = np.log(model.class_counts[labels] - 1.0) - np.log(model.class_counts[labels])
    return numerator, denominator, prior


def leave_one_out_joint(counts: Any, labels: IntArray, n_classes: int, alpha: float = 1.0) -> FloatArray:
    """Per row, the joint log-likelihood of every class under Naive Bayes fitted on all other rows.

    Equal to refitting ``MultinomialNB(alpha=alpha)`` on the other rows (same columns) and
    calling ``predict_joint_log_proba`` on the row; a class whose only row is removed gets
    ``-inf``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> counts = sp.csr_matrix([[2, 0], [1, 1], [0, 3], [0, 1]])
    >>> labels = np.array([0, 0, 1, 1])
    >>> loo = leave_one_out_joint(counts, labels, 2)
    >>> loo.argmax(axis=1).tolist()
    [0, 1, 1, 1]
    """
    model = CountModel.fit(counts, labels, n_classes, alpha)
    joint = model.joint_log_likelihood(counts)
    numerator, denominator, prior = _removal_terms(model, counts, labels)
    size = np.asarray(counts.sum(axis=1)).ravel()
    n = labels.size
    rows = np.arange(n)
    own_change = np.asarray(numerator.multiply(counts).sum(axis=1)).ravel()
    joint[rows, labels] += own_change - size * denominator + prior
    joint += np.log(n) - np.log(n - 1.0) if n > 1 else 0.0  # every class's prior: n -> n - 1 rows
    return joint


def leave_rows_out_joint(
    counts: Any, labels: IntArray, rows: npt.ArrayLike, n_classes: int, alpha: float = 1.0
) -> FloatArray:
    """The joint log-likelihood of every class for the given `rows`, under Naive Bayes fitted on
    all the other rows at once: what the rest of the data says about a group (a duplicate flood).

    Equal to refitting ``MultinomialNB(alpha=alpha)`` without the rows (same columns); a class
    left with no rows gets ``-inf``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> counts = sp.csr_matrix([[2, 0], [1, 0], [0, 3], [2, 0], [2, 0]])
    >>> labels = np.array([0, 0, 1, 1, 1])  # the last two: class-0 text labelled 1
    >>> leave_rows_out_joint(counts, labels, [3, 4], 2).argmax(axis=1).tolist()
    [0, 0]
    """
    return next(leave_groups_out_joint(counts, labels, [rows], n_classes, alpha))


def leave_groups_out_joint(
    counts: Any, labels: IntArray, groups: Iterable[npt.ArrayLike], n_classes: int, alpha: float = 1.0
) -> Iterator[FloatArray]:
    """`leave_rows_out_joint` for many groups, fitting the full model once: each group then costs
    only its own rows, so thousands of duplicate floods are judged in linear time.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> counts = sp.csr_matrix([[2, 0], [1, 0], [0, 3], [2, 0], [2, 0]])
    >>> labels = np.array([0, 0, 1, 1, 1])
    >>> [j.argmax(axis=1).tolist() for j in leave_groups_out_joint(counts, labels, [[3, 4], [2]], 2)]
    [[0, 0], [0]]
    """
    import scipy.sparse as sp

    matrix = sp.csr_matrix(counts, dtype=np.float64)
    model = CountModel.fit(matrix, labels, n_classes, alpha)
    for rows in groups:
        chosen = np.asarray(rows, dtype=np.int64)
        part = matrix[chosen]
        removed = CountModel.fit(part, labels[chosen], n_classes, alpha)
        rest = CountModel(
            model.feature_counts - removed.feature_counts, model.class_counts - removed.class_counts, alpha
        )
        yield rest.joint_log_likelihood(part)


def validation_influence(
    counts: Any,
    labels: IntArray,
    validation_counts: Any,
    validation_labels: IntArray,
    n_classes: int,
    alpha: float = 1.0,
) -> FloatArray:
    """Per training row, how much removing it raises the mean log-likelihood of the validation labels.

    ``mean_r log P(y_r | x_r)`` over the validation rows, for Naive Bayes fitted without the
    row, minus the same for Naive Bayes fitted on every row; positive means the row pulls the
    model away from the validation labels. Exact, by count arithmetic, in blocks of rows.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> counts = sp.csr_matrix([[2, 0], [1, 0], [0, 3], [3, 0]])
    >>> labels = np.array([0, 0, 1, 1])  # the last row looks like class 0
    >>> influence = validation_influence(counts, labels, sp.csr_matrix([[2, 0], [0, 2]]), np.array([0, 1]), 2)
    >>> int(influence.argmax())
    3
    """
    import scipy.sparse as sp
    from scipy.special import logsumexp

    model = CountModel.fit(counts, labels, n_classes, alpha)
    numerator, denominator, prior = _removal_terms(model, counts, labels)
    validation_counts = sp.csr_matrix(validation_counts, dtype=np.float64)
    joint = model.joint_log_likelihood(validation_counts)  # (m, K)
    m = validation_labels.size
    vrows = np.arange(m)
    normaliser = logsumexp(joint, axis=1)
    before = joint[vrows, validation_labels] - normaliser
    without = np.empty((m, n_classes))  # log-sum-exp over the classes other than each class
    for c in range(n_classes):
        others = np.delete(joint, c, axis=1)
        without[:, c] = logsumexp(others, axis=1) if others.shape[1] else -np.inf
    size = np.asarray(validation_counts.sum(axis=1)).ravel()
    numerator_t = numerator.T.tocsc()
    influence = np.empty(labels.size)
    block = max(1, _BLOCK // max(m, 1))
    for start in range(0, labels.size, block):
        stop = min(start + block, labels.size)
        cls = labels[start:stop]
        change = np.asarray((validation_counts @ numerator_t[:, start:stop]).todense())
        change -= size[:, None] * denominator[None, start:stop]
        change += prior[None, start:stop]
        own_class = validation_labels[:, None] == cls[None, :]
        changed = joint[:, cls] + change
        with np.errstate(invalid="ignore"):
            normaliser_new = np.logaddexp(without[:, cls], changed)
            after = joint[vrows, validation_labels][:, None] + np.where(own_class, change, 0.0)
            delta = (after - normaliser_new) - before[:, None]
        influence[start:stop] = delta.mean(axis=0)
    return influence


@DETECTORS.register("nb_influence")
@dataclasses.dataclass(frozen=True, kw_only=True)
class NaiveBayesInfluence(Detector):
    """Exact leave-one-out influence for multinomial Naive Bayes, by count arithmetic.

    ``margin`` scores each row by the log-odds against its own label of a Naive Bayes trained
    on every other row (exact leave-one-out cross-validation): positive means the other rows
    say it carries the wrong label. ``validation`` splits the rows into two stratified halves
    (seeded); each row is scored by how much removing it from its half's model raises the mean
    log-likelihood of the other half's labels (influence functions, Koh & Liang 2017, made
    exact for Naive Bayes).

    Parameters
    ----------
    kind : {"margin", "validation"}
    alpha : float
        Additive smoothing of the word counts, as in ``MultinomialNB`` (default 1.0).
    n_validation : int
        Most validation rows per half for ``validation`` (a seeded sample of them beyond that).
    random_state : int
        Seeds the halves and the sample of ``validation``.

    Examples
    --------
    Ten of 71 spam messages among 500 relabelled ham; how many of them are flagged, of how many:

    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_dataset
    >>> attacked = LabelFlip(strategy="targeted", n=10).apply(
    ...     load_dataset("sms_spam").take(range(500)), random_state=0
    ... )
    >>> flags = NaiveBayesInfluence().flag(attacked.poisoned)
    >>> int((flags & attacked.is_poison).sum()), int(flags.sum())
    (9, 23)
    """

    name: ClassVar[str] = "nb_influence"
    paper: ClassVar[str] = (
        "Koh & Liang (2017), Understanding Black-box Predictions via Influence Functions, ICML; "
        "exact leave-one-out for Naive Bayes from its count form (McCallum & Nigam 1998)."
    )
    targets: ClassVar[tuple[str, ...]] = ("label_flip",)

    kind: str = "margin"
    alpha: float = 1.0
    n_validation: int = 2000
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_choice("NaiveBayesInfluence", "kind", self.kind, KINDS)
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha > 0:
            raise fail("NaiveBayesInfluence", "alpha", "a number > 0", self.alpha)
        check_positive_int("NaiveBayesInfluence", "n_validation", self.n_validation)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("NaiveBayesInfluence", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """Leave-one-out margins, and validation influence with lighter smoothing."""
        return [cls(), cls(kind="validation", alpha=0.5, n_validation=500, random_state=3)]

    def _counts(self, dataset: Dataset) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        try:
            return CountVectorizer().fit_transform(dataset.texts).astype(np.float64)
        except ValueError:  # scikit-learn's "empty vocabulary"
            raise DataError("Naive Bayes influence needs texts with words; no text here has one.") from None

    def _loo(self, dataset: Dataset) -> tuple[FloatArray, FloatArray]:
        counts = self._counts(dataset)
        n_classes = len(dataset.classes)
        loo = leave_one_out_joint(counts, dataset.labels, n_classes, float(self.alpha))
        full = CountModel.fit(counts, dataset.labels, n_classes, float(self.alpha)).joint_log_likelihood(
            counts
        )
        return loo, full

    def score(self, dataset: Dataset) -> FloatArray:
        """Leave-one-out margin against the own label, or influence on the other half's labels."""
        if self.kind == "margin":
            return check_scores(_finite(_against_label(self._loo(dataset)[0], dataset.labels)), dataset)
        return check_scores(_finite(self._validation_scores(dataset)), dataset)

    def _validation_scores(self, dataset: Dataset) -> FloatArray:
        from sklearn.model_selection import StratifiedKFold

        counts = self._counts(dataset).tocsr()
        labels = dataset.labels
        tally = np.bincount(labels, minlength=len(dataset.classes))
        if tally.min() < 4:
            smallest = int(np.argmin(tally))
            raise DataError(
                "Validation influence needs at least 4 rows of every class (two per half); class "
                f"{dataset.classes[smallest]!r} has {int(tally[smallest])}."
            )
        rng = np.random.default_rng(self.random_state)
        halves = StratifiedKFold(n_splits=2, shuffle=True, random_state=self.random_state)
        scores = np.empty(len(dataset))
        for train_rows, held_rows in halves.split(np.zeros(len(dataset)), labels):
            if held_rows.size > self.n_validation:
                held_rows = np.sort(rng.choice(held_rows, size=self.n_validation, replace=False))
            scores[train_rows] = validation_influence(
                counts[train_rows],
                labels[train_rows],
                counts[held_rows],
                labels[held_rows],
                len(dataset.classes),
                float(self.alpha),
            )
        return scores

    def flag(self, dataset: Dataset) -> npt.NDArray[np.bool_]:
        """Rows a Naive Bayes trained on all other rows assigns to another class (``margin``),
        or whose removal raises the other half's log-likelihood (``validation``)."""
        return self.score(dataset) > 0.0

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, flags, and for ``margin`` the leave-one-out and in-sample log-odds of each flag."""
        if self.kind == "validation":
            scores = self.score(dataset)
            flags = scores > 0.0
            told = tuple(
                f"removing it raises the other half's mean label log-likelihood by {s:.2g}" if f else ""
                for f, s in zip(flags.tolist(), scores.tolist())
            )
            return Findings(scores, flags, told)
        loo, full = self._loo(dataset)
        raw = _against_label(loo, dataset.labels)
        scores = check_scores(_finite(raw), dataset)
        inside = _against_label(full, dataset.labels)
        flags = scores > 0.0
        best = _best_other(loo, dataset.labels)
        reasons: list[str] = []
        for flagged, label, guess, out, within in zip(
            flags.tolist(), dataset.labels.tolist(), best.tolist(), raw.tolist(), inside.tolist()
        ):
            reasons.append(
                f"labelled {dataset.classes[label]!r} but Naive Bayes trained on every other row says "
                f"{dataset.classes[guess]!r} by log-odds {out:.1f} (trained with it: {within:.1f})"
                if flagged
                else ""
            )
        return Findings(scores, flags, tuple(reasons))


def _best_other(joint: FloatArray, labels: IntArray) -> IntArray:
    other = joint.copy()
    other[np.arange(labels.size), labels] = -np.inf
    return np.asarray(other.argmax(axis=1), dtype=np.int64)


def _against_label(joint: FloatArray, labels: IntArray) -> FloatArray:
    """Log-odds of the best other class over the given label, per row."""
    rows = np.arange(labels.size)
    best = joint[rows, _best_other(joint, labels)]
    with np.errstate(invalid="ignore"):
        return np.asarray(best - joint[rows, labels], dtype=np.float64)


def _finite(scores: FloatArray) -> FloatArray:
    """Infinite scores (a class's only row, removed) move just past the finite ones, order kept."""
    values = np.array(scores, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.all():
        return values
    high = float(values[finite].max()) + 1.0 if finite.any() else 1.0
    low = float(values[finite].min()) - 1.0 if finite.any() else -1.0
    values[np.isnan(values) | (values == np.inf)] = high
    values[values == -np.inf] = low
    return values


__all__ = [
    "CountModel",
    "NaiveBayesInfluence",
    "leave_one_out_joint",
    "leave_rows_out_joint",
    "validation_influence",
]
