"""`SpectralSignature`: poison as the top principal direction inside its labelled class."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_choice, check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.representation import (
    REPRESENTATIONS,
    Rows,
    principal_projections,
    represent,
    total_variance,
)
from poisonlab.victims.factory import VICTIMS


def top_direction_scores(
    rows: Rows, *, weights: npt.ArrayLike | None = None, random_state: int | None = 0
) -> FloatArray:
    """Squared projection of each centred row on the rows' top principal direction.

    Scaled by its mean, so a class's scores average 1 whatever its size and spread; rows along
    a direction few rows share score far above 1. Each row counts `weights` times (default
    once) in the mean, the direction and the average: exactly the scores of the rows repeated
    (see `principal_projections`; sparse rows are centred implicitly, never densified). Fewer
    than two rows, or no variance: zeros.

    Examples
    --------
    >>> rows = np.array([[0.0, 0.1], [0.1, 0.0], [0.0, 0.0], [0.1, 0.1], [5.0, 5.0]])
    >>> int(top_direction_scores(rows).argmax())
    4
    """
    n, d = rows.shape
    if n < 2 or min(n, d) < 2 or total_variance(rows, weights) <= 0:
        return np.zeros(n)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    projection = principal_projections(rows, 1, weights=w, random_state=random_state)
    energy = projection[:, 0] ** 2
    mean = float(w @ energy / w.sum())
    return energy / mean if mean > 0 else np.zeros(n)


@DETECTORS.register("spectral_signature")
@dataclasses.dataclass(frozen=True, kw_only=True)
class SpectralSignature(Detector):
    """Spectral signatures (Tran, Li & Madry 2018): outliers along a class's top singular direction.

    Within each class, the rows are centred and projected on their top principal direction;
    a row's score is its squared projection divided by the class mean, so scores of different
    classes are comparable. Poison rows labelled into a class they do not belong to pull that
    direction toward themselves and score far above 1.

    The representation decides whether it works (see `poisonlab.detectors.representation`):
    ``weighted`` (binary bag-of-words times the weights of a linear `victim` fitted on the
    data, the text analogue of a network's activations) finds a dirty-label backdoor; the
    plain ``counts`` and ``tfidf_svd`` spaces are baselines that mostly do not.

    Rows repeating a (text, label) pair are represented and scored once, weighted by their
    count (`poisonlab.detectors.representation.DistinctRows`): the victim fit, the class mean
    and the top direction are those of the repeated rows, so the scores are exact, and the
    time grows with the distinct pairs. The representation is shared with the other detectors
    run on the same dataset object (`poisonlab.detectors.representation.represent`).

    Parameters
    ----------
    representation : {"weighted", "counts", "tfidf_svd"}
        The space the rows are compared in.
    victim : str
        The registered victim whose weights scale the ``weighted`` representation.
    svd_components : int
        Dimensions of the ``tfidf_svd`` representation.
    random_state : int
        Seeds the victim, the SVD and the eigensolver.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_dataset
    >>> from poisonlab.metrics import auroc
    >>> attacked = Backdoor(trigger="PROMO2026", rate=0.01).apply(load_dataset("sms_spam"), random_state=0)
    >>> scores = SpectralSignature().score(attacked.poisoned)
    >>> bool(auroc(attacked.is_poison, scores) > 0.95)
    True
    """

    name: ClassVar[str] = "spectral_signature"
    paper: ClassVar[str] = "Tran, Li & Madry (2018), Spectral Signatures in Backdoor Attacks, NeurIPS."
    targets: ClassVar[tuple[str, ...]] = ("backdoor",)

    representation: str = "weighted"
    victim: str = "logreg"
    svd_components: int = 100
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_choice("SpectralSignature", "representation", self.representation, REPRESENTATIONS)
        check_choice("SpectralSignature", "victim", self.victim, VICTIMS.names())
        check_positive_int("SpectralSignature", "svd_components", self.svd_components)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("SpectralSignature", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, a linear-SVM victim, and each baseline representation."""
        return [
            cls(),
            cls(victim="svm", random_state=1),
            cls(representation="counts"),
            cls(representation="tfidf_svd", svd_components=20),
        ]

    def score(self, dataset: Dataset) -> FloatArray:
        """Per row, its class's top-direction energy over the class mean (about 1 for a typical row)."""
        represented = represent(
            dataset,
            self.representation,
            victim=self.victim,
            svd_components=self.svd_components,
            random_state=self.random_state,
        )
        scores = represented.scores_within_classes(
            lambda rows, weights: top_direction_scores(rows, weights=weights, random_state=self.random_state)
        )
        return check_scores(scores, dataset)


__all__ = ["SpectralSignature", "top_direction_scores"]
