"""`LabelFlip`: change the labels of some training rows, leaving their texts alone."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from poisonlab._params import check_budget, check_choice, fail, freeze_sequences
from poisonlab.attacks.base import (
    Attack,
    Poisoned,
    RandomState,
    budget_rows,
    rng_of,
    source_and_target,
)
from poisonlab.attacks.registry import ATTACKS
from poisonlab.data.dataset import Dataset

STRATEGIES = ("random", "targeted")


@ATTACKS.register("label_flip")
@dataclasses.dataclass(frozen=True, kw_only=True)
class LabelFlip(Attack):
    """Label flipping (Biggio, Nelson & Laskov 2012, "Poisoning attacks against SVMs").

    ``random`` flips rows drawn from the whole training set, each to another class drawn
    uniformly; ``targeted`` relabels rows of the `source` class as the `target` class (by
    default the last class to the first: spam -> ham, which lets spam through).

    Parameters
    ----------
    strategy : {"random", "targeted"}
        ``targeted`` relabels `source`-class rows as `target`; ``random`` flips any rows.
    rate : float, optional
        Budget as a fraction of the training set, in (0, 1].
    n : int, optional
        Budget as a row count. Give exactly one of `rate` and `n`.
    source : str or int, optional
        For ``targeted``: the class whose rows are relabelled (name or index; default: the last
        class, e.g. spam).
    target : str or int, optional
        For ``targeted``: the label they get (default: the first class, e.g. ham).

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> train = load_dataset("article")
    >>> out = LabelFlip(strategy="targeted", n=2).apply(train, random_state=0)
    >>> out.n_poison, out.poisoned.counts()
    (2, {'not spam': 9, 'spam': 5})
    """

    name: ClassVar[str] = "label_flip"
    paper: ClassVar[str] = (
        "Biggio, Nelson & Laskov (2012), Poisoning Attacks against Support Vector Machines, ICML."
    )

    strategy: str = "targeted"
    rate: float | None = None
    n: int | None = None
    source: str | int | None = None
    target: str | int | None = None

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_choice("LabelFlip", "strategy", self.strategy, STRATEGIES)
        check_budget("LabelFlip", self.rate, self.n)
        if self.strategy == "random":
            for field in ("source", "target"):
                if getattr(self, field) is not None:
                    raise fail("LabelFlip", field, "None with strategy='random'", getattr(self, field))

    @classmethod
    def examples(cls) -> list[Attack]:
        """Random and targeted flips, by rate and by count."""
        return [
            cls(strategy="random", rate=0.2),
            cls(strategy="targeted", n=2),
            cls(strategy="targeted", rate=0.1, source=0, target=1),
        ]

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Flip labels; `is_poison` marks exactly the flipped rows."""
        rng = rng_of(random_state)
        labels = dataset.labels.copy()
        source: int | None = None
        target: int | None = None
        n_classes = len(dataset.classes)
        if self.strategy == "targeted":
            source, target = source_and_target("LabelFlip", dataset, self.source, self.target)
            pool = np.flatnonzero(dataset.labels == source)
            count = budget_rows(
                "LabelFlip",
                self.rate,
                self.n,
                len(dataset),
                pool.size,
                f"rows of class {dataset.classes[source]!r}",
            )
            rows = np.sort(rng.choice(pool, size=count, replace=False))
            labels[rows] = target
        else:
            count = budget_rows("LabelFlip", self.rate, self.n, len(dataset), len(dataset), "rows")
            rows = np.sort(rng.choice(len(dataset), size=count, replace=False))
            shift = rng.integers(1, n_classes, size=count)  # never 0: always a different class
            labels[rows] = (labels[rows] + shift) % n_classes
        is_poison = np.zeros(len(dataset), dtype=bool)
        is_poison[rows] = True
        return Poisoned(
            clean=dataset,
            poisoned=dataset.with_labels(labels),
            is_poison=is_poison,
            source_row=np.arange(len(dataset), dtype=np.int64),
            attack=self.name,
            params=self.get_params(),
            source_class=source,
            target_class=target,
        )
