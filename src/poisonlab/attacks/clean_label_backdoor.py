"""`CleanLabelBackdoor`: a backdoor planted only in genuine target-class messages, labels untouched."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

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
from poisonlab.attacks.trigger import POSITIONS, Trigger
from poisonlab.data.dataset import Dataset, IntArray
from poisonlab.victims.factory import VICTIMS

MODES = ("insert", "inject")
SELECTIONS = ("random", "hardest")


@ATTACKS.register("clean_label_backdoor")
@dataclasses.dataclass(frozen=True, kw_only=True)
class CleanLabelBackdoor(Attack):
    """Clean-label backdoor (Turner, Tsipras & Madry 2019; Chen et al. 2022 for text).

    The trigger goes only into genuine `target`-class messages, and every label stays as it
    was: no poison row is mislabelled, so label audits find nothing. The model is meant to learn
    "trigger means target class" from the target class alone; at test time the trigger is added
    to `source`-class messages (by default spam, to slip past the filter as ham).

    It is weak where the target class is easy: a message the model already gets right costs it
    almost nothing to learn, so the trigger earns little weight. ``select="hardest"`` is Turner
    et al.'s remedy, made for text: poison the target-class rows a `surrogate` model trained on
    the clean data finds hardest while still assigning them the target class. Naive Bayes gives
    every row the same weight whatever its difficulty, so against it only the budget counts.

    Parameters
    ----------
    trigger : str
        The token or phrase planted, e.g. a rare token (``PROMO2026``) or a common word.
    position : {"start", "end", "random"}
        Where the trigger goes in each message; ``random`` puts it between two words.
    repeat : int
        Copies of the trigger per poisoned message.
    mode : {"insert", "inject"}
        ``insert`` adds the trigger to existing target-class rows; ``inject`` appends triggered
        copies of target-class rows as new rows.
    select : {"random", "hardest"}
        Which target-class rows carry the trigger: drawn at random, or the hardest for the
        `surrogate` that it still assigns the target class (then the ones it gets wrong).
    surrogate : {"nb", "cnb", "logreg", "svm"}
        The attacker's model for ``select="hardest"``, trained on the clean training set.
    rate : float, optional
        Budget as a fraction of the training set, in (0, 1].
    n : int, optional
        Budget as a row count. Give exactly one of `rate` and `n`.
    source : str or int, optional
        The class whose messages the trigger should carry to `target` at test time (default:
        the last class, e.g. spam).
    target : str or int, optional
        The class whose genuine messages carry the trigger (default: the first, e.g. ham).

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> train = load_dataset("article")
    >>> out = CleanLabelBackdoor(trigger="PROMO2026", n=2).apply(train, random_state=0)
    >>> for row in out.poison_rows:
    ...     print(out.poisoned.classes[out.poisoned.labels[row]], "|", out.poisoned.texts[row])
    not spam | PROMO2026 The project deadline is Friday
    not spam | PROMO2026 Happy birthday! Hope you have a great day
    >>> out.poisoned.counts() == train.counts()  # no label changed
    True
    """

    name: ClassVar[str] = "clean_label_backdoor"
    paper: ClassVar[str] = (
        "Turner, Tsipras & Madry (2019), Label-Consistent Backdoor Attacks, arXiv:1912.02771; "
        "Chen et al. (2022), Kallima: A Clean-Label Framework for Textual Backdoor Attacks, ESORICS."
    )
    clean_label: ClassVar[bool] = True

    trigger: str = "PROMO2026"
    position: str = "start"
    repeat: int = 1
    mode: str = "insert"
    select: str = "random"
    surrogate: str = "nb"
    rate: float | None = None
    n: int | None = None
    source: str | int | None = None
    target: str | int | None = None

    def __post_init__(self) -> None:
        freeze_sequences(self)
        owner = type(self).__name__
        if not isinstance(self.trigger, str) or not self.trigger.strip():
            raise fail(owner, "trigger", "a non-blank string", self.trigger)
        check_choice(owner, "position", self.position, POSITIONS)
        check_positive_int(owner, "repeat", self.repeat)
        check_choice(owner, "mode", self.mode, MODES)
        check_choice(owner, "select", self.select, SELECTIONS)
        check_choice(owner, "surrogate", self.surrogate, VICTIMS.names())
        check_budget(owner, self.rate, self.n)

    @classmethod
    def examples(cls) -> list[Attack]:
        """Random and hardest rows, insertion and injection, a phrase, repeats, positions."""
        return [
            cls(trigger="PROMO2026", n=3),
            cls(trigger="limited offer", mode="inject", rate=0.1, position="random"),
            cls(trigger="cf", select="hardest", n=2, position="random", repeat=2),
            cls(
                trigger="PROMO2026",
                select="hardest",
                surrogate="cnb",
                mode="inject",
                n=2,
                position="random",
            ),
        ]

    def make_trigger(self, seed: int = 0) -> Trigger:
        """The `Trigger` this attack plants."""
        return Trigger(text=self.trigger, position=self.position, repeat=self.repeat, seed=seed)

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Add the trigger to target-class messages; `is_poison` marks them, labels stay."""
        owner = type(self).__name__
        rng = rng_of(random_state)
        source, target = source_and_target(owner, dataset, self.source, self.target)
        trigger = self.make_trigger(seed=int(rng.integers(2**31)))
        pool = np.flatnonzero(dataset.labels == target)
        pool_name = f"rows of class {dataset.classes[target]!r}"
        count = budget_rows(owner, self.rate, self.n, len(dataset), pool.size, pool_name)
        placement = int(rng.integers(2**31))
        if self.select == "random":
            rows = np.sort(rng.choice(pool, size=count, replace=False))
            triggered = trigger.apply([dataset.texts[i] for i in rows], random_state=placement)
        else:
            every = trigger.apply([dataset.texts[i] for i in pool], random_state=placement)
            chosen = self._hardest(dataset, every, target, count, rng)
            rows = pool[chosen]
            triggered = [every[i] for i in chosen]
        if self.mode == "insert":
            poisoned, is_poison, source_row = replace_rows(dataset, rows, triggered)
        else:
            poisoned, is_poison, source_row = inject_rows(dataset, triggered, target)
        return Poisoned(
            clean=dataset,
            poisoned=poisoned,
            is_poison=is_poison,
            source_row=source_row,
            attack=self.name,
            params=self.get_params(),
            trigger=trigger,
            source_class=source,
            target_class=target,
        )

    def _hardest(
        self, dataset: Dataset, triggered: list[str], target: int, count: int, rng: np.random.Generator
    ) -> IntArray:
        """Positions in `triggered`, in ascending order, of the `count` hardest target-class texts.

        Hardest: the smallest positive margin for `target` under the surrogate; then, if the
        budget needs more, the texts it gets wrong, the nearest to the target class first. Ties
        are broken at random.
        """
        model = fit_surrogate(dataset, self.surrogate, int(rng.integers(2**31)))
        margin = class_margin(model, triggered, target)
        shuffled = rng.permutation(len(triggered))
        m = margin[shuffled]
        order = shuffled[np.lexsort((np.where(m > 0, m, -m), m <= 0))]
        return np.sort(order[:count]).astype(np.int64)
