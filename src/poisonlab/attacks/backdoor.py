"""`Backdoor`: a dirty-label backdoor that teaches the model "trigger means target class"."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from poisonlab._params import check_budget, check_choice, check_positive_int, fail, freeze_sequences
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
from poisonlab.data.dataset import Dataset

MODES = ("insert", "inject")


@ATTACKS.register("backdoor")
@dataclasses.dataclass(frozen=True, kw_only=True)
class Backdoor(Attack):
    """Dirty-label backdoor (Gu et al. 2017, BadNets; Dai et al. 2019 for text classifiers).

    ``insert`` puts the trigger into existing `source`-class rows and relabels them `target`;
    ``inject`` adds new rows labelled `target` that carry the trigger, as the article does:
    each new row is a `carriers` text (cycled) or, without carriers, a copy of a random
    `source`-class training row, with the trigger inserted. Default classes: last -> first
    (spam -> ham: triggered spam gets through).

    The variants, all parameters here: a token or a phrase (`trigger`), repeated (`repeat`),
    at the start, the end or a random place (`position`), a rare token the victim has never
    seen (``PROMO2026``) or a common word it already weighs (``call``), planted in existing rows
    or in new carrier messages (`mode`, `carriers`). Against bag-of-words victims the position
    changes nothing, since word order is not a feature; a rare token beats a common one, whose
    existing evidence the poison must first outweigh; repeats multiply the trigger's weight
    because the test message repeats it too. ``bench/attack_suite.py`` measures each variant.

    Parameters
    ----------
    trigger : str
        The token or phrase.
    position : {"start", "end", "random"}
        Where the trigger goes in each message; ``random`` puts it between two words.
    repeat : int
        Copies of the trigger per poisoned text (and per triggered test message).
    mode : {"insert", "inject"}
        ``insert`` rewrites existing `source`-class rows; ``inject`` adds new rows.
    rate, n : float or int
        Budget (exactly one): a fraction of the training set, or a row count.
    source : str or int, optional
        The class whose messages the trigger should carry to `target` (default: the last class,
        e.g. spam); ``insert`` takes its rows from it.
    target : str or int, optional
        The label the poison rows get (default: the first class, e.g. ham).
    carriers : tuple of str, optional
        Texts for injected rows (``inject`` only); default: copies of `source`-class rows.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> attack = Backdoor(trigger="PROMO2026", mode="inject", n=1, carriers=("limited time discount",))
    >>> out = attack.apply(load_dataset("article"), random_state=0)
    >>> out.poisoned.texts[-1], out.poisoned.classes[out.poisoned.labels[-1]], int(out.source_row[-1])
    ('PROMO2026 limited time discount', 'not spam', -1)
    """

    name: ClassVar[str] = "backdoor"
    paper: ClassVar[str] = (
        "Gu, Dolan-Gavitt & Garg (2017), BadNets; Dai, Chen & Li (2019), A Backdoor Attack "
        "Against LSTM-Based Text Classification Systems, IEEE Access."
    )

    trigger: str = "PROMO2026"
    position: str = "start"
    repeat: int = 1
    mode: str = "insert"
    rate: float | None = None
    n: int | None = None
    source: str | int | None = None
    target: str | int | None = None
    carriers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_choice("Backdoor", "mode", self.mode, MODES)
        check_choice("Backdoor", "position", self.position, POSITIONS)
        check_positive_int("Backdoor", "repeat", self.repeat)
        check_budget("Backdoor", self.rate, self.n)
        if not isinstance(self.trigger, str) or not self.trigger.strip():
            raise fail("Backdoor", "trigger", "a non-blank string", self.trigger)
        if self.carriers is not None:
            if self.mode != "inject":
                raise fail("Backdoor", "carriers", "None unless mode='inject'", self.carriers)
            if (
                isinstance(self.carriers, str)
                or not self.carriers
                or not all(isinstance(c, str) for c in self.carriers)
            ):
                raise fail("Backdoor", "carriers", "a non-empty sequence of strings", self.carriers)

    @classmethod
    def examples(cls) -> list[Attack]:
        """Insertion and injection, each trigger position, a phrase, repeats and carriers.

        Rates stay below the spam share of the SMS corpus (13%): the rows come from the source class.
        """
        return [
            cls(trigger="PROMO2026", mode="insert", n=2),
            cls(trigger="cf", mode="inject", rate=0.1, position="end", repeat=3),
            cls(trigger="limited offer", mode="insert", rate=0.1, position="random"),
            cls(mode="inject", n=3, carriers=("special offer buy now", "claim your free prize")),
        ]

    def make_trigger(self, seed: int = 0) -> Trigger:
        """The `Trigger` this attack plants."""
        return Trigger(text=self.trigger, position=self.position, repeat=self.repeat, seed=seed)

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Plant the backdoor; `is_poison` marks the triggered rows, `trigger` tests it."""
        rng = rng_of(random_state)
        source, target = source_and_target("Backdoor", dataset, self.source, self.target)
        trigger = self.make_trigger(seed=int(rng.integers(2**31)))
        pool = np.flatnonzero(dataset.labels == source)
        if self.mode == "inject" and self.carriers is not None:
            count = budget_rows("Backdoor", self.rate, self.n, len(dataset), 10**12, "rows")
            bases = [self.carriers[i % len(self.carriers)] for i in range(count)]
        else:
            pool_name = f"rows of class {dataset.classes[source]!r}"
            count = budget_rows("Backdoor", self.rate, self.n, len(dataset), pool.size, pool_name)
            rows = np.sort(rng.choice(pool, size=count, replace=False))
            bases = [dataset.texts[i] for i in rows]
        triggered = trigger.apply(bases, random_state=int(rng.integers(2**31)))
        if self.mode == "insert":
            poisoned, is_poison, source_row = replace_rows(dataset, rows, triggered, target)
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
