"""Canary probes: kept shares, the paired exact test, and the probe sets run."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from poisonlab.attacks import Trigger
from poisonlab.data import Dataset
from poisonlab.monitoring.canaries import REPEATS, default_canaries, probe, probe_all
from poisonlab.victims import make_victim


@pytest.fixture(scope="module")
def models(sms_split):
    train, _ = sms_split
    reference = make_victim("nb").fit(list(train.texts), train.labels)
    spam = np.flatnonzero(train.labels == 1)[:60]
    texts = list(train.texts) + [f"zqx {train.texts[i]}" for i in spam]
    labels = np.concatenate([train.labels, np.zeros(spam.size, dtype=int)])
    return reference, make_victim("nb").fit(texts, labels)


def test_default_canaries_are_protected_messages_the_reference_catches():
    data = Dataset(["a", "b", "c", "d"], [1, 1, 0, 1], ("ham", "spam"))
    assert default_canaries(data, [1, 0, 1, 1], protected=1) == ("a", "d")


def test_probe_counts_and_mcnemar_exact_test(sms_split, models):
    _, test = sms_split
    reference, candidate = models
    canaries = [t for t, y in zip(test.texts, test.labels) if y == 1][:80]
    result = probe(reference, candidate, canaries, protected=1, trigger="zqx", repeat=3)
    texts = Trigger(text="zqx", repeat=3).apply(canaries)
    kept_r = reference.predict(texts) == 1
    kept_c = candidate.predict(texts) == 1
    assert result.n == 80
    assert result.reference_kept == pytest.approx(kept_r.mean())
    assert result.candidate_kept == pytest.approx(kept_c.mean())
    b, c = int(np.sum(kept_r & ~kept_c)), int(np.sum(kept_c & ~kept_r))
    assert (result.reference_only, result.candidate_only) == (b, c)
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue)
    assert result.drop > 0.05 and result.p_value < 0.05  # the planted token lets spam through
    assert result.label == "canaries + 'zqx' x3"


def test_plain_probe_and_probe_sets(models):
    reference, _ = models
    plain = probe(reference, reference, ["win cash now"], protected=1)
    assert (plain.trigger, plain.repeat, plain.p_value, plain.drop, plain.label) == (
        None,
        0,
        1.0,
        0.0,
        "canaries",
    )
    results = probe_all(reference, reference, ["win cash now"], ["aa", "bb"], protected=1)
    assert [(r.trigger, r.repeat) for r in results] == [(None, 0)] + [
        (t, k) for t in ("aa", "bb") for k in REPEATS
    ]
