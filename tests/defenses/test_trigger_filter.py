"""The inference-time trigger filter: word support equals the victim's own scores, stripping, the
false-alarm rate, and the backdoor it disarms on SMS."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from poisonlab import ParameterError
from poisonlab.attacks import Backdoor
from poisonlab.defenses import FilteredModel, TriggerFilter, false_alarm_rate
from poisonlab.defenses.trigger_filter import WHITESPACE, Tokenizer, flagged_share
from poisonlab.experiments.defend import evaluate_defense
from poisonlab.victims import log_odds, make_victim


@pytest.fixture(scope="module")
def backdoored(sms_split):
    train, _ = sms_split
    return Backdoor(trigger="zqx", rate=0.01, repeat=3).apply(train, random_state=0)


def test_tokenizer_follows_the_victim():
    assert Tokenizer.of(make_victim("nb", features="tfidf")).words("FREE free, FREEDOM") == {
        "free": [(0, 4), (5, 9)],
        "freedom": [(11, 18)],
    }
    hashed = make_pipeline(HashingVectorizer(), LogisticRegression())
    assert Tokenizer.of(hashed) == Tokenizer(pattern=WHITESPACE, lowercase=False)
    assert Tokenizer.of(hashed).words("a b a") == {"a": [(0, 1), (4, 5)], "b": [(2, 3)]}


@pytest.mark.parametrize("victim", ["nb", "logreg", "svm"])
def test_word_support_is_the_margin_drop(small_dataset, victim):
    model = make_victim(victim, random_state=0).fit(list(small_dataset.texts), small_dataset.labels)
    filtered = FilteredModel(model, 1.0, True, Tokenizer.of(model))
    message = "WIN a free prize, win now"
    (support,) = filtered.word_support([message])
    assert set(support) == {"win", "free", "prize", "now"}
    full = log_odds(model, [message])[0]
    sign = 1.0 if full > 0 else -1.0
    by_hand = {
        "win": " a free prize,   now",
        "free": "WIN a   prize, win now",
        "prize": "WIN a free  , win now",
        "now": "WIN a free prize, win  ",
    }
    for word, stripped in by_hand.items():
        assert support[word] == pytest.approx(sign * (full - log_odds(model, [stripped])[0]), abs=1e-9)


def test_strip_removes_every_occurrence_of_a_flagged_word(backdoored):
    model = make_victim("logreg", random_state=0).fit(
        list(backdoored.poisoned.texts), backdoored.poisoned.labels
    )
    filtered = TriggerFilter().fit(backdoored.poisoned, "logreg").model
    message = "ZQX zqx zqx WINNER! Claim your free prize, call 09061701461 now"
    assert model.predict([message]).tolist() == [0], "the backdoor works on the undefended model"
    assert filtered.suspicious_words([message]) == [("zqx",)]
    (stripped,) = filtered.strip([message])
    assert "zqx" not in stripped.lower() and "WINNER! Claim your free prize" in stripped
    assert filtered.predict([message]).tolist() == [1]
    assert filtered.strip(["see you at lunch"]) == ["see you at lunch"]


def test_probabilities_only_where_the_victim_has_them(small_dataset):
    with_proba = TriggerFilter().fit(small_dataset, "nb")
    proba = with_proba.predict_proba(small_dataset.texts)
    assert (np.argmax(proba, axis=1) == with_proba.predict(small_dataset.texts)).all()
    without = TriggerFilter().fit(small_dataset, "svm")
    assert not hasattr(without.model, "predict_proba")
    assert without.predict(["free prize"]).shape == (1,)


def test_require_flip_and_threshold_control_the_flags(backdoored, sms_split):
    _, test = sms_split
    texts = list(test.texts[:300])
    strict = TriggerFilter().fit(backdoored.poisoned, "logreg").model
    loose = TriggerFilter(threshold=0.25, require_flip=False).fit(backdoored.poisoned, "logreg").model
    strict_flags, loose_flags = strict.suspicious_words(texts), loose.suspicious_words(texts)
    assert all(set(a) <= set(b) for a, b in zip(strict_flags, loose_flags))
    assert flagged_share(loose, texts) > flagged_share(strict, texts)
    assert false_alarm_rate(strict, texts) == flagged_share(strict, texts)
    assert np.isnan(flagged_share(strict, []))


@pytest.mark.parametrize("params", [{"threshold": 0}, {"threshold": -1.0}, {"require_flip": "yes"}])
def test_bad_parameters(params):
    with pytest.raises(ParameterError, match="parameter of TriggerFilter"):
        TriggerFilter(**params)


@pytest.mark.parametrize("victim", ["logreg", "svm"])
def test_filter_disarms_a_rare_token_backdoor_on_sms(sms_split, victim):
    """Full SMS training split, 1% backdoor (45 rows, trigger x3). Measured: logreg ASR 97.7% ->
    2.3%, svm 97.8% -> 0.0%; no false alarm on the 1,116 clean test messages; CACC unchanged."""
    train, test = sms_split
    result = evaluate_defense(TriggerFilter(), Backdoor(rate=0.01, repeat=3), train, test, victim)
    assert result.undefended_asr is not None and result.undefended_asr >= 0.9
    assert result.asr is not None and result.asr <= 0.03
    assert result.filtered is not None
    assert result.filtered["false_alarm_rate"] <= 0.005
    assert result.filtered["top_words"][0]["word"] == "promo2026"
    assert result.scores.accuracy >= result.attack.attacked.accuracy - 0.003
