"""Minimum-poison searches: exact for Naive Bayes (equal to refitting at every budget), stated as a
search with refits for other victims."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from poisonlab import ParameterError
from poisonlab.data import Dataset
from poisonlab.experiments.evaluate import FitCache
from poisonlab.experiments.min_poison import FlipSearch, exponential_search, min_flips, min_injections
from poisonlab.victims import make_victim


@pytest.fixture(scope="module")
def sms(sms_split) -> dict[str, object]:
    """A 1,500-row slice of the SMS training split (refits stay quick) and test spam."""
    train, test = sms_split
    part = train.take(np.arange(1500))
    spam = [test.texts[i] for i in np.flatnonzero(test.labels == 1)]
    return {"train": part, "test": test, "spam": spam}


def refit_predicts(victim: str, features: str, data: Dataset, texts: list[str]) -> np.ndarray:
    model = make_victim(victim, features=features, random_state=0).fit(list(data.texts), data.labels)
    return model.predict(texts)


@pytest.mark.parametrize(("victim", "features"), [("nb", "count"), ("cnb", "count"), ("nb", "tfidf")])
def test_min_flips_equals_refitting_at_every_budget(sms, victim, features):
    train = sms["train"]
    search = FlipSearch(train, victim, features=features)
    checked = 0
    for message in sms["spam"][:12]:
        result = search.search(message, max_rows=12)
        if result.n_poison is None:
            continue
        assert result.exact and "exact" in result.method and result.refits == 0
        order = result.poisoned.params["rows"]
        wanted = train.class_index(result.wanted)
        labels = train.labels.copy()
        for budget in range(1, result.n_poison + 1):  # the brute-force loop: flip one more, refit
            labels[order[budget - 1]] = wanted
            predicted = refit_predicts(victim, features, train.with_labels(labels), [message])[0]
            assert (predicted == wanted) == (budget == result.n_poison), (message, budget)
        assert result.after == result.wanted != result.before
        assert result.poisoned.n_poison == result.n_poison == result.evaluated
        assert np.array_equal(result.poisoned.poisoned.labels, labels)
        checked += 1
    assert checked >= 3


def test_min_flips_toward_a_chosen_class_of_three(small_dataset):
    labels = small_dataset.labels.copy()
    labels[[2, 9, 11]] = 2
    data = Dataset(small_dataset.texts, labels, ("ham", "spam", "promo"))
    result = min_flips(data, "win a free prize now", to="promo")
    assert result.before == "spam" and result.wanted == "promo" and result.after == "promo"
    flipped = result.poisoned.poison_rows
    assert (data.labels[flipped] == 1).all() and (result.poisoned.poisoned.labels[flipped] == 2).all()
    for budget in range(result.n_poison):
        partial = data.labels.copy()
        partial[result.poisoned.params["rows"][:budget]] = 2
        assert refit_predicts("nb", "count", data.with_labels(partial), ["win a free prize now"])[0] != 2


def test_nothing_to_do_and_nothing_found(sms):
    train, message = sms["train"], sms["spam"][0]
    already = min_flips(train, message, to="spam")
    assert (already.n_poison, already.before, already.after, already.poisoned.n_poison) == (
        0,
        "spam",
        "spam",
        0,
    )
    capped = min_flips(train, message, max_rows=1)
    assert capped.n_poison is None and not capped.found and capped.after == capped.before == "spam"
    assert capped.to_dict()["poison_rows"] == [] and capped.max_rows == 1


def test_other_victims_are_searched_with_refits(sms):
    train = sms["train"]
    cache = FitCache()
    message = sms["spam"][1]
    result = min_flips(train, message, "svm", cache=cache)
    assert not result.exact and "exponential" in result.method and result.refits >= 1
    assert result.found
    rows = result.poisoned.params["rows"]
    wanted = train.class_index(result.wanted)
    labels = train.labels.copy()
    labels[rows] = wanted
    assert refit_predicts("svm", "count", train.with_labels(labels), [message])[0] == wanted
    if result.n_poison > 1:
        labels[rows[-1]] = train.labels[rows[-1]]
        assert refit_predicts("svm", "count", train.with_labels(labels), [message])[0] != wanted


def test_exponential_search():
    for answer in (1, 2, 3, 17, 64, 100):
        tried: list[int] = []
        assert exponential_search(lambda k, a=answer, t=tried: t.append(k) or k >= a, 100) == answer
        assert len(tried) <= 2 * int(np.ceil(np.log2(100))) + 1
    assert exponential_search(lambda k: False, 10) is None
    assert exponential_search(lambda k: k >= 10, 10) == 10


def test_min_injections_for_a_message_equals_refits(sms):
    train = sms["train"]
    result = min_injections(train, "PROMO2026", "nb", message="cheap pills call now", max_rows=200)
    assert result.exact and result.message == "PROMO2026 cheap pills call now"
    assert result.before == "spam" and result.after == "ham" and result.found
    poisoned = result.poisoned
    assert poisoned.n_poison == result.n_poison and (poisoned.source_row[poisoned.is_poison] == -1).all()
    assert all(t.startswith("PROMO2026 ") for t in np.asarray(poisoned.poisoned.texts)[poisoned.is_poison])
    assert refit_predicts("nb", "count", poisoned.poisoned, [result.message])[0] == 0
    fewer = poisoned.poisoned.take(np.arange(len(poisoned.poisoned) - 1))
    assert refit_predicts("nb", "count", fewer, [result.message])[0] == 1


def test_min_injections_to_reach_an_asr(sms):
    train, test = sms["train"], sms["test"]
    cache = FitCache()
    exact = min_injections(train, "PROMO2026", "nb", test=test, target_asr=0.1, max_rows=150, cache=cache)
    search = min_injections(
        train, "PROMO2026", "logreg", test=test, target_asr=0.5, max_rows=150, cache=cache
    )
    for result, victim in ((exact, "nb"), (search, "logreg")):
        assert result.goal == "asr" and result.found, victim
        assert result.asr >= result.target_asr
        fitted = make_victim(victim, random_state=0).fit(
            list(result.poisoned.poisoned.texts), result.poisoned.poisoned.labels
        )
        clean = make_victim(victim, random_state=0).fit(list(train.texts), train.labels)
        members = np.flatnonzero(test.labels == 1)
        triggered = result.poisoned.trigger.apply([test.texts[i] for i in members])
        eligible = clean.predict(triggered) == 1
        assert np.mean(fitted.predict(triggered)[eligible] == 0) == pytest.approx(result.asr, abs=1e-12)
    assert exact.exact and exact.asr_below < exact.target_asr
    assert not search.exact and "exponential" in search.method and search.refits == search.evaluated


def test_min_injections_input_checks(sms):
    train = sms["train"]
    with pytest.raises(ParameterError, match="one goal"):
        min_injections(train, "PROMO2026")
    with pytest.raises(ParameterError, match="one goal"):
        min_injections(train, "PROMO2026", message="hi", target_asr=0.5)
    with pytest.raises(ParameterError, match="test set"):
        min_injections(train, "PROMO2026", target_asr=0.5)
    with pytest.raises(ParameterError, match="target_asr"):
        min_injections(train, "PROMO2026", test=sms["test"], target_asr=1.5)
    with pytest.raises(ParameterError, match="carriers"):
        min_injections(train, "PROMO2026", message="hi", carriers="not a list")
    with pytest.raises(ParameterError, match="victim"):
        min_flips(train, "hi", "xgboost")
    with pytest.raises(ParameterError, match="'to'"):
        min_flips(train, "hi", to="eggs")
    with pytest.raises(ParameterError, match="max_rows"):
        min_flips(train, "hi", max_rows=0)


def test_carriers_are_injected_in_order(small_dataset):
    carriers = ("see you at lunch", "win big cash")
    result = min_injections(small_dataset, "zzcode", message="win cash", carriers=carriers, max_rows=60)
    assert result.found and result.n_poison >= 2  # the first carrier alone does not do it
    texts = [result.poisoned.poisoned.texts[i] for i in result.poisoned.poison_rows]
    assert texts == [f"zzcode {carriers[i % 2]}" for i in range(result.n_poison)]
    reference = clone(make_victim("nb")).fit(
        list(result.poisoned.poisoned.texts), result.poisoned.poisoned.labels
    )
    assert reference.predict([result.message])[0] == 0
