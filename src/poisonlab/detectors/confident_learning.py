"""`ConfidentLearning`: label issues found by cleanlab on a victim's out-of-fold probabilities."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from poisonlab._errors import DataError
from poisonlab._params import check_choice, check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.out_of_fold import out_of_fold_proba
from poisonlab.detectors.registry import DETECTORS
from poisonlab.victims.factory import FEATURES, VICTIMS

METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given")


def _cleanlab() -> Any:
    try:
        import cleanlab.filter
        import cleanlab.rank
    except ImportError:
        raise DataError("Confident learning needs cleanlab: pip install 'poisonlab[detect]'.") from None
    return cleanlab


@DETECTORS.register("confident_learning")
@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfidentLearning(Detector):
    """Confident learning (Northcutt, Jiang & Chuang 2021) through the cleanlab library.

    A victim is trained on K-1 folds and predicts the held-out fold (`out_of_fold_proba`), so
    every row's label is judged by a model that never saw it. The score is one minus
    cleanlab's label-quality score (``cleanlab.rank.get_label_quality_scores``); the flags are
    ``cleanlab.filter.find_label_issues``, which estimates how many labels of each class are
    wrong from the confident joint and flags that many.

    Parameters
    ----------
    victim : str
        The model giving the out-of-fold probabilities (a registered victim name).
    features : {"count", "tfidf"}
        The victim's text features.
    n_splits : int
        Folds of the stratified split (at least 2).
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        cleanlab's label-quality score.
    filter_by : str
        cleanlab's rule for the flags: ``prune_by_noise_rate`` (its default), ``prune_by_class``,
        ``both``, ``confident_learning`` or ``predicted_neq_given``.
    random_state : int
        Seeds the folds and the victim.

    Examples
    --------
    Ten of 71 spam messages among 500 relabelled ham; how many of them cleanlab flags, of how many:

    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_dataset
    >>> attacked = LabelFlip(strategy="targeted", n=10).apply(
    ...     load_dataset("sms_spam").take(range(500)), random_state=0
    ... )
    >>> flags = ConfidentLearning().flag(attacked.poisoned)
    >>> int((flags & attacked.is_poison).sum()), int(flags.sum())
    (8, 14)
    """

    name: ClassVar[str] = "confident_learning"
    paper: ClassVar[str] = (
        "Northcutt, Jiang & Chuang (2021), Confident Learning: Estimating Uncertainty in Dataset "
        "Labels, JAIR 70; implementation: the cleanlab library."
    )
    targets: ClassVar[tuple[str, ...]] = ("label_flip",)

    victim: str = "nb"
    features: str = "count"
    n_splits: int = 5
    method: str = "self_confidence"
    filter_by: str = "prune_by_noise_rate"
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_choice("ConfidentLearning", "victim", self.victim, VICTIMS.names())
        check_choice("ConfidentLearning", "features", self.features, FEATURES)
        check_positive_int("ConfidentLearning", "n_splits", self.n_splits)
        if self.n_splits < 2:
            raise fail("ConfidentLearning", "n_splits", "an int >= 2", self.n_splits)
        check_choice("ConfidentLearning", "method", self.method, METHODS)
        check_choice("ConfidentLearning", "filter_by", self.filter_by, FILTERS)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("ConfidentLearning", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, a margin score with another filter, and a logistic-regression victim."""
        return [
            cls(),
            cls(method="normalized_margin", filter_by="both", n_splits=3, random_state=1),
            cls(victim="logreg", features="tfidf", filter_by="predicted_neq_given"),
        ]

    def proba(self, dataset: Dataset) -> FloatArray:
        """The out-of-fold probabilities the scores and flags are computed from."""
        return out_of_fold_proba(
            dataset,
            self.victim,
            features=self.features,
            n_splits=self.n_splits,
            random_state=self.random_state,
        )

    def score(self, dataset: Dataset) -> FloatArray:
        """One minus cleanlab's label-quality score of each row's given label."""
        return self._scores(dataset, self.proba(dataset))

    def _scores(self, dataset: Dataset, proba: FloatArray) -> FloatArray:
        # = get_label_quality_scores(method=...) minus its input checks, which loop over every
        # label in Python (0.17 s against 0.005 s at 1M rows); our labels and probabilities are valid
        score_by = getattr(_cleanlab().rank, f"get_{self.method}_for_each_label")
        quality = score_by(dataset.labels, proba)
        return check_scores(1.0 - np.asarray(quality, dtype=np.float64), dataset)

    def flag(self, dataset: Dataset) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """``cleanlab.filter.find_label_issues`` with this detector's `filter_by`."""
        return self._flags(dataset, self.proba(dataset))

    def _flags(self, dataset: Dataset, proba: FloatArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
        issues = _cleanlab().filter.find_label_issues(
            dataset.labels,
            proba,
            filter_by=self.filter_by,
            n_jobs=1,  # cleanlab's worker processes cost more than they save (1M rows: 1.1 s vs 1.7 s)
        )
        return np.asarray(issues, dtype=bool)

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, cleanlab's flags, and for each flagged row the class the model prefers."""
        proba = self.proba(dataset)
        scores = self._scores(dataset, proba)
        flags = self._flags(dataset, proba)
        rows = np.flatnonzero(flags)
        others = proba[rows].copy()
        given = dataset.labels[rows]
        others[np.arange(rows.size), given] = -1.0
        predicted = others.argmax(axis=1)  # the most likely class other than the given one
        told = [""] * len(dataset)
        for row, label, guess in zip(rows.tolist(), given.tolist(), predicted.tolist()):
            told[row] = (
                f"labelled {dataset.classes[label]!r} but a {self.victim} model that never saw it gives "
                f"{dataset.classes[label]!r} p={proba[row, label]:.2f} and {dataset.classes[guess]!r} "
                f"p={proba[row, guess]:.2f}"
            )
        reasons = tuple(told)
        return Findings(scores, flags, reasons)


__all__ = ["ConfidentLearning"]
