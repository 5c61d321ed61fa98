"""`NaiveBayesInfluence`: exact leave-one-out influence of each row on a Naive Bayes model.

Multinomial Naive Bayes is sums of counts, so the model without row i is the model with row
i's word counts subtracted from its class: every leave-one-out refit is a few array
operations, not a refit (no library computes this, hence the arithmetic here). The vocabulary
is the one fitted on all rows and stays fixed when a row is removed.

Rows with the same text and the same label get the same answer, so the detector works once per
distinct (text, label) pair, weighted by how many rows carry it (`word_counts` gives the shared
counts): exact, and a corpus full of repeats costs what its distinct pairs cost.
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
from poisonlab.detectors.word_counts import label_pairs, word_counts

KINDS = ("margin", "validation")
IntArray = npt.NDArray[np.int64]
_BLOCK = 4_000_000  # floats per dense block of (validation rows x removed rows)
_GROUP_ROWS = 200_000  # rows of groups judged at once by leave_groups_out_joint (bounds its memory)


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
    def fit(
        cls,
        counts: Any,
        labels: IntArray,
        n_classes: int,
        alpha: float,
        multiplicity: npt.ArrayLike | None = None,
    ) -> CountModel:
        """Count words per class from a sparse row-by-word count matrix; `multiplicity` (one
        whole number per row, default 1) says how many identical rows each row stands for."""
        n = labels.size
        weights = np.ones(n) if multiplicity is None else np.asarray(multiplicity, dtype=np.float64)
        onehot = np.zeros((n, n_classes))
        onehot[np.arange(n), labels] = weights
        feature_counts = np.ascontiguousarray(np.asarray(counts.T @ onehot, dtype=np.float64).T)
        class_counts = np.bincount(labels, weights=weights, minlength=n_classes).astype(np.float64)
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
    class_of_entry = np.repeat(labels, np.diff(counts.indptr))
    own = model.feature_counts[class_of_entry, counts.indices] + model.alpha
    numerator = sp.csr_matrix(
        (np.log(own - counts.data) - np.log(own), counts.indices, counts.indptr), shape=counts.shape
    )
    size = np.asarray(counts.sum(axis=1)).ravel()
    totals = model.totals[labels]
    denominator = np.log(totals - size) - np.log(totals)
    with np.errstate(divide="ignore"):
        prior = np.log(model.class_counts[labels] - 1.0) - np.log(model.class_counts[labels])
    return numerator, denominator, prior


def leave_one_out_joint(
    counts: Any,
    labels: IntArray,
    n_classes: int,
    alpha: float = 1.0,
    *,
    multiplicity: npt.ArrayLike | None = None,
) -> FloatArray:
    """Per row, the joint log-likelihood of every class under Naive Bayes fitted on all other rows.

    Equal to refitting ``MultinomialNB(alpha=alpha)`` on the other rows (same columns) and
    calling ``predict_joint_log_proba`` on the row; a class whose only row is removed gets
    ``-inf``. With `multiplicity`, row i stands for ``multiplicity[i]`` identical rows and its
    answer is for removing one of them: the same numbers as the repeated rows would get.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> counts = sp.csr_matrix([[2, 0], [1, 1], [0, 3], [0, 1]])
    >>> labels = np.array([0, 0, 1, 1])
    >>> loo = leave_one_out_joint(counts, labels, 2)
    >>> loo.argmax(axis=1).tolist()
    [0, 1, 1, 1]
    """
    import scipy.sparse as sp

    matrix = sp.csr_matrix(counts, dtype=np.float64)
    model = CountModel.fit(matrix, labels, n_classes, alpha, multiplicity)
    joint = model.joint_log_likelihood(matrix)
    numerator, denominator, prior = _removal_terms(model, matrix, labels)
    size = np.asarray(matrix.sum(axis=1)).ravel()
    n = labels.size if multiplicity is None else float(model.class_counts.sum())
    rows = np.arange(labels.size)
    # sum_j x_j * (change of log P(word_j | own class)); numerator has the counts' sparsity
    own_terms = sp.csr_matrix(
        (numerator.data * matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape
    )
    own_change = own_terms @ np.ones(matrix.shape[1])
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

    Groups are judged together, a batch of about `_GROUP_ROWS` rows at a time: for every
    nonzero count of a group's rows, the word's count in its class minus the group's own count
    of it, with no per-group pass over the vocabulary.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> counts = sp.csr_matrix([[2, 0], [1, 0], [0, 3], [2, 0], [2, 0]])
    >>> labels = np.array([0, 0, 1, 1, 1])
    >>> [j.argmax(axis=1).tolist() for j in leave_groups_out_joint(counts, labels, [[3, 4], [2]], 2)]
    [[0, 0], [0]]
    """
    import scipy.sparse as sp

    matrix = sp.csr_matrix(counts)
    labels = np.asarray(labels, dtype=np.int64)
    model = CountModel.fit(matrix, labels, n_classes, alpha)
    word_total = model.feature_counts.sum(axis=1)
    batch: list[IntArray] = []
    batch_rows = 0
    for rows in groups:
        chosen = np.asarray(rows, dtype=np.int64).ravel()
        batch.append(chosen)
        batch_rows += chosen.size
        if batch_rows >= _GROUP_ROWS:
            yield from _judge_groups(matrix, labels, batch, model, word_total)
            batch, batch_rows = [], 0
    if batch:
        yield from _judge_groups(matrix, labels, batch, model, word_total)


def _judge_groups(
    matrix: Any, labels: IntArray, groups: list[IntArray], model: CountModel, word_total: FloatArray
) -> Iterator[FloatArray]:
    """The joint log-likelihood of each group's rows under `model` minus that group's rows.

    Computes, per nonzero count, the same terms in the same order as refitting and calling
    ``joint_log_likelihood`` would (so the numbers match it), without a vocabulary-wide array
    per group.
    """
    import scipy.sparse as sp

    n_classes, n_words = model.feature_counts.shape
    sizes = np.fromiter((g.size for g in groups), dtype=np.int64, count=len(groups))
    rows = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    group_of = np.repeat(np.arange(len(groups), dtype=np.int64), sizes)
    part = sp.csr_matrix(matrix[rows], dtype=np.float64)
    cell = group_of * n_classes + labels[rows]
    gather = sp.csr_matrix(
        (np.ones(rows.size), (cell, np.arange(rows.size))), shape=(len(groups) * n_classes, rows.size)
    )
    removed = sp.csr_matrix(gather @ part)
    removed.sum_duplicates()  # canonical: element look-ups below search sorted rows
    removed_rows = np.bincount(cell, minlength=len(groups) * n_classes).reshape(-1, n_classes)
    removed_words = np.asarray(removed.sum(axis=1)).reshape(-1, n_classes)
    rest_rows = model.class_counts[None, :] - removed_rows
    totals = (word_total[None, :] - removed_words) + model.alpha * n_words
    with np.errstate(divide="ignore"):
        log_prior = np.log(rest_rows) - np.log(rest_rows.sum(axis=1, keepdims=True))
    group_of_entry = group_of[np.repeat(np.arange(rows.size), np.diff(part.indptr))]
    ones = np.ones(n_words)
    joint = np.empty((rows.size, n_classes))
    for c in range(n_classes):
        own = np.asarray(removed[group_of_entry * n_classes + c, part.indices], dtype=np.float64).ravel()
        log_theta = np.log(model.feature_counts[c, part.indices] - own + model.alpha) - np.log(
            totals[group_of_entry, c]
        )
        terms = sp.csr_matrix((part.data * log_theta, part.indices, part.indptr), shape=part.shape)
        joint[:, c] = terms @ ones
    joint += log_prior[group_of]
    stops = np.cumsum(sizes)
    for start, stop in zip((stops - sizes).tolist(), stops.tolist()):
        yield joint[start:stop]


def validation_influence(
    counts: Any,
    labels: IntArray,
    validation_counts: Any,
    validation_labels: IntArray,
    n_classes: int,
    alpha: float = 1.0,
    *,
    multiplicity: npt.ArrayLike | None = None,
    validation_multiplicity: npt.ArrayLike | None = None,
) -> FloatArray:
    """Per training row, how much removing it raises the mean log-likelihood of the validation labels.

    ``mean_r log P(y_r | x_r)`` over the validation rows, for Naive Bayes fitted without the
    row, minus the same for Naive Bayes fitted on every row; positive means the row pulls the
    model away from the validation labels. Exact, by count arithmetic, in blocks of rows.
    `multiplicity` and `validation_multiplicity` let one row stand for that many identical rows
    (removing one of them; a weighted mean over the validation rows).

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

    model = CountModel.fit(counts, labels, n_classes, alpha, multiplicity)
    numerator, denominator, prior = _removal_terms(model, counts, labels)
    validation_counts = sp.csr_matrix(validation_counts, dtype=np.float64)
    joint = model.joint_log_likelihood(validation_counts)  # (m, K)
    m = validation_labels.size
    if validation_multiplicity is None:
        weights = np.full(m, 1.0 / m)
    else:
        weights = np.asarray(validation_multiplicity, dtype=np.float64)
        weights = weights / weights.sum()
    normaliser = logsumexp(joint, axis=1)
    without = np.empty((m, n_classes))  # log-sum-exp over the classes other than each class
    for c in range(n_classes):
        others = np.delete(joint, c, axis=1)
        without[:, c] = logsumexp(others, axis=1) if others.shape[1] else -np.inf
    size = np.asarray(validation_counts.sum(axis=1)).ravel()
    numerator_t = numerator.T.tocsc()
    influence = np.empty(labels.size)
    block = max(1, _BLOCK // max(m, 1))
    by_class = np.argsort(labels, kind="stable")
    ends = np.cumsum(np.bincount(labels, minlength=n_classes))
    buffers = np.empty((2, min(block, labels.size) * m))  # reused: fresh blocks cost page faults
    for c in range(n_classes):
        members = by_class[ends[c] - np.count_nonzero(labels == c) : ends[c]]
        own = validation_labels == c
        for start in range(0, members.size, block):
            removed = members[start : start + block]  # rows of class c: only class c's terms move
            change = buffers[0, : m * removed.size].reshape(m, removed.size)  # (m, rows) log-odds change
            change.fill(0.0)
            (validation_counts @ numerator_t[:, removed]).toarray(out=change)
            shift = buffers[1, : m * removed.size].reshape(m, removed.size)
            change -= np.multiply(size[:, None], denominator[None, removed], out=shift)
            change += prior[removed]
            with np.errstate(invalid="ignore"):
                # log P(y_r | x_r) moves by [y_r == c] * change - (new normaliser - old normaliser)
                raised = weights[own] @ change[own]
                change += joint[:, c, None]
                np.logaddexp(without[:, c, None], change, out=change)
                change -= normaliser[:, None]
                influence[removed] = raised - weights @ change
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
    exact for Naive Bayes). Rows with the same text and label get the same answer, so both are
    computed once per distinct (text, label) pair of the shared `word_counts`, weighted by
    the rows carrying it: exact, not an approximation.

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
        counts = word_counts(dataset)
        if counts.n_words == 0:
            raise DataError("Naive Bayes influence needs texts with words; no text here has one.")
        return counts

    def _margins(self, dataset: Dataset) -> tuple[FloatArray, IntArray, IntArray, Any]:
        """Leave-one-out joint log-likelihoods per distinct (text, label) pair, the pairs' labels,
        each row's pair, and the pairs' count matrix."""
        counts = self._counts(dataset)
        n_classes = len(dataset.classes)
        texts, labels, multiplicity, pair_of_row = label_pairs(counts.text_of_row, dataset.labels, n_classes)
        matrix = counts.matrix[texts].astype(np.float64)
        loo = leave_one_out_joint(matrix, labels, n_classes, float(self.alpha), multiplicity=multiplicity)
        return loo, labels, pair_of_row, (matrix, multiplicity)

    def score(self, dataset: Dataset) -> FloatArray:
        """Leave-one-out margin against the own label, or influence on the other half's labels."""
        if self.kind == "margin":
            loo, labels, pair_of_row, _ = self._margins(dataset)
            return check_scores(_finite(log_odds_against(loo, labels))[pair_of_row], dataset)
        return check_scores(_finite(self._validation_scores(dataset)), dataset)

    def _validation_scores(self, dataset: Dataset) -> FloatArray:
        from sklearn.model_selection import StratifiedKFold

        counts = self._counts(dataset)
        matrix = counts.matrix.astype(np.float64)
        labels = dataset.labels
        n_classes = len(dataset.classes)
        tally = np.bincount(labels, minlength=n_classes)
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
            texts, pair_labels, multiplicity, pair_of_row = label_pairs(
                counts.text_of_row[train_rows], labels[train_rows], n_classes
            )
            held_texts, held_labels, held_multiplicity, _ = label_pairs(
                counts.text_of_row[held_rows], labels[held_rows], n_classes
            )
            influence = validation_influence(
                matrix[texts],
                pair_labels,
                matrix[held_texts],
                held_labels,
                n_classes,
                float(self.alpha),
                multiplicity=multiplicity,
                validation_multiplicity=held_multiplicity,
            )
            scores[train_rows] = influence[pair_of_row]
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
            told = [""] * len(dataset)
            for row in np.flatnonzero(flags).tolist():
                told[row] = (
                    f"removing it raises the other half's mean label log-likelihood by {scores[row]:.2g}"
                )
            return Findings(scores, flags, tuple(told))
        loo, labels, pair_of_row, (matrix, multiplicity) = self._margins(dataset)
        n_classes = len(dataset.classes)
        full = CountModel.fit(
            matrix, labels, n_classes, float(self.alpha), multiplicity
        ).joint_log_likelihood(matrix)
        raw = log_odds_against(loo, labels)
        scores = check_scores(_finite(raw)[pair_of_row], dataset)
        inside = log_odds_against(full, labels)
        flags = scores > 0.0
        best = best_other(loo, labels)
        reasons = [""] * len(dataset)
        for row in np.flatnonzero(flags).tolist():
            pair = int(pair_of_row[row])
            reasons[row] = (
                f"labelled {dataset.classes[labels[pair]]!r} but Naive Bayes trained on every other row "
                f"says {dataset.classes[best[pair]]!r} by log-odds {raw[pair]:.1f} (trained with it: "
                f"{inside[pair]:.1f})"
            )
        return Findings(scores, flags, tuple(reasons))


def best_other(joint: FloatArray, labels: IntArray) -> IntArray:
    """Per row, the most likely class other than its label.

    Examples
    --------
    >>> best_other(np.log(np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])), np.array([0, 2])).tolist()
    [1, 1]
    """
    other = joint.copy()
    other[np.arange(labels.size), labels] = -np.inf
    return np.asarray(other.argmax(axis=1), dtype=np.int64)


def log_odds_against(joint: FloatArray, labels: IntArray) -> FloatArray:
    """Log-odds of the best other class over the given label, per row.

    Examples
    --------
    >>> log_odds_against(np.log(np.array([[0.9, 0.1], [0.2, 0.8]])), np.array([1, 1])).round(2).tolist()
    [2.2, -1.39]
    """
    rows = np.arange(labels.size)
    best = joint[rows, best_other(joint, labels)]
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
    "best_other",
    "leave_one_out_joint",
    "leave_rows_out_joint",
    "log_odds_against",
    "validation_influence",
]
