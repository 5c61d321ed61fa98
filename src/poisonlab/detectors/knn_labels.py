"""`KnnLabelDisagreement`: a row whose nearest neighbours carry another label (Paudice et al. 2018)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_choice, check_positive_int, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS

WEIGHTS = ("uniform", "distance")


@DETECTORS.register("knn_labels")
@dataclasses.dataclass(frozen=True, kw_only=True)
class KnnLabelDisagreement(Detector):
    """kNN label disagreement (Paudice, Muñoz-González & Lupu 2018, label sanitization).

    Each row is compared with its `n_neighbors` nearest other rows by cosine similarity of
    TF-IDF vectors (sublinear term frequency); identical texts are neighbours at distance 0.
    The neighbours vote for their labels, weighted by similarity (``distance``) or equally
    (``uniform``), smoothed by one pseudo-vote spread over the classes by their share of the
    data (a row sharing no word with any other, weighed by similarity, keeps only that
    pseudo-vote). With `balanced`, each class's vote is divided by that class's share of the data, so
    a small class (spam after a targeted flip) is not outvoted merely for being small.

    The score is ``log(best other class's vote) - log(own label's vote)``; a row is flagged
    when it is positive: its neighbourhood prefers another label, as in Paudice et al.'s
    relabelling rule (with `balanced` off and two classes, exactly their majority rule).

    Parameters
    ----------
    n_neighbors : int
        Neighbours per row (fewer on a dataset with fewer rows).
    weights : {"uniform", "distance"}
        ``distance`` weighs each neighbour by its cosine similarity.
    balanced : bool
        Divide each class's vote by the class's share of the rows.

    Examples
    --------
    Ten of 71 spam messages among 500 relabelled ham; how many of them are flagged, of how many:

    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_dataset
    >>> attacked = LabelFlip(strategy="targeted", n=10).apply(
    ...     load_dataset("sms_spam").take(range(500)), random_state=0
    ... )
    >>> flags = KnnLabelDisagreement().flag(attacked.poisoned)
    >>> int((flags & attacked.is_poison).sum()), int(flags.sum())
    (9, 42)
    """

    name: ClassVar[str] = "knn_labels"
    paper: ClassVar[str] = (
        "Paudice, Muñoz-González & Lupu (2018), Label Sanitization against Label Flipping "
        "Poisoning Attacks, ECML PKDD workshops (LNCS 11329)."
    )
    targets: ClassVar[tuple[str, ...]] = ("label_flip",)

    n_neighbors: int = 20
    weights: str = "distance"
    balanced: bool = True

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_positive_int("KnnLabelDisagreement", "n_neighbors", self.n_neighbors)
        check_choice("KnnLabelDisagreement", "weights", self.weights, WEIGHTS)
        check_choice("KnnLabelDisagreement", "balanced", self.balanced, (True, False))

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, Paudice et al.'s plain majority vote, and a small uniform neighbourhood."""
        return [cls(), cls(n_neighbors=10, balanced=False), cls(n_neighbors=5, weights="uniform")]

    def votes(self, dataset: Dataset) -> FloatArray:
        """Per row and class, the smoothed (and, with `balanced`, class-balanced) neighbour vote."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.neighbors import NearestNeighbors

        n, n_classes = len(dataset), len(dataset.classes)
        labels = dataset.labels
        share = np.bincount(labels, minlength=n_classes) / max(n, 1)
        if n < 2:  # no neighbours: the vote is the prior alone
            return np.tile(np.ones(n_classes) if self.balanced else share, (n, 1))
        try:
            vectors = TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit_transform(dataset.texts)
        except ValueError:  # scikit-learn's "empty vocabulary": no text has a word
            raise DataError("kNN label disagreement needs texts with words; no text here has one.") from None
        k = min(self.n_neighbors, n - 1)
        index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(vectors)
        distance, neighbours = index.kneighbors()  # each row's neighbours, the row itself left out
        distance = distance.astype(np.float64)
        weight = np.clip(1.0 - distance, 0.0, 1.0) if self.weights == "distance" else np.ones_like(distance)
        total = weight.sum(axis=1, keepdims=True)
        # a row sharing no word with any other has no similar neighbour: its vote is the prior alone
        weight = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
        tally = np.zeros((n, n_classes))
        np.add.at(tally, (np.repeat(np.arange(n), k), labels[neighbours].ravel()), weight.ravel())
        vote = (k * tally + share) / (k + 1)
        return vote / share.clip(1e-12) if self.balanced else vote

    def score(self, dataset: Dataset) -> FloatArray:
        """Log ratio of the best other class's vote to the own label's vote."""
        return check_scores(_margin(self.votes(dataset), dataset.labels), dataset)

    def flag(self, dataset: Dataset) -> npt.NDArray[np.bool_]:
        """Rows whose neighbourhood prefers another label."""
        return self.score(dataset) > 0.0

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, flags, and the preferred label and neighbour shares of each flagged row."""
        vote = self.votes(dataset)
        scores = check_scores(_margin(vote, dataset.labels), dataset)
        flags = scores > 0.0
        share = np.bincount(dataset.labels, minlength=len(dataset.classes)) / max(len(dataset), 1)
        raw = vote * share if self.balanced else vote
        rows = np.arange(len(dataset))
        other = vote.copy()
        other[rows, dataset.labels] = -np.inf
        best = other.argmax(axis=1)
        k = min(self.n_neighbors, max(len(dataset) - 1, 1))
        reasons: list[str] = []
        for flagged, label, guess, mix in zip(flags.tolist(), dataset.labels.tolist(), best, raw):
            if not flagged:
                reasons.append("")
                continue
            reasons.append(
                f"labelled {dataset.classes[label]!r} but its {k} nearest neighbours vote "
                f"{mix[guess]:.0%} {dataset.classes[guess]!r} (that class is {share[guess]:.0%} of rows)"
            )
        return Findings(scores, flags, tuple(reasons))


def _margin(vote: FloatArray, labels: npt.NDArray[np.int64]) -> FloatArray:
    rows = np.arange(labels.size)
    own = vote[rows, labels]
    other = vote.copy()
    other[rows, labels] = -np.inf
    tiny = np.finfo(np.float64).tiny  # a class with no rows has no vote: keep its log finite
    margin = np.log(np.maximum(other.max(axis=1), tiny)) - np.log(np.maximum(own, tiny))
    return np.asarray(margin, dtype=np.float64)


__all__ = ["KnnLabelDisagreement"]
