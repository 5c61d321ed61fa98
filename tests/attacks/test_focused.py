"""`FocusedAttack` (Nelson et al. 2008): poison aimed at one future legitimate message."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.attacks import FocusedAttack
from poisonlab.attacks.words import distinct_tokens
from poisonlab.data import Dataset
from poisonlab.experiments.attack_goals import target_message_outcome
from poisonlab.experiments.evaluate import FitCache, evaluate_attack

MESSAGE = "Are we still on for lunch tomorrow at the usual place?"


def test_messages_are_the_words_of_the_target_labelled_spam(small_dataset: Dataset) -> None:
    out = FocusedAttack(message=MESSAGE, n=4).apply(small_dataset, random_state=0)
    words = distinct_tokens(MESSAGE)
    assert words == ("are", "we", "still", "on", "for", "lunch", "tomorrow", "at", "the", "usual", "place")
    k = len(small_dataset)
    assert (out.poisoned.labels[k:] == 1).all() and (out.source_row[k:] == -1).all()
    assert all(sorted(m.split(" ")) == sorted(words) for m in out.poisoned.texts[k:])
    assert (out.source_class, out.target_class) == (0, 1)


@pytest.mark.parametrize("knowledge", [0.1, 0.3, 0.5, 0.99])
def test_partial_knowledge_guesses_that_share_of_the_words(knowledge: float, small_dataset: Dataset) -> None:
    attack = FocusedAttack(message=MESSAGE, knowledge=knowledge, n=3)
    words = distinct_tokens(MESSAGE)
    guessed = attack.guessed_words(7)
    assert len(guessed) == math.ceil(knowledge * len(words)) and set(guessed) <= set(words)
    assert list(guessed) == [w for w in words if w in guessed], "in the message's order"
    messages = attack.apply(small_dataset, random_state=7).poisoned.texts[len(small_dataset) :]
    assert {frozenset(m.split(" ")) for m in messages} == {
        frozenset(attack.guessed_words(np.random.default_rng(7)))
    }


def test_the_budget_decides_whether_the_message_is_blocked(sms_split) -> None:
    """One attack message moves the target but does not block it; 30 (0.7 % of the training
    set) block it with Naive Bayes; logistic regression gives in after 3."""
    train, test = sms_split
    for victim, spared, blocked in (("nb", 1, 30), ("logreg", 1, 3)):
        cache = FitCache()
        low, high = (
            target_message_outcome(
                evaluate_attack(FocusedAttack(message=MESSAGE, n=n), train, test, victim, cache=cache),
                MESSAGE,
            )
            for n in (spared, blocked)
        )
        assert not low.was_blocked and not low.is_blocked and high.is_blocked
        assert low.clean_score < low.poisoned_score < 0 < high.poisoned_score


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"message": "a ! ?"}, "message"),
        ({"message": None}, "message"),
        ({"message": MESSAGE, "knowledge": 0}, "knowledge"),
        ({"message": MESSAGE, "knowledge": 1.5}, "knowledge"),
        ({"message": MESSAGE, "knowledge": True}, "knowledge"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ParameterError, match=rf"^The '{name}' parameter of FocusedAttack must be "):
        FocusedAttack(n=1, **kwargs)  # type: ignore[arg-type]
