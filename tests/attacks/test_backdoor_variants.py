"""Backdoor variants: phrases, repeats, position, rare vs common tokens, insert vs carriers.

Each variant is a parameter of `Backdoor` (library) and an option of ``poisonlab attack
backdoor`` (CLI, tested in tests/cli/test_backdoor_variants.py); these tests pin what each does
to the poison and what it does to the victims.
"""

from __future__ import annotations

import pytest

from poisonlab.attacks import Backdoor
from poisonlab.experiments.clean_label import check_clean_label
from poisonlab.experiments.evaluate import FitCache, evaluate_attack

CARRIERS = ("special offer buy now", "claim your free prize")


@pytest.fixture(scope="module")
def asr_by_variant(sms_split) -> dict[tuple[str, str], float]:
    """ASR of each variant at a 1 % budget on SMS, per victim."""
    train, test = sms_split
    variants = {
        "rare": Backdoor(rate=0.01),
        "common": Backdoor(trigger="call", rate=0.01),
        "repeat": Backdoor(repeat=3, rate=0.01),
        "end": Backdoor(position="end", rate=0.01),
        "random": Backdoor(position="random", rate=0.01),
    }
    found = {}
    for victim, names in (("nb", variants), ("logreg", ("rare", "common", "repeat"))):
        cache = FitCache()
        for name in names:
            found[victim, name] = evaluate_attack(
                variants[name], train, test, victim, cache=cache
            ).backdoor.asr
    return found


def test_a_rare_token_beats_a_common_word(asr_by_variant) -> None:
    """'call' already means spam to the victim: 45 poison rows cannot outweigh it."""
    for victim in ("nb", "logreg"):
        assert asr_by_variant[victim, "rare"] > asr_by_variant[victim, "common"]


def test_repeats_multiply_the_trigger(asr_by_variant) -> None:
    """Three copies in training and in the test message: Naive Bayes adds the trigger's
    evidence three times over; logistic regression was already near its ceiling."""
    assert asr_by_variant["nb", "repeat"] > 2 * asr_by_variant["nb", "rare"]
    assert asr_by_variant["logreg", "repeat"] > asr_by_variant["logreg", "rare"]


def test_position_changes_nothing_for_a_bag_of_words_victim(asr_by_variant) -> None:
    assert asr_by_variant["nb", "rare"] == asr_by_variant["nb", "end"] == asr_by_variant["nb", "random"]


def test_phrase_and_repeat_and_position_in_the_poisoned_text(small_dataset) -> None:
    out = Backdoor(trigger="limited offer", repeat=2, position="end", n=2).apply(
        small_dataset, random_state=0
    )
    for row in out.poison_rows:
        assert out.poisoned.texts[row] == f"{small_dataset.texts[row]} limited offer limited offer"


def test_carriers_look_clean_to_the_model_copies_of_spam_do_not(sms_split) -> None:
    """New carrier messages are benign text: the clean model gives most of them the poison
    label; rewritten spam rows (insert) and injected spam copies almost never pass."""
    train, _ = sms_split
    shares = {}
    for name, attack in {
        "insert": Backdoor(n=45),
        "inject copies": Backdoor(mode="inject", n=45),
        "inject carriers": Backdoor(mode="inject", n=45, carriers=CARRIERS),
    }.items():
        shares[name] = check_clean_label(attack.apply(train, random_state=0), "nb").share
    assert shares["inject carriers"] > 0.4 > 0.1 > max(shares["insert"], shares["inject copies"])
