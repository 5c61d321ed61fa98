"""`IterativeRelabel`: label issues judged by models trained on labels cleaned by iterative relabelling.

A targeted label flip moves most of one class into another (10 % of the SMS training split
is 75 % of its spam), so any model trained on the given labels learns that the flipped class's
words belong to the other class, and judges the flipped rows by that lesson. Here the labels
are first cleaned by iterative relabelling with exact leave-one-out Naive Bayes (each row
judged by a model of all the other rows, with the class prior left out so the shrunken class
is not outvoted for being small; relabel; repeat until no label moves), then two models
trained on the cleaned labels judge each row's *given* label out of fold, and cleanlab's
confident-learning rule draws the line.

Hand-written: the leave-one-out relabelling rounds (no library refits Naive Bayes by count
arithmetic; each round is a few array operations). The threshold is cleanlab's.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.confident_learning import _cleanlab
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.nb_influence import leave_one_out_joint
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.word_counts import WordCounts, label_pairs, word_counts

IntArray = npt.NDArray[np.int64]

LINEAR_PAIRS = 100_000
"""Most distinct (text, label) pairs the logistic regression trains on per fold: above it, a
seeded sample (a million-row corpus's folds hold ~360,000; the fit's time grows with them, its
judgement of a held-out row hardly). The bundled corpora hold ~5,000."""


def relabel_rounds(
    counts: WordCounts, labels: IntArray, n_classes: int, *, alpha: float = 1.0, max_rounds: int = 10
) -> tuple[IntArray, FloatArray, int]:
    """Iterative relabelling by leave-one-out Naive Bayes without the class prior.

    In each round every row is judged by a multinomial Naive Bayes fitted on all other rows
    under the current labels (exact, by count arithmetic), its class prior left out (a
    class-balanced decision); a row takes the class that model prefers, its given label when
    none is preferred. Stops when no label moves, or after `max_rounds`.

    Returns
    -------
    cleaned : ndarray of int
        The labels after the last round.
    posterior : ndarray of float, shape (n_rows, n_classes)
        The last round's leave-one-out class probabilities (uniform prior).
    rounds : int
        Rounds run.

    Examples
    --------
    >>> from poisonlab.detectors.word_counts import count_words
    >>> counts = count_words(["win cash", "win cash now", "cash win", "see you", "see you soon"])
    >>> cleaned, _, _ = relabel_rounds(counts, np.array([1, 1, 0, 0, 0]), 2)
    >>> cleaned.tolist()
    [1, 1, 1, 0, 0]
    """
    given = np.asarray(labels, dtype=np.int64)
    current = given.copy()
    rows = np.arange(given.size)
    posterior = np.full((given.size, n_classes), 1.0 / n_classes)
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        texts, pair_labels, multiplicity, pair_of_row = label_pairs(counts.text_of_row, current, n_classes)
        joint = leave_one_out_joint(
            counts.matrix[texts].astype(np.float64), pair_labels, n_classes, alpha, multiplicity=multiplicity
        )
        # leave the class prior out: subtract log(rows of the class without this row / rows - 1)
        rest = np.tile(np.bincount(current, minlength=n_classes).astype(np.float64), (pair_labels.size, 1))
        rest[np.arange(pair_labels.size), pair_labels] -= 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            joint = joint - (np.log(rest) - np.log(rest.sum(axis=1, keepdims=True)))
        joint[~np.isfinite(joint)] = -np.inf  # a class with no other row is no candidate
        joint[~np.isfinite(joint).any(axis=1)] = 0.0
        top = joint.max(axis=1, keepdims=True)
        pair_posterior = np.exp(joint - top)
        pair_posterior /= pair_posterior.sum(axis=1, keepdims=True)
        posterior = pair_posterior[pair_of_row]
        best = posterior.argmax(axis=1)
        moved = posterior[rows, best] > posterior[rows, given]
        updated = np.where(moved, best, given)
        if np.array_equal(updated, current):
            break
        current = updated
    return current, posterior, rounds


@DETECTORS.register("iterative_relabel")
@dataclasses.dataclass(frozen=True, kw_only=True)
class IterativeRelabel(Detector):
    """Label issues judged by models trained on iteratively relabelled data, flagged by confident learning.

    1. Labels are cleaned by `relabel_rounds`: exact leave-one-out multinomial Naive Bayes
       without the class prior, relabel, repeat until no label moves (at most `max_rounds`).
       Against a targeted flip each round moves more flipped rows back, so the next round's
       models unlearn more of the attack (iterative relabelling in the spirit of Paudice et al.'s
       label sanitization, with a model instead of neighbours).
    2. Two models trained on the cleaned labels give each row class probabilities: the last
       round's leave-one-out Naive Bayes (word counts), and a class-balanced logistic
       regression on sublinear TF-IDF of the words carried by at least two rows (liblinear,
       ``C=10``) out of fold over a stratified, seeded `n_splits`-fold split of the distinct
       (text, label) pairs, each weighted by its rows (at most `LINEAR_PAIRS` of them per fold,
       a seeded sample). Their mean is the row's probability vector.
    3. The score is one minus the probability of the given label; the flags are
       ``cleanlab.filter.find_label_issues`` (default ``prune_by_noise_rate``) on the given labels
       and those probabilities: per-class thresholds from the data's own mean self-confidence,
       and as many flags as the confident joint estimates wrong labels. No threshold is a
       constant.

    Parameters
    ----------
    max_rounds : int
        Most relabelling rounds.
    n_splits : int
        Folds of the logistic regression's out-of-fold probabilities (at least 2).
    random_state : int
        Seeds the folds.

    Examples
    --------
    Ten of 71 spam messages among 500 relabelled ham; how many of them are flagged, of how many:

    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_dataset
    >>> attacked = LabelFlip(strategy="targeted", n=10).apply(
    ...     load_dataset("sms_spam").take(range(500)), random_state=0
    ... )
    >>> flags = IterativeRelabel().flag(attacked.poisoned)
    >>> int((flags & attacked.is_poison).sum()), int(flags.sum())
    (8, 10)
    """

    name: ClassVar[str] = "iterative_relabel"
    paper: ClassVar[str] = (
        "Paudice, Muñoz-González & Lupu (2018), Label Sanitization against Label Flipping Poisoning "
        "Attacks (iterative relabelling); Northcutt, Jiang & Chuang (2021), Confident Learning, JAIR 70 "
        "(the flags, through cleanlab)."
    )
    targets: ClassVar[tuple[str, ...]] = ("label_flip",)

    max_rounds: int = 10
    n_splits: int = 5
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_positive_int("IterativeRelabel", "max_rounds", self.max_rounds)
        check_positive_int("IterativeRelabel", "n_splits", self.n_splits)
        if self.n_splits < 2:
            raise fail("IterativeRelabel", "n_splits", "an int >= 2", self.n_splits)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("IterativeRelabel", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, and a single round with three folds and another seed."""
        return [cls(), cls(max_rounds=1, n_splits=3, random_state=1)]

    def proba(self, dataset: Dataset) -> tuple[FloatArray, IntArray]:
        """Per row, the class probabilities of the models trained on the cleaned labels, and those labels."""
        n_classes = len(dataset.classes)
        counts_per_class = np.bincount(dataset.labels, minlength=n_classes)
        if counts_per_class.min() < 2:
            smallest = int(np.argmin(counts_per_class))
            raise DataError(
                f"Iterative relabelling needs at least 2 rows of every class; class "
                f"{dataset.classes[smallest]!r} has {int(counts_per_class[smallest])}."
            )
        counts = word_counts(dataset)
        if counts.n_words == 0:
            raise DataError("Iterative relabelling needs texts with words; no text here has one.")
        cleaned, posterior, _ = relabel_rounds(counts, dataset.labels, n_classes, max_rounds=self.max_rounds)
        linear = self._linear_proba(counts, cleaned, posterior, n_classes)
        mean: FloatArray = (posterior + linear) / 2.0
        return mean, cleaned

    def _linear_proba(
        self, counts: WordCounts, cleaned: IntArray, fallback: FloatArray, n_classes: int
    ) -> FloatArray:
        """Out-of-fold class-balanced logistic regression on sublinear TF-IDF, trained on `cleaned`;
        rows of a fold whose training rows lack a class keep `fallback`.

        Fitted once per distinct (text, label) pair weighted by its rows (the same objective as
        the repeated rows), with the folds drawn over pairs, so a row's copies are never in the
        training fold that judges it, and a large corpus of repeats costs its distinct texts."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        texts, pair_labels, multiplicity, pair_of_row = label_pairs(counts.text_of_row, cleaned, n_classes)
        tally = np.bincount(pair_labels, minlength=n_classes)
        present = tally[tally > 0]
        folds = int(min(self.n_splits, present.min()))
        proba: FloatArray = fallback.copy()
        if folds < 2 or present.size < 2:
            return proba
        # a word carried by one row only carries nothing from training rows to held-out ones: dropped
        rows_with = np.bincount(
            counts.matrix.indices,
            weights=np.repeat(counts.multiplicity, np.diff(counts.matrix.indptr)),
            minlength=counts.n_words,
        )
        vectors = counts.tfidf(sublinear=True)[:, np.flatnonzero(rows_with >= 2)][texts]
        rows_of_class = np.bincount(cleaned, minlength=n_classes).astype(np.float64)
        balance = cleaned.size / (present.size * np.maximum(rows_of_class, 1.0))  # "balanced", by rows
        weights = multiplicity * balance[pair_labels]
        pair_proba = np.full((texts.size, n_classes), np.nan)
        split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        rng = np.random.default_rng(self.random_state)
        for train, test in split.split(np.zeros((texts.size, 1)), pair_labels):
            if train.size > LINEAR_PAIRS:  # a seeded sample: time bounded, the weights keep its balance
                train = np.sort(rng.choice(train, LINEAR_PAIRS, replace=False))
            seen = np.unique(pair_labels[train])
            if seen.size < 2:
                continue
            model = LogisticRegression(C=10.0, solver="liblinear", random_state=self.random_state).fit(
                vectors[train], pair_labels[train], sample_weight=weights[train]
            )
            part = np.zeros((test.size, n_classes))
            part[:, seen] = model.predict_proba(vectors[test])
            pair_proba[test] = part
        judged = ~np.isnan(pair_proba[pair_of_row, 0])
        proba[judged] = pair_proba[pair_of_row[judged]]
        return proba

    def score(self, dataset: Dataset) -> FloatArray:
        """One minus the probability of the given label under the models trained on cleaned labels."""
        proba, _ = self.proba(dataset)
        return self._scores(dataset, proba)

    @staticmethod
    def _scores(dataset: Dataset, proba: FloatArray) -> FloatArray:
        given: FloatArray = proba[np.arange(len(dataset)), dataset.labels]
        return check_scores(1.0 - given, dataset)

    @staticmethod
    def _flags(dataset: Dataset, proba: FloatArray) -> npt.NDArray[np.bool_]:
        issues = _cleanlab().filter.find_label_issues(dataset.labels, proba, n_jobs=1)
        return np.asarray(issues, dtype=bool)

    def flag(self, dataset: Dataset) -> npt.NDArray[np.bool_]:
        """``cleanlab.filter.find_label_issues`` on the given labels and the cleaned-label probabilities."""
        proba, _ = self.proba(dataset)
        return self._flags(dataset, proba)

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, flags, and for each flagged row the class the cleaned-label models prefer."""
        proba, cleaned = self.proba(dataset)
        scores = self._scores(dataset, proba)
        flags = self._flags(dataset, proba)
        moved = int((cleaned != dataset.labels).sum())
        told = [""] * len(dataset)
        for row in np.flatnonzero(flags).tolist():
            label = int(dataset.labels[row])
            others = proba[row].copy()
            others[label] = -1.0
            guess = int(others.argmax())
            told[row] = (
                f"labelled {dataset.classes[label]!r} but models trained on the labels cleaned by "
                f"relabelling ({moved} rows moved) give {dataset.classes[label]!r} "
                f"p={proba[row, label]:.2f} and {dataset.classes[guess]!r} p={proba[row, guess]:.2f}"
            )
        return Findings(scores, flags, tuple(told))


__all__ = ["IterativeRelabel", "relabel_rounds"]
