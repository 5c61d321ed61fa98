"""`DictionaryAttack`: Nelson et al.'s availability attack, spam full of legitimate words."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from poisonlab._errors import ParameterError
from poisonlab._params import check_budget, check_positive_int, fail, freeze_sequences
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
from poisonlab.attacks.words import word_counts
from poisonlab.data.dataset import Dataset


@ATTACKS.register("dictionary")
@dataclasses.dataclass(frozen=True, kw_only=True)
class DictionaryAttack(Attack):
    """Dictionary attack (Nelson et al. 2008, "Exploiting Machine Learning to Subvert Your Spam Filter").

    The attacker sends spam made of legitimate vocabulary; the victim, training on its mail,
    labels it spam, and learns that ordinary words mean spam. The goal is availability: the
    filter starts blocking legitimate mail, measured by the ham loss. Each injected message is
    the whole dictionary (as in the paper) or `per_message` words drawn from it, shuffled.

    The dictionary is `words` (a public word list, like the paper's Aspell and Usenet
    dictionaries) or the `n_words` words found in the most legitimate (`source`) training
    messages: an attacker who knows the victim's mail, the paper's strongest case.

    The paper attacked SpamBayes, which scores each word by the share of spam and of ham
    messages holding it. Multinomial Naive Bayes (``nb``, ``cnb``) instead divides a word's count
    by all the words of its class, so the size of the dictionary decides the outcome: a few
    hundred common words make those words spam words and ham starts being blocked, while the
    whole vocabulary (``n_words=None``, the paper's "optimal" attack) dilutes every spam word
    and the filter lets spam through instead, without blocking more ham. Logistic regression
    shrugs it off. ``bench/attack_suite.py`` measures all three on the SMS corpus.

    Parameters
    ----------
    words : tuple of str, optional
        The dictionary. Default: taken from the training set's `source`-class messages.
    n_words : int, optional
        Size of the dictionary taken from the training set: the words in the most
        `source`-class messages; None takes every word they use. Ignored when `words` is given.
    per_message : int, optional
        Words per injected message, drawn without replacement; None puts the whole dictionary in
        every message.
    rate : float, optional
        Budget as a fraction of the training set, in (0, 1]: injected messages.
    n : int, optional
        Budget as a count of injected messages. Give exactly one of `rate` and `n`.
    source : str or int, optional
        The legitimate class whose vocabulary is used and whose mail should be blocked
        (default: the first class, e.g. ham).
    target : str or int, optional
        The label the injected messages get, the filter's spam class (default: the last class).

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> attack = DictionaryAttack(words=("meeting", "lunch", "report"), n=2)
    >>> out = attack.apply(load_dataset("article"), random_state=0)
    >>> for row in out.poison_rows:
    ...     print(out.poisoned.classes[out.poisoned.labels[row]], "|", out.poisoned.texts[row])
    spam | report meeting lunch
    spam | report lunch meeting
    """

    name: ClassVar[str] = "dictionary"
    paper: ClassVar[str] = (
        "Nelson, Barreno, Chi, Joseph, Rubinstein, Saini, Sutton, Tygar & Xia (2008), Exploiting "
        "Machine Learning to Subvert Your Spam Filter, USENIX LEET."
    )

    words: tuple[str, ...] | None = None
    n_words: int | None = 300
    per_message: int | None = None
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
        if self.n_words is not None:
            check_positive_int(owner, "n_words", self.n_words)
        if self.per_message is not None:
            check_positive_int(owner, "per_message", self.per_message)
            if self.words is not None and self.per_message > len(set(self.words)):
                raise fail(
                    owner, "per_message", f"at most the {len(set(self.words))} words given", self.per_message
                )
        check_budget(owner, self.rate, self.n)

    @classmethod
    def examples(cls) -> list[Attack]:
        """A given word list, the training set's top words, and short messages."""
        return [
            cls(words=("meeting", "lunch", "tomorrow", "thanks", "see"), n=3),
            cls(n_words=50, rate=0.1),
            cls(n_words=None, per_message=20, n=4),
        ]

    def dictionary(self, dataset: Dataset) -> tuple[str, ...]:
        """The words the attack uses on `dataset`: `words`, or the source class's commonest words.

        Examples
        --------
        >>> from poisonlab.data import load_dataset
        >>> DictionaryAttack(n_words=3, n=1).dictionary(load_dataset("sms_spam"))
        ('you', 'to', 'the')
        """
        if self.words is not None:
            return tuple(dict.fromkeys(self.words))
        source, _ = self._classes(dataset)
        found = word_counts(dataset).frequent(source, self.n_words)
        if not found:
            raise ParameterError(
                f"The {dataset.classes[source]!r} messages of this training set hold no words to "
                "build a dictionary from; give 'words'."
            )
        return found

    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Inject the dictionary messages, labelled `target`; `is_poison` marks them."""
        owner = type(self).__name__
        rng = rng_of(random_state)
        source, target = self._classes(dataset)
        words = np.array(self.dictionary(dataset), dtype=object)
        if self.per_message is not None and self.per_message > words.size:
            raise fail(
                owner, "per_message", f"at most the {words.size} words of the dictionary", self.per_message
            )
        count = budget_rows(owner, self.rate, self.n, len(dataset), 10**12, "rows")
        size = words.size if self.per_message is None else self.per_message
        texts = [" ".join(words[rng.permutation(words.size)[:size]]) for _ in range(count)]
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

    def _classes(self, dataset: Dataset) -> tuple[int, int]:
        """Source and target: by default the first class (legitimate) and the last (spam)."""
        source = 0 if self.source is None else self.source
        target = len(dataset.classes) - 1 if self.target is None else self.target
        return source_and_target(type(self).__name__, dataset, source, target)
