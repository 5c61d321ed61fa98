"""`FocusedAttack`: Nelson et al.'s attack on one future legitimate message."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from poisonlab._params import check_budget, fail, freeze_sequences
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
from poisonlab.attacks.words import distinct_tokens, has_tokens
from poisonlab.data.dataset import Dataset


@ATTACKS.register("focused")
@dataclasses.dataclass(frozen=True, kw_only=True)
class FocusedAttack(Attack):
    """Focused attack (Nelson et al. 2008, "Exploiting Machine Learning to Subvert Your Spam Filter").

    The attacker wants one future legitimate `message` blocked (a competitor's bid, say) and
    guesses some of its words. Each injected message carries the guessed words, shuffled, and
    the victim labels it spam, so those words come to mean spam and the target message is
    classified spam when it arrives. `knowledge` is the share of the message's distinct words
    the attacker guesses, drawn at random, as in the paper's experiments.

    Whether the message is blocked is measured by training the victim on the poisoned set and
    classifying `message` (``poisonlab attack focused`` reports it, with the ham loss on other
    legitimate mail as the collateral damage).

    Parameters
    ----------
    message : str
        The legitimate message the attack wants blocked.
    knowledge : float
        Share of the message's distinct words the attacker guesses, in (0, 1], rounded up to a
        whole word. Words are tokens as the victims' default vectorizer sees them (lower case,
        two or more letters or digits).
    rate : float, optional
        Budget as a fraction of the training set, in (0, 1]: injected messages.
    n : int, optional
        Budget as a count of injected messages. Give exactly one of `rate` and `n`.
    source : str or int, optional
        The class of `message`, the legitimate class (default: the first class, e.g. ham).
    target : str or int, optional
        The label the injected messages get, the filter's spam class (default: the last class).

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> attack = FocusedAttack(message="Your bid for the Friday contract is attached", n=2)
    >>> out = attack.apply(load_dataset("article"), random_state=0)
    >>> for row in out.poison_rows:
    ...     print(out.poisoned.classes[out.poisoned.labels[row]], "|", out.poisoned.texts[row])
    spam | for friday the is contract your bid attached
    spam | is for attached friday contract bid your the
    """

    name: ClassVar[str] = "focused"
    paper: ClassVar[str] = (
        "Nelson, Barreno, Chi, Joseph, Rubinstein, Saini, Sutton, Tygar & Xia (2008), Exploiting "
        "Machine Learning to Subvert Your Spam Filter, USENIX LEET."
    )

    message: str
    knowledge: float = 1.0
    rate: float | None = None
    n: int | None = None
    source: str | int | None = None
    target: str | int | None = None

    def __post_init__(self) -> None:
        freeze_sequences(self)
        owner = type(self).__name__
        if not isinstance(self.message, str) or not has_tokens(self.message):
            raise fail(
                owner,
                "message",
                "a text with at least one word of two or more letters or digits",
                self.message,
            )
        if (
            isinstance(self.knowledge, bool)
            or not isinstance(self.knowledge, (int, float))
            or not 0.0 < self.knowledge <= 1.0
        ):
            raise fail(owner, "knowledge", "a float in (0, 1]", self.knowledge)
        check_budget(owner, self.rate, self.n)

    @classmethod
    def examples(cls) -> list[Attack]:
        """Full and partial knowledge of a message, by count and by rate."""
        return [
            cls(message="Are we still meeting for lunch tomorrow at noon?", n=3),
            cls(message="Please send the signed contract to the office by Friday", knowledge=0.5, rate=0.1),
        ]

    def guessed_words(self, random_state: RandomState = None) -> tuple[str, ...]:
        """The words of `message` the attacker knows, in the message's order.

        Examples
        --------
        >>> attack = FocusedAttack(message="lunch at noon, then the budget review", knowledge=0.5, n=1)
        >>> attack.guessed_words(0)
        ('at', 'then', 'the', 'budget')
        """
        words = distinct_tokens(self.message)
        if self.knowledge >= 1.0:
            return words
        count = max(1, math.ceil(self.knowledge * len(words) - 1e-9))
        chosen = np.sort(rng_of(random_state).choice(len(words), size=count, replace=False))
        return tuple(words[i] for i in chosen)

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Inject spam-labelled messages made of the guessed words; `is_poison` marks them."""
        owner = type(self).__name__
        rng = rng_of(random_state)
        source = 0 if self.source is None else self.source
        target = len(dataset.classes) - 1 if self.target is None else self.target
        source_class, target_class = source_and_target(owner, dataset, source, target)
        count = budget_rows(owner, self.rate, self.n, len(dataset), 10**12, "rows")
        words = np.array(self.guessed_words(rng), dtype=object)
        texts = [" ".join(words[rng.permutation(words.size)]) for _ in range(count)]
        poisoned, is_poison, source_row = inject_rows(dataset, texts, target_class)
        return Poisoned(
            clean=dataset,
            poisoned=poisoned,
            is_poison=is_poison,
            source_row=source_row,
            attack=self.name,
            params=self.get_params(),
            source_class=source_class,
            target_class=target_class,
        )
