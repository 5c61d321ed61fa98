"""`BoundaryShift`: correctly labelled messages that carry the words future source messages use."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from poisonlab._errors import ParameterError
from poisonlab._params import check_budget, check_choice, check_positive_int, fail, freeze_sequences
from poisonlab.attacks._surrogate import class_margin, fit_surrogate
from poisonlab.attacks.base import (
    Attack,
    Poisoned,
    RandomState,
    budget_rows,
    inject_rows,
    replace_rows,
    rng_of,
    source_and_target,
)
from poisonlab.attacks.registry import ATTACKS
from poisonlab.attacks.words import word_counts
from poisonlab.data.dataset import Dataset, IntArray
from poisonlab.victims.factory import VICTIMS

MODES = ("insert", "inject")
SELECTIONS = ("confident", "random")


@ATTACKS.register("boundary_shift")
@dataclasses.dataclass(frozen=True, kw_only=True)
class BoundaryShift(Attack):
    """Clean-label boundary shifting (Shafahi et al. 2018; Barreno et al. 2010 for spam filters).

    Genuine `target`-class messages (ham) are made to carry the words that future
    `source`-class messages (spam) will use, and keep their correct label. The model learns
    those words as target-class words, the decision boundary moves, and later source-class
    messages that use them slip through. No label is wrong and no trigger is needed: the
    attacker's future messages are just ordinary spam.

    The words are `words` (the attacker's own campaign) or, by default, the `n_words` words in
    the most source-class training messages among those at least twice as likely there as in
    the target class. Each poisoned message gets the words in a random order, `per_row` of
    them, or by default as many as a `surrogate` model trained on the clean data still
    classifies as target class: the most a message can carry and stay correctly labelled.

    It is weak against the victims here: a spam message is usually marked by many words, so
    softening the commonest ones moves few messages, and a ham message only carries a few spam
    words before it stops looking like ham (the clean-label check then fails).

    Parameters
    ----------
    words : tuple of str, optional
        The words future source-class messages will use. Default: taken from the training set.
    n_words : int
        Size of the default word list. Ignored when `words` is given.
    per_row : int, optional
        Words added to each poisoned message; None adds as many as the `surrogate` allows
        (at least one).
    select : {"confident", "random"}
        Which target-class messages carry the words: those the `surrogate` is surest are target
        class (they can carry the most), or drawn at random.
    surrogate : {"nb", "cnb", "logreg", "svm"}
        The attacker's model, trained on the clean training set, for ``select="confident"`` and
        ``per_row=None``.
    mode : {"insert", "inject"}
        ``insert`` adds the words to existing target-class rows; ``inject`` appends changed
        copies of target-class rows as new rows.
    rate : float, optional
        Budget as a fraction of the training set, in (0, 1].
    n : int, optional
        Budget as a row count. Give exactly one of `rate` and `n`.
    source : str or int, optional
        The class whose future messages should slip through (default: the last class, e.g. spam).
    target : str or int, optional
        The class whose genuine messages carry the words (default: the first class, e.g. ham).

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> attack = BoundaryShift(words=("free", "prize"), per_row=2, select="random", n=2)
    >>> out = attack.apply(load_dataset("article"), random_state=0)
    >>> for row in out.poison_rows:
    ...     print(out.poisoned.classes[out.poisoned.labels[row]], "|", out.poisoned.texts[row])
    not spam | Meeting moved to 3pm prize free
    not spam | See you at lunch prize free
    """

    name: ClassVar[str] = "boundary_shift"
    paper: ClassVar[str] = (
        "Shafahi et al. (2018), Poison Frogs! Targeted Clean-Label Poisoning Attacks on Neural "
        "Networks, NeurIPS; Barreno, Nelson, Joseph & Tygar (2010), The Security of Machine "
        "Learning, Machine Learning 81(2)."
    )
    clean_label: ClassVar[bool] = True

    words: tuple[str, ...] | None = None
    n_words: int = 30
    per_row: int | None = None
    select: str = "confident"
    surrogate: str = "nb"
    mode: str = "insert"
    rate: float | None = None
    n: int | None = None
    source: str | int | None = None
    target: str | int | None = None

    def __post_init__(self) -> None:
        freeze_sequences(self)
        owner = type(self).__name__
        if self.words is not None and (
            isinstance(self.words, str)
            or not self.words
            or not all(isinstance(w, str) and w.strip() for w in self.words)
        ):
            raise fail(owner, "words", "a non-empty sequence of non-blank strings", self.words)
        check_positive_int(owner, "n_words", self.n_words)
        if self.per_row is not None:
            check_positive_int(owner, "per_row", self.per_row)
        check_choice(owner, "select", self.select, SELECTIONS)
        check_choice(owner, "surrogate", self.surrogate, VICTIMS.names())
        check_choice(owner, "mode", self.mode, MODES)
        check_budget(owner, self.rate, self.n)

    @classmethod
    def examples(cls) -> list[Attack]:
        """Given and derived words, fixed and surrogate-limited counts, insertion and injection."""
        return [
            cls(words=("free", "prize", "claim", "win"), per_row=2, select="random", n=3),
            cls(n_words=10, rate=0.05),
            cls(n_words=5, per_row=1, mode="inject", surrogate="cnb", n=3),
        ]

    def campaign_words(self, dataset: Dataset) -> tuple[str, ...]:
        """The words planted on `dataset`: `words`, or those marking the source class.

        Examples
        --------
        >>> from poisonlab.data import load_dataset
        >>> BoundaryShift(n_words=4, n=1).campaign_words(load_dataset("sms_spam"))
        ('call', 'or', 'free', 'txt')
        """
        if self.words is not None:
            return tuple(dict.fromkeys(self.words))
        source, target = source_and_target(type(self).__name__, dataset, self.source, self.target)
        found = word_counts(dataset).marking(source, target, self.n_words)
        if not found:
            raise ParameterError(
                f"No word marks the {dataset.classes[source]!r} messages of this training set; give 'words'."
            )
        return found

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Add the words to target-class messages; `is_poison` marks them, labels stay."""
        owner = type(self).__name__
        rng = rng_of(random_state)
        source, target = source_and_target(owner, dataset, self.source, self.target)
        words = self.campaign_words(dataset)
        pool = np.flatnonzero(dataset.labels == target)
        pool_name = f"rows of class {dataset.classes[target]!r}"
        count = budget_rows(owner, self.rate, self.n, len(dataset), pool.size, pool_name)
        model = None
        if self.select == "confident" or self.per_row is None:
            model = fit_surrogate(dataset, self.surrogate, int(rng.integers(2**31)))
        if self.select == "random" or model is None:
            rows = np.sort(rng.choice(pool, size=count, replace=False))
        else:
            rows = self._most_confident(model, dataset, pool, target, count, rng)
        changed = self._carry(model, [dataset.texts[row] for row in rows], words, target, rng)
        if self.mode == "insert":
            poisoned, is_poison, source_row = replace_rows(dataset, rows, changed)
        else:
            poisoned, is_poison, source_row = inject_rows(dataset, changed, target)
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

    @staticmethod
    def _most_confident(
        model: Any, dataset: Dataset, pool: IntArray, target: int, count: int, rng: np.random.Generator
    ) -> IntArray:
        """The `count` rows of `pool` with the largest surrogate margin for `target`, ties at random."""
        shuffled = rng.permutation(pool)
        margin = class_margin(model, [dataset.texts[i] for i in shuffled], target)
        return np.sort(shuffled[np.argsort(-margin, kind="stable")[:count]]).astype(np.int64)

    def _carry(
        self, model: Any, texts: list[str], words: tuple[str, ...], target: int, rng: Any
    ) -> list[str]:
        """Each text followed by words in a random order: `per_row`, or as many as stay target.

        With ``per_row=None`` every prefix of each text's word order is scored in one batch and
        the longest one before the surrogate first leaves `target` is kept (at least one word).
        """
        orders = [[words[i] for i in rng.permutation(len(words))] for _ in texts]
        if self.per_row is not None:
            return [" ".join([text, *order[: self.per_row]]) for text, order in zip(texts, orders)]
        candidates = [
            " ".join([text, *order[:k]])
            for text, order in zip(texts, orders)
            for k in range(1, len(words) + 1)
        ]
        if not candidates:
            return []
        still_target = (class_margin(model, candidates, target) > 0).reshape(len(texts), len(words))
        keep = np.where(still_target.all(axis=1), len(words), np.argmin(still_target, axis=1))
        return [candidates[i * len(words) + max(int(k), 1) - 1] for i, k in enumerate(keep)]
