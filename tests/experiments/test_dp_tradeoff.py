"""The DP trade-off: epsilon vs CACC vs ASR vs label-flip damage, with the undefended reference."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset, load_dataset, split_train_test
from poisonlab.defenses import DPLogistic, DPNaiveBayes, PartitionAggregation
from poisonlab.experiments.dp_tradeoff import TradeoffPoint, average_over_seeds, dp_tradeoff
from poisonlab.experiments.evaluate import evaluate_poisoned
from poisonlab.victims import make_victim


@pytest.fixture(scope="module")
def split() -> tuple[Dataset, Dataset]:
    return split_train_test(load_dataset("sms_spam").take(range(2000)))


def test_points_per_budget_and_seed(split: tuple[Dataset, Dataset]) -> None:
    train, test = split
    points = dp_tradeoff(train, test, DPNaiveBayes(), epsilons=(0.05, 50.0), seeds=(0, 1))
    assert [(p.epsilon, p.seed) for p in points] == [
        (0.05, 0),
        (0.05, 1),
        (50.0, 0),
        (50.0, 1),
        (math.inf, 0),
        (math.inf, 1),
    ]
    for p in points:
        assert p.n_seeds == 1
        assert 0 <= p.cacc <= 1 and 0 <= p.asr <= 1 and 0 <= p.flip_cacc <= 1
        assert p.flip_damage == pytest.approx(p.cacc - p.flip_cacc)
        json.dumps(p.to_dict(), allow_nan=False)
    averaged = average_over_seeds(points)
    assert [(p.epsilon, p.n_seeds, p.seed) for p in averaged] == [
        (0.05, 2, None),
        (50.0, 2, None),
        (math.inf, 2, None),
    ]
    assert averaged[0].cacc == pytest.approx((points[0].cacc + points[1].cacc) / 2)
    assert averaged[1].cacc > averaged[0].cacc, "a larger budget is more accurate"
    assert averaged[-1].to_dict()["epsilon"] == "inf"


def test_infinite_budget_is_the_undefended_victim(split: tuple[Dataset, Dataset]) -> None:
    """The reference point agrees with the library's own attack evaluation."""
    train, test = split
    backdoor, flip = Backdoor(mode="insert", rate=0.02), LabelFlip(strategy="targeted", rate=0.1)
    (reference,) = dp_tradeoff(
        train, test, DPLogistic(), epsilons=(), backdoor=backdoor, label_flip=flip, seeds=(3,)
    )
    assert reference.epsilon == math.inf
    backdoored = evaluate_poisoned(backdoor.apply(train, random_state=3), test, "logreg", random_state=3)
    flipped = evaluate_poisoned(flip.apply(train, random_state=3), test, "logreg", random_state=3)
    assert reference.cacc == backdoored.clean.accuracy
    assert backdoored.backdoor is not None
    assert reference.asr == backdoored.backdoor.asr
    assert reference.backdoor_cacc == backdoored.attacked.accuracy
    assert reference.flip_cacc == flipped.attacked.accuracy
    assert reference.flip_spam_leak == flipped.attacked.spam_leak
    plain = make_victim("logreg", random_state=3).fit(list(train.texts), train.labels)
    assert reference.cacc == np.mean(plain.predict(list(test.texts)) == test.labels)


def test_same_seed_same_points(split: tuple[Dataset, Dataset]) -> None:
    train, test = split
    first = dp_tradeoff(train, test, DPNaiveBayes(), epsilons=(1.0,), seeds=(5,))
    again = dp_tradeoff(train, test, DPNaiveBayes(), epsilons=(1.0,), seeds=(5,))
    assert [p.to_dict() for p in first] == [p.to_dict() for p in again]


def test_needs_a_budgeted_defense(split: tuple[Dataset, Dataset]) -> None:
    train, test = split
    with pytest.raises(ParameterError, match="needs a defense with an 'epsilon' parameter"):
        dp_tradeoff(train, test, PartitionAggregation(), epsilons=(1.0,))


def test_average_keeps_nan_only_when_all_are_nan() -> None:
    a = TradeoffPoint(1.0, 0, 1, 0.9, 0.0, 0.1, math.nan, 0.9, 0.8, 0.3, 0.1)
    b = dataclasses.replace(a, seed=1, asr=0.5)
    (mean,) = average_over_seeds([a, b])
    assert mean.asr == 0.5
    (only_nan,) = average_over_seeds([a])
    assert math.isnan(only_nan.asr)
