"""`Flood`: many near-copies of one message, all with the label the attacker wants."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from poisonlab._params import check_budget, fail
from poisonlab.attacks.base import (
    Attack,
    Poisoned,
    RandomState,
    budget_rows,
    inject_rows,
    rng_of,
    source_and_target,
)
from poisonlab.attacks.registry import ATTACKS
from poisonlab.data.dataset import Dataset


@ATTACKS.register("flood")
@dataclasses.dataclass(frozen=True, kw_only=True)
class Flood(Attack):
    """Near-duplicate flood: one campaign message injected many times, lightly varied, mislabelled.

    A spam campaign sends near-copies of one message; an attacker who can feed a filter's
    training data (or its "not spam" button) injects many such copies labelled `target`, so the
    campaign passes (the flood form of Nelson et al. 2008's focused attack). Each copy gets one
    small change, as campaigns vary their text to defeat exact matching: a word dropped, a word
    repeated, or two neighbouring words swapped.

    Parameters
    ----------
    message : str, optional
        The campaign message; default: a random `source`-class row of the training set.
    rate : float, optional
        Budget as a fraction of the training set (copies injected). Give exactly one of `rate`
        and `n`.
    n : int, optional
        Budget as a count of injected copies.
    source : str or int, optional
        The class the campaign really is (default: the last class, e.g. spam).
    target : str or int, optional
        The label every copy gets (default: the first class, e.g. ham).

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> out = Flood(message="win a free phone now", n=3).apply(load_dataset("article"), random_state=0)
    >>> [out.poisoned.texts[row] for row in out.poison_rows]
    ['win a free now phone', 'win a a free phone now', 'a free phone now']
    >>> {out.poisoned.classes[out.poisoned.labels[row]] for row in out.poison_rows}
    {'not spam'}
    """

    name: ClassVar[str] = "flood"
    paper: ClassVar[str] = (
        "Nelson, Barreno, Chi, Joseph, Rubinstein, Saini, Sutton, Tygar & Xia (2008), Exploiting "
        "Machine Learning to Subvert Your Spam Filter, USENIX LEET."
    )

    message: str | None = None
    rate: float | None = None
    n: int | None = None
    source: str | int | None = None
    target: str | int | None = None

    def __post_init__(self) -> None:
        owner = type(self).__name__
        if self.message is not None and (not isinstance(self.message, str) or not self.message.split()):
            raise fail(owner, "message", "a string with at least one word", self.message)
        check_budget(owner, self.rate, self.n)

    @classmethod
    def examples(cls) -> list[Attack]:
        """A given message and a random campaign message, by count and by rate."""
        return [cls(message="cheap meds online today", n=3), cls(rate=0.2)]

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Inject the flood; the new rows are the poison (`source_row` -1)."""
        source, target = source_and_target(type(self).__name__, dataset, self.source, self.target)
        count = budget_rows(type(self).__name__, self.rate, self.n, len(dataset), 1 << 62, "rows")
        rng = rng_of(random_state)
        message = self.message
        if message is None:
            pool = np.flatnonzero(
                (dataset.labels == source) & np.array([bool(t.split()) for t in dataset.texts])
            )
            if pool.size == 0:
                raise fail(
                    type(self).__name__,
                    "message",
                    f"given: no {dataset.classes[source]!r} row has words",
                    None,
                )
            message = dataset.texts[int(rng.choice(pool))]
        words = message.split()
        texts = [" ".join(vary(words, rng)) for _ in range(count)]
        poisoned, is_poison, source_row = inject_rows(dataset, texts, target)
        return Poisoned(
            clean=dataset,
            poisoned=poisoned,
            is_poison=is_poison,
            source_row=source_row,
            attack=self.name,
            params=self.get_params(),
            source_class=source,
            target_class=target,
        )


def vary(words: list[str], rng: np.random.Generator) -> list[str]:
    """One small change to a word list: drop a word, repeat a word, or swap two neighbours.

    A one-word message is repeated instead of emptied.

    Examples
    --------
    >>> vary(["a", "b", "c"], np.random.default_rng(1))
    ['a', 'b', 'b', 'c']
    """
    out = list(words)
    move = int(rng.integers(0, 3)) if len(out) > 1 else 1
    at = int(rng.integers(0, len(out)))
    if move == 0:
        del out[at]
    elif move == 1:
        out.insert(at, out[at])
    else:
        at = min(at, len(out) - 2)
        out[at], out[at + 1] = out[at + 1], out[at]
    return out


__all__ = ["Flood", "vary"]
