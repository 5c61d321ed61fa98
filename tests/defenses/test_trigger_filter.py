"""The trigger filter: word support equals the victim's own scores (by arithmetic or by asking it),
the per-word test on the training rows, stripping, retraining, the false-alarm rate, and the
backdoor it disarms on short SMS and on long messages."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from poisonlab import ParameterError
from poisonlab.attacks import Backdoor
from poisonlab.data import Dataset
from poisonlab.defenses import FilteredModel, TriggerFilter, false_alarm_rate
from poisonlab.defenses.trigger_filter import (
    WHITESPACE,
    DecidedRows,
    LinearView,
    Tokenizer,
    decided_rows,
    flagged_share,
)
from poisonlab.experiments.defend import evaluate_defense
from poisonlab.victims import log_odds, make_victim


@pytest.fixture(scope="module")
def backdoored(sms_split):
    train, _ = sms_split
    return Backdoor(trigger="zqx", rate=0.01, repeat=3).apply(train, random_state=0)


def _long_messages(data: Dataset, seed: int, parts: int = 12, spam_parts: int = 3) -> Dataset:
    """Long messages made of `data`'s SMS, `parts` each: a spam one holds `spam_parts` spam SMS among
    ham SMS (so no single SMS decides it), a ham one only ham SMS."""
    rng = np.random.default_rng(seed)
    ham = list(rng.permutation(np.flatnonzero(data.labels == 0)))
    spam = list(rng.permutation(np.flatnonzero(data.labels == 1)))
    groups: list[tuple[list[int], int]] = []
    while len(spam) >= spam_parts and len(ham) >= 2 * parts - spam_parts:
        rows = [spam.pop() for _ in range(spam_parts)] + [ham.pop() for _ in range(parts - spam_parts)]
        groups.append((rows, 1))
    while len(ham) >= parts:
        groups.append(([ham.pop() for _ in range(parts)], 0))
    order = rng.permutation(len(groups))
    texts = ["\n".join(data.texts[i] for i in rng.permutation(groups[g][0])) for g in order]
    return Dataset(texts, [groups[g][1] for g in order], data.classes, name="long")


def test_tokenizer_follows_the_victim():
    assert Tokenizer.of(make_victim("nb", features="tfidf")).words("FREE free, FREEDOM") == {
        "free": [(0, 4), (5, 9)],
        "freedom": [(11, 18)],
    }
    hashed = make_pipeline(HashingVectorizer(), LogisticRegression())
    assert Tokenizer.of(hashed) == Tokenizer(pattern=WHITESPACE, lowercase=False)
    assert Tokenizer.of(hashed).words("a b a") == {"a": [(0, 1), (4, 5)], "b": [(2, 3)]}


@pytest.mark.parametrize("features", ["count", "tfidf"])
@pytest.mark.parametrize("victim", ["nb", "logreg", "svm"])
@pytest.mark.parametrize("arithmetic", [True, False])
def test_word_support_is_the_margin_drop(small_dataset, victim, features, arithmetic):
    texts = list(small_dataset.texts)
    model = make_victim(victim, features=features, random_state=0).fit(texts, small_dataset.labels)
    linear = LinearView.of(model, texts) if arithmetic else None
    assert (linear is not None) == arithmetic
    filtered = FilteredModel(model, (), True, Tokenizer.of(model), linear)
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


def test_linear_view_only_where_the_victim_is_linear(small_dataset):
    texts = list(small_dataset.texts)
    neighbours = make_pipeline(HashingVectorizer(), KNeighborsClassifier(n_neighbors=3))
    assert LinearView.of(neighbours.fit(texts, small_dataset.labels), texts) is None
    for classifier in (KNeighborsClassifier(n_neighbors=3), SVC(kernel="rbf", gamma=1.0)):
        words_then_other = make_victim("nb")
        words_then_other.steps[-1] = ("classifier", classifier)
        fitted = words_then_other.fit(texts, small_dataset.labels)
        assert LinearView.of(fitted, texts) is None, "checked, not assumed"


@pytest.mark.parametrize("victim", ["nb", "svm"])
def test_decided_rows_by_arithmetic_equal_asking_the_victim(backdoored, victim):
    data = backdoored.poisoned.take(range(600))
    model = make_victim(victim, features="tfidf", random_state=0).fit(list(data.texts), data.labels)
    fast = decided_rows(model, data, linear=LinearView.of(model, data.texts))
    slow = decided_rows(model, data)
    assert fast.base_rate == pytest.approx(slow.base_rate, rel=1e-9) and fast.base_rate > 0
    assert dict(zip(fast.words, fast.rows.tolist())) == dict(zip(slow.words, slow.rows.tolist()))
    assert dict(zip(fast.words, fast.decided.tolist())) == dict(zip(slow.words, slow.decided.tolist()))


def test_trigger_words_need_a_majority_and_significance():
    counts = DecidedRows(
        words=("zqx", "call", "rare", "you"),
        rows=np.array([45, 400, 2, 3000]),
        decided=np.array([42, 120, 2, 600]),
        base_rate=0.1,
    )
    # call and you: significant but a minority of their rows; rare: 2 rows prove little
    assert counts.triggers(0.01) == ("zqx",)
    assert DecidedRows(("a",), np.array([3]), np.array([0]), 0.0).triggers(0.5) == ()


def test_strip_removes_every_occurrence_of_a_flagged_word(backdoored):
    model = make_victim("logreg", random_state=0).fit(
        list(backdoored.poisoned.texts), backdoored.poisoned.labels
    )
    filtered = TriggerFilter(retrain=False).fit(backdoored.poisoned, "logreg").model
    message = "ZQX zqx zqx WINNER! Claim your free prize, call 09061701461 now"
    assert model.predict([message]).tolist() == [0], "the backdoor works on the undefended model"
    assert filtered.trigger_words == {"zqx"}
    assert filtered.suspicious_words([message]) == [("zqx",)]
    (stripped,) = filtered.strip([message])
    assert "zqx" not in stripped.lower() and "WINNER! Claim your free prize" in stripped
    assert filtered.predict([message]).tolist() == [1]
    assert filtered.strip(["see you at lunch"]) == ["see you at lunch"]
    assert filtered.suspicious_words(["zqx see you at lunch"]) == [()], "supports ham, decides nothing"


def test_retraining_drops_the_rows_carrying_the_trigger(backdoored):
    defended = TriggerFilter().fit(backdoored.poisoned, "svm")
    assert defended.removed is not None
    assert (defended.removed == backdoored.is_poison).all(), "exactly the 45 poison rows"
    assert "zqx" not in defended.model.model_.steps[0][1].vocabulary_
    assert defended.info["retrained"] and defended.info["trigger_words"][0]["word"] == "zqx"
    message = "zqx zqx zqx WINNER! Claim your free prize, call 09061701461 now"
    assert defended.predict([message]).tolist() == [1]


def test_clean_data_has_no_trigger_words(sms_split):
    train, _ = sms_split
    for victim in ("nb", "logreg", "svm"):
        defended = TriggerFilter().fit(train, victim)
        assert defended.info["trigger_words"] == [], victim
        assert not defended.removed.any() and not defended.info["retrained"]


def test_probabilities_only_where_the_victim_has_them(small_dataset):
    with_proba = TriggerFilter().fit(small_dataset, "nb")
    proba = with_proba.predict_proba(small_dataset.texts)
    assert (np.argmax(proba, axis=1) == with_proba.predict(small_dataset.texts)).all()
    without = TriggerFilter().fit(small_dataset, "svm")
    assert not hasattr(without.model, "predict_proba")
    assert without.predict(["free prize"]).shape == (1,)


def test_require_flip_and_message_threshold_control_the_flags(backdoored, sms_split):
    _, test = sms_split
    triggered = "zqx zqx zqx WINNER! Claim your free prize, call 09061701461 now"
    texts = [*test.texts[:300], "zqx zqx zqx see you", triggered]
    strict = TriggerFilter(retrain=False).fit(backdoored.poisoned, "logreg").model
    loose = TriggerFilter(retrain=False, require_flip=False).fit(backdoored.poisoned, "logreg").model
    onion = TriggerFilter(retrain=False, message_threshold=0.25).fit(backdoored.poisoned, "logreg").model
    strict_flags, loose_flags = strict.suspicious_words(texts), loose.suspicious_words(texts)
    onion_flags = onion.suspicious_words(texts)
    assert all(set(a) <= set(b) for a, b in zip(strict_flags, loose_flags))
    assert all(set(a) <= set(b) for a, b in zip(strict_flags, onion_flags))
    assert loose_flags[-2:] == [("zqx",), ("zqx",)] and strict_flags[-2:] == [(), ("zqx",)]
    assert flagged_share(onion, texts) > flagged_share(strict, texts)
    assert false_alarm_rate(strict, texts) == flagged_share(strict, texts)
    assert np.isnan(flagged_share(strict, []))


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": 0},
        {"alpha": 1.0},
        {"alpha": True},
        {"require_flip": "yes"},
        {"retrain": 1},
        {"message_threshold": 0},
        {"message_threshold": float("inf")},
    ],
)
def test_bad_parameters(params):
    with pytest.raises(ParameterError, match="parameter of TriggerFilter"):
        TriggerFilter(**params)


@pytest.mark.parametrize("victim", ["logreg", "svm"])
def test_filter_disarms_a_rare_token_backdoor_on_sms(sms_split, victim):
    """Full SMS training split, 1% backdoor (45 rows, trigger x3). Measured: logreg ASR 97.7% ->
    0.8%, svm 97.8% -> 0.0%; the 45 poison rows and no other removed; no false alarm on the
    1,116 clean test messages; CACC unchanged or better."""
    train, test = sms_split
    result = evaluate_defense(TriggerFilter(), Backdoor(rate=0.01, repeat=3), train, test, victim)
    assert result.undefended_asr is not None and result.undefended_asr >= 0.9
    assert result.asr is not None and result.asr <= 0.02
    assert result.removed is not None and result.removed.rows == result.removed.poison == 45
    assert result.filtered is not None and result.filtered["false_alarm_rate"] <= 0.005
    assert result.defended.info["trigger_words"][0]["word"] == "promo2026"
    assert result.scores.accuracy >= result.attack.attacked.accuracy - 0.003


@pytest.mark.parametrize("victim", ["logreg", "svm"])
def test_filter_disarms_a_backdoor_in_long_messages(sms_split, victim):
    """SMS joined 12 at a time into long messages (about 185 words; 371 training rows), a 5%
    backdoor (19 rows, trigger x3): one word among hundreds, yet the training rows show it.
    Measured (seed 0): logreg ASR 57% -> 0%, svm 58% -> 0%; the 19 poison rows and no other
    removed; CACC 95.7% -> 96.8% and 97.8% -> 98.9%. At 2% (7 rows) the victims memorise the
    poison rows by their other words, the trigger decides few of them and is not found (ASR
    about 25% undefended): the test needs rows the trigger decides."""
    train, test = _long_messages(sms_split[0], 1), _long_messages(sms_split[1], 2)
    assert np.median([len(text.split()) for text in train.texts]) > 150
    result = evaluate_defense(TriggerFilter(), Backdoor(rate=0.05, repeat=3), train, test, victim)
    assert result.undefended_asr is not None and result.undefended_asr >= 0.5
    assert result.asr is not None and result.asr <= 0.05
    assert [w["word"] for w in result.defended.info["trigger_words"]] == ["promo2026"]
    assert result.removed is not None and result.removed.rows == result.removed.poison == 19
    assert result.scores.accuracy >= result.attack.attacked.accuracy - 0.005
