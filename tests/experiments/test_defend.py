"""`evaluate_defense`: the undefended side equals `evaluate_attack`, the defended side is scored on
the same messages, and what the defense did is scored against the poison truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poisonlab import metrics
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.defenses import DEFENSES, Sanitize, TriggerFilter, Trim
from poisonlab.experiments.defend import REPORTED_RADII, defend_evaluated, evaluate_defense
from poisonlab.experiments.evaluate import evaluate_attack


@pytest.fixture(scope="module")
def split(sms_split):
    train, test = sms_split
    return train.take(np.arange(1500)), test.take(np.arange(400))


def test_backdoor_against_sanitize(split):
    train, test = split
    attack = Backdoor(n=15, repeat=3)
    result = evaluate_defense(
        Sanitize(detectors=("trigger_mining",)), attack, train, test, "logreg", random_state=3
    )
    plain = evaluate_attack(attack, train, test, "logreg", random_state=3)
    assert result.attack.attacked == plain.attacked and result.attack.clean == plain.clean
    assert result.undefended_asr == plain.backdoor.asr
    defended = result.defended
    members = np.flatnonzero(test.labels == 1)
    triggered = plain.poisoned.trigger.apply([test.texts[i] for i in members])
    eligible = metrics.asr_eligible(test.labels[members], plain.clean_model.predict(triggered), source=1)
    assert result.asr == metrics.attack_success_rate(defended.predict(triggered), eligible, target=0)
    assert result.scores.accuracy == metrics.accuracy(test.labels, defended.predict(test.texts))
    assert result.removed is not None
    assert result.removed.rows == int(defended.removed.sum())
    assert result.removed.poison == int((defended.removed & plain.poisoned.is_poison).sum()) == 15
    assert result.removed.precision == 1.0 and result.removed.recall == 1.0
    payload = result.to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["undefended"]["asr"] == result.undefended_asr and payload["defended"]["asr"] == result.asr
    assert payload["defense"] == "sanitize"
    assert payload["defense_params"] == Sanitize(detectors=("trigger_mining",)).get_params()


def test_label_flip_has_no_asr_and_weights_are_scored(split):
    train, test = split
    defense = Sanitize(detectors=("knn_labels",), threshold=0.05, action="weight")
    result = evaluate_defense(defense, LabelFlip(rate=0.05), train, test, "logreg")
    assert result.asr is None and "asr" not in result.to_dict()["defended"]
    assert result.removed is None
    assert result.downweighted is not None and result.downweighted.rows == result.defended.info["flagged"]


def test_filter_report(split):
    train, test = split
    result = evaluate_defense(TriggerFilter(), Backdoor(n=15, repeat=3), train, test, "svm")
    assert result.filtered is not None
    assert set(result.filtered) == {
        "false_alarm_rate",
        "n_clean",
        "triggered_flagged",
        "n_triggered",
        "top_words",
    }
    assert result.filtered["n_clean"] == len(test)
    assert result.filtered["n_triggered"] == int((test.labels == 1).sum())
    assert result.removed is not None and result.removed.rows == result.removed.poison == 15, "retrained"
    assert result.certified is None
    no_trigger = evaluate_defense(TriggerFilter(), LabelFlip(n=10), train, test, "svm")
    assert no_trigger.filtered is not None and no_trigger.filtered["triggered_flagged"] is None


def test_certificates_report(split):
    train, test = split
    result = evaluate_defense(DEFENSES.get("partition_aggregation")(k=5), LabelFlip(n=10), train, test, "nb")
    assert result.certified is not None
    curve = result.certified["certified_accuracy"]
    assert list(curve) == [str(r) for r in REPORTED_RADII]
    values = list(curve.values())
    assert values == sorted(values, reverse=True), "certified accuracy never rises with the radius"
    assert values[-1] == 0.0, "with k=5 no prediction is certified at radius 25"


def test_shared_evaluation_and_tfidf(split):
    train, test = split
    evaluation = evaluate_attack(LabelFlip(rate=0.05), train, test, "nb", features="tfidf")
    one = defend_evaluated(Trim(), evaluation, test, "nb", features="tfidf")
    two = evaluate_defense(Trim(), LabelFlip(rate=0.05), train, test, "nb", features="tfidf")
    assert one.scores == two.scores
    assert one.removed == two.removed
