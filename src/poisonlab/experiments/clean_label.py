"""The clean-label check: does a model trained on the clean data give each poison row its label?

"Clean label" is a claim about every poison row: its label is correct for its text. Made
operational here: the victim trained on the clean training set classifies the poison row's text
as the label the row carries. The check reports the share of poison rows that pass. A
clean-label attack should pass nearly all; a label flip passes almost none.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab.attacks.base import Attack, Poisoned
from poisonlab.victims.factory import VictimLike, as_factory, victim_label


def is_clean_label_attack(attack: Attack | type[Attack]) -> bool:
    """Whether the attack promises clean labels (its class sets ``clean_label = True``).

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor, CleanLabelBackdoor
    >>> is_clean_label_attack(CleanLabelBackdoor), is_clean_label_attack(Backdoor(n=1))
    (True, False)
    """
    cls = attack if isinstance(attack, type) else type(attack)
    return bool(getattr(cls, "clean_label", False))


@dataclasses.dataclass(frozen=True)
class CleanLabelCheck:
    """The clean-label check of one `Poisoned` record.

    Attributes
    ----------
    victim : str
        The model that judged the labels, trained on the clean training set.
    rows : ndarray of int
        The poison rows checked: positions in the poisoned training set.
    passed : ndarray of bool
        Per row of `rows`, whether the clean model gives the row's text the row's label.
    """

    victim: str
    rows: npt.NDArray[np.int64]
    passed: npt.NDArray[np.bool_]

    @property
    def n_poison(self) -> int:
        """Poison rows checked."""
        return int(self.rows.size)

    @property
    def n_pass(self) -> int:
        """Poison rows whose label the clean model agrees with."""
        return int(self.passed.sum())

    @property
    def share(self) -> float:
        """Share of poison rows that pass; NaN when there are none."""
        return self.n_pass / self.n_poison if self.n_poison else float("nan")

    @property
    def failed_rows(self) -> npt.NDArray[np.int64]:
        """Poison rows whose label the clean model disagrees with."""
        return self.rows[~self.passed]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"victim": self.victim, "n_poison": self.n_poison, "n_pass": self.n_pass, "share": self.share}


def check_clean_label(
    poisoned: Poisoned,
    victim: VictimLike = "nb",
    *,
    features: str = "count",
    random_state: int | None = 0,
    model: Any = None,
) -> CleanLabelCheck:
    """Check each poison row's label against `victim` trained on ``poisoned.clean``.

    Parameters
    ----------
    poisoned : Poisoned
    victim : str, estimator or factory
        The judge: a victim name, a scikit-learn Pipeline, or a factory of them.
    features : {"count", "tfidf"}
        Features of a named victim.
    random_state : int, optional
        Seeds a named victim.
    model : fitted estimator, optional
        A model already trained on ``poisoned.clean`` (``AttackEvaluation.clean_model``), used
        instead of training `victim` again.

    Examples
    --------
    >>> from poisonlab.attacks import CleanLabelBackdoor, LabelFlip
    >>> from poisonlab.data import load_train_test
    >>> train, _ = load_train_test("sms_spam")
    >>> check_clean_label(CleanLabelBackdoor(n=40).apply(train, random_state=0)).share
    1.0
    >>> check_clean_label(LabelFlip(n=40).apply(train, random_state=0)).share  # spam relabelled ham
    0.1
    """
    if model is None:
        model = as_factory(victim, features=features, random_state=random_state)()
        model.fit(list(poisoned.clean.texts), poisoned.clean.labels)
    rows = poisoned.poison_rows
    texts = [poisoned.poisoned.texts[i] for i in rows]
    predicted = np.asarray(model.predict(texts), dtype=np.int64) if texts else np.zeros(0, np.int64)
    passed: npt.NDArray[np.bool_] = predicted == poisoned.poisoned.labels[rows]
    return CleanLabelCheck(victim=victim_label(victim), rows=rows, passed=passed)
