"""`Trim`: TRIM-style trimmed training — fit, drop the highest-loss rows, refit, until stable."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses._training import fit_rows
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimLike, as_factory

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

MAX_DISCARD = 0.5


def row_losses(model: Any, texts: Sequence[str], labels: IntArray) -> FloatArray:
    """Per row, how badly the fitted `model` fits its label: higher is worse.

    The negative log-probability of the label where the model has ``predict_proba``
    (probabilities clipped at 1e-15); otherwise the negative decision margin of the label over
    the best other class (a linear SVM). Only the order within a class matters to trimming.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> model = make_victim("nb").fit(["cheap pills", "see you soon"], [1, 0])
    >>> losses = row_losses(model, ["cheap pills", "cheap pills"], np.array([1, 0]))
    >>> bool(losses[1] > losses[0])
    True
    """
    classes = np.asarray(model.classes_)
    column = np.minimum(np.searchsorted(classes, labels), classes.size - 1)
    known = classes[column] == labels
    rows = np.arange(labels.size)
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(list(texts)), dtype=np.float64)
        loss = -np.log(np.clip(proba[rows, column], 1e-15, 1.0))
        return np.where(known, loss, -np.log(1e-15))
    scores = np.asarray(model.decision_function(list(texts)), dtype=np.float64)
    if scores.ndim == 1:  # binary: positive scores mean the second class
        margin = np.where(column == 1, scores, -scores)
    else:
        others = scores.copy()
        others[rows, column] = -np.inf
        margin = scores[rows, column] - others.max(axis=1)
    return np.where(known, -margin, np.inf)


def keep_lowest(losses: FloatArray, labels: IntArray, discard: float) -> BoolArray:
    """Keep each class's rows except its ``round(discard * rows of the class)`` highest losses.

    Trimming per class keeps the minority class from being trimmed away: its rows are harder,
    so a global cut would drop them first. Ties go to the earlier row.

    Examples
    --------
    >>> keep_lowest(np.array([0.1, 5.0, 0.2, 0.3, 9.0, 0.1]), np.array([0, 0, 0, 1, 1, 1]), 0.34).tolist()
    [True, False, True, True, False, True]
    """
    keep = np.zeros(labels.size, dtype=bool)
    for cls in np.unique(labels):
        rows = np.flatnonzero(labels == cls)
        kept = rows.size - round(discard * rows.size)
        keep[rows[np.argsort(losses[rows], kind="stable")[:kept]]] = True
    return keep


@DEFENSES.register("trim")
@dataclasses.dataclass(frozen=True, kw_only=True)
class Trim(Defense):
    """Trimmed training: fit, drop each class's highest-loss rows, refit until the kept set is stable.

    TRIM (Jagielski et al. 2018) trains on the subset of rows the model itself fits best: fit
    on all rows, score every row's loss, keep the lowest-loss rows, refit on them, and repeat
    until the kept set stops changing or `max_iter` fits are done. Poison that contradicts the
    rest of the data (flipped labels, backdoor rows whose text says the other class) has high
    loss and falls out. TRIM was stated for regression with a known poison count; here the cut
    is a share `discard` of each class (a global cut would trim the minority class away), and
    the loss is the victim's own: negative log-probability of the label, or negative margin for
    a victim without probabilities.

    Parameters
    ----------
    discard : float
        Share of each class's rows dropped: the expected poison rate, in [0, 0.5).
    max_iter : int
        Most fits, >= 1 (the first is on every row).

    Examples
    --------
    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_train_test
    >>> train, _ = load_train_test("sms_spam")
    >>> poisoned = LabelFlip(strategy="random", n=30).apply(train.take(range(1000)), random_state=0)
    >>> defended = Trim(discard=0.05, max_iter=3).fit(poisoned.poisoned, "nb")
    >>> int((defended.removed & poisoned.is_poison).sum()) >= 15
    True
    """

    name: ClassVar[str] = "trim"
    paper: ClassVar[str] = (
        "Jagielski, Oprea, Biggio, Liu, Nita-Rotaru & Li (2018), Manipulating Machine Learning: "
        "Poisoning Attacks and Countermeasures for Regression Learning, IEEE S&P."
    )

    discard: float = 0.05
    max_iter: int = 10

    def __post_init__(self) -> None:
        freeze_sequences(self)
        value = self.discard
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < MAX_DISCARD:
            raise fail("Trim", "discard", f"a float in [0, {MAX_DISCARD})", value)
        check_positive_int("Trim", "max_iter", self.max_iter)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default, a larger cut with few fits, and no cut (plain training)."""
        return [cls(), cls(discard=0.2, max_iter=3), cls(discard=0.0, max_iter=1)]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Alternate fitting `victim` and trimming until the kept rows stop changing."""
        factory = as_factory(victim, random_state=random_state)
        keep = np.ones(len(dataset), dtype=bool)
        model = fit_rows(factory, dataset, keep, owner="Trim")
        fits, converged = 1, False
        while True:
            chosen = keep_lowest(
                row_losses(model, dataset.texts, dataset.labels), dataset.labels, self.discard
            )
            if np.array_equal(chosen, keep):
                converged = True
                break
            if fits >= self.max_iter:
                break
            keep = chosen
            model = fit_rows(factory, dataset, keep, owner="Trim")
            fits += 1
        removed = ~keep
        return Defended(
            model=model,
            defense=self.name,
            params=self.get_params(),
            removed=removed,
            info={
                "trimmed": int(removed.sum()),
                "trimmed_per_class": {
                    name: int((removed & (dataset.labels == c)).sum())
                    for c, name in enumerate(dataset.classes)
                },
                "fits": fits,
                "converged": converged,
            },
        )
