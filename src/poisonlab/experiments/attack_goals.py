"""What an attack set out to do beyond the overall scores: block one message, let a campaign through.

`evaluate_attack` scores clean and poisoned models on the whole held-out set. Two attacks aim
at something narrower, measured here from an `AttackEvaluation` without training again:

* the focused attack wants one legitimate message blocked: `target_message_outcome`;
* boundary shifting wants future source-class messages that use its words to slip through:
  `campaign_outcome`, on the held-out source-class messages that hold at least one of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from poisonlab.attacks.words import analyzer
from poisonlab.data.dataset import Dataset
from poisonlab.experiments.evaluate import AttackEvaluation
from poisonlab.victims.scores import log_odds


def _classes(evaluation: AttackEvaluation, source: int, target: int) -> tuple[int, int]:
    poisoned = evaluation.poisoned
    return (
        source if poisoned.source_class is None else poisoned.source_class,
        target if poisoned.target_class is None else poisoned.target_class,
    )


@dataclasses.dataclass(frozen=True)
class TargetMessageOutcome:
    """The fate of the one message a focused attack wants moved from `source` to `target`.

    ``clean_score`` and ``poisoned_score`` are each model's log-odds of `target` over `source`
    for the message (positive: classified `target`); NaN with more than two classes.
    """

    message: str
    source: str
    target: str
    clean_prediction: str
    poisoned_prediction: str
    clean_score: float
    poisoned_score: float

    @property
    def is_blocked(self) -> bool:
        """Whether the poisoned model puts the message in the target class (blocks it)."""
        return self.poisoned_prediction == self.target

    @property
    def was_blocked(self) -> bool:
        """Whether the clean model already did."""
        return self.clean_prediction == self.target

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "is_blocked": self.is_blocked, "was_blocked": self.was_blocked}


def target_message_outcome(evaluation: AttackEvaluation, message: str) -> TargetMessageOutcome:
    """Classify `message` with the clean and the poisoned model of `evaluation`.

    The classes are the attack's own (``source_class`` -> ``target_class``), by default the
    first class to the last: ham blocked as spam.

    Examples
    --------
    >>> from poisonlab.attacks import FocusedAttack
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.experiments.evaluate import evaluate_attack
    >>> train, test = load_train_test("sms_spam")
    >>> message = "Can you send me the minutes from the budget meeting before noon"
    >>> result = evaluate_attack(FocusedAttack(message=message, n=30), train, test, "nb")
    >>> outcome = target_message_outcome(result, message)
    >>> outcome.was_blocked, outcome.is_blocked
    (False, True)
    """
    classes = evaluation.poisoned.clean.classes
    source, target = _classes(evaluation, 0, len(classes) - 1)
    scores = []
    predictions = []
    for model in (evaluation.clean_model, evaluation.attacked_model):
        predictions.append(classes[int(np.asarray(model.predict([message]))[0])])
        if len(classes) == 2:
            score = float(log_odds(model, [message])[0])
            scores.append(score if target == 1 else -score)
        else:
            scores.append(float("nan"))
    return TargetMessageOutcome(
        message=message,
        source=classes[source],
        target=classes[target],
        clean_prediction=predictions[0],
        poisoned_prediction=predictions[1],
        clean_score=scores[0],
        poisoned_score=scores[1],
    )


@dataclasses.dataclass(frozen=True)
class CampaignOutcome:
    """How held-out `source`-class messages that use the campaign's words fare.

    ``clean_slip`` and ``poisoned_slip`` are the shares of those `n_messages` messages that the
    clean and the poisoned model put in the `target` class (NaN when there are none): for spam
    and ham, the spam leak on the campaign's messages.
    """

    words: tuple[str, ...]
    source: str
    target: str
    n_messages: int
    clean_slip: float
    poisoned_slip: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "words": list(self.words)}


def campaign_outcome(evaluation: AttackEvaluation, test: Dataset, words: Sequence[str]) -> CampaignOutcome:
    """Score the held-out `source`-class messages holding any of `words`, before and after.

    `test` must be the held-out set `evaluation` was scored on. A message holds a word when it
    holds all of the word's tokens (as the victims' default vectorizer sees them).

    Examples
    --------
    >>> from poisonlab.attacks import BoundaryShift
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.experiments.evaluate import evaluate_attack
    >>> train, test = load_train_test("sms_spam")
    >>> words = ("call", "free", "txt", "mobile", "text", "reply", "stop", "www")
    >>> attack = BoundaryShift(words=words, per_row=2, select="random", rate=0.1)
    >>> outcome = campaign_outcome(evaluate_attack(attack, train, test, "nb"), test, words)
    >>> outcome.n_messages, round(outcome.clean_slip, 3), round(outcome.poisoned_slip, 3)
    (131, 0.061, 0.076)
    """
    classes = test.classes
    source, target = _classes(evaluation, len(classes) - 1, 0)
    tokenize = analyzer()
    wanted = [frozenset(tokenize(word)) for word in words]
    wanted = [tokens for tokens in wanted if tokens]
    members = np.array(
        [
            label == source and any(tokens <= set(tokenize(text)) for tokens in wanted)
            for text, label in zip(test.texts, test.labels.tolist())
        ],
        dtype=bool,
    )
    count = int(members.sum())

    def slip(predictions: np.ndarray[Any, Any]) -> float:
        return float(np.mean(predictions[members] == target)) if count else float("nan")

    return CampaignOutcome(
        words=tuple(words),
        source=classes[source],
        target=classes[target],
        n_messages=count,
        clean_slip=slip(evaluation.clean_predictions),
        poisoned_slip=slip(evaluation.attacked_predictions),
    )
