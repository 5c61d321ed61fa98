"""An attack's own goal: the focused attack's message blocked, a boundary shift's campaign let through."""

from __future__ import annotations

import numpy as np

from poisonlab.attacks import BoundaryShift, DictionaryAttack, FocusedAttack
from poisonlab.attacks.words import analyzer
from poisonlab.experiments.attack_goals import campaign_outcome, target_message_outcome
from poisonlab.experiments.evaluate import FitCache, evaluate_attack
from poisonlab.victims import log_odds

MESSAGE = "Are we still on for lunch tomorrow at the usual place?"


def test_target_message_outcome_reads_both_models(sms_split) -> None:
    train, test = sms_split
    result = evaluate_attack(FocusedAttack(message=MESSAGE, n=30), train, test, "nb")
    outcome = target_message_outcome(result, MESSAGE)
    assert (outcome.source, outcome.target) == ("ham", "spam")
    assert outcome.clean_score == float(log_odds(result.clean_model, [MESSAGE])[0])
    assert outcome.poisoned_score == float(log_odds(result.attacked_model, [MESSAGE])[0])
    assert (outcome.clean_prediction, outcome.poisoned_prediction) == ("ham", "spam")
    assert outcome.is_blocked and not outcome.was_blocked
    assert outcome.to_dict()["is_blocked"] is True


def test_campaign_counts_held_out_source_messages_with_a_word(sms_split) -> None:
    train, test = sms_split
    words = ("call", "free", "txt")
    attack = BoundaryShift(words=words, per_row=3, select="random", rate=0.05)
    result = evaluate_attack(attack, train, test, "nb")
    outcome = campaign_outcome(result, test, words)
    tokenize = analyzer()
    members = np.array(
        [y == 1 and bool(set(tokenize(t)) & set(words)) for t, y in zip(test.texts, test.labels)]
    )
    assert outcome.n_messages == int(members.sum()) > 0
    assert outcome.clean_slip == float(np.mean(result.clean_predictions[members] == 0))
    assert outcome.poisoned_slip == float(np.mean(result.attacked_predictions[members] == 0))
    assert outcome.to_dict()["words"] == list(words)


def test_a_phrase_counts_only_when_all_its_words_are_there(sms_split) -> None:
    train, test = sms_split
    result = evaluate_attack(DictionaryAttack(words=("x",), n=1), train, test, "nb", cache=FitCache())
    single = campaign_outcome(result, test, ["call"])
    phrase = campaign_outcome(result, test, ["call now"])
    assert 0 < phrase.n_messages < single.n_messages
    nothing = campaign_outcome(result, test, ["zzzqqq"])
    assert nothing.n_messages == 0 and np.isnan(nothing.clean_slip)
