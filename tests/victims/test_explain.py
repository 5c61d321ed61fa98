"""`explain_naive_bayes`: the prior and per-word weights add up to the model's own log-odds."""

import numpy as np
import pytest

from poisonlab.victims import NaiveBayesExplanation, WordEvidence, explain_naive_bayes, make_victim

MESSAGES = [
    "WIN a free prize now",
    "see you at lunch",
    "cheap pills cheap pills cheap",
    "zzz qqq unknownword",  # nothing in the vocabulary
    "",
    "free lunch meeting at 3pm, call me",
]


def model_log_odds(model, text, negative=0, positive=1):
    log_proba = model.predict_log_proba([text])[0]
    classes = list(model[-1].classes_)
    return log_proba[classes.index(positive)] - log_proba[classes.index(negative)]


@pytest.fixture(scope="module", params=[("nb", "count"), ("nb", "tfidf"), ("cnb", "count"), ("cnb", "tfidf")])
def fitted(request, small_dataset):
    name, features = request.param
    return make_victim(name, features=features).fit(list(small_dataset.texts), small_dataset.labels)


@pytest.mark.parametrize("text", MESSAGES)
def test_prior_plus_word_weights_is_the_models_log_odds(fitted, text):
    explanation = explain_naive_bayes(fitted, text, ("ham", "spam"))
    total = explanation.prior + sum(w.weight for w in explanation.words)
    assert total == pytest.approx(model_log_odds(fitted, text), abs=1e-9)
    assert explanation.log_odds == pytest.approx(total, abs=1e-12)


@pytest.mark.parametrize("text", MESSAGES)
def test_the_sign_of_the_log_odds_is_the_decision(fitted, text):
    explanation = explain_naive_bayes(fitted, text, ("ham", "spam"))
    predicted = fitted.predict([text])[0]
    if abs(explanation.log_odds) > 1e-12:
        assert predicted == int(explanation.log_odds > 0)


def test_on_the_sms_corpus(sms_split):
    train, test = sms_split
    for name in ("nb", "cnb"):
        model = make_victim(name).fit(list(train.texts), train.labels)
        for text in test.texts[:25]:
            explanation = explain_naive_bayes(model, text, train.classes)
            assert explanation.log_odds == pytest.approx(model_log_odds(model, text), abs=1e-9)


def test_swapping_the_classes_negates_everything(fitted):
    text = MESSAGES[0]
    forward = explain_naive_bayes(fitted, text, ("ham", "spam"))
    backward = explain_naive_bayes(fitted, text, ("ham", "spam"), negative=1, positive=0)
    assert (backward.negative, backward.positive) == ("spam", "ham")
    assert backward.prior == pytest.approx(-forward.prior)
    assert backward.log_odds == pytest.approx(-forward.log_odds)
    assert backward.log_odds == pytest.approx(model_log_odds(fitted, text, negative=1, positive=0), abs=1e-9)


def test_words_carry_value_times_log_probability_difference(small_dataset):
    model = make_victim("nb").fit(list(small_dataset.texts), small_dataset.labels)
    explanation = explain_naive_bayes(model, "cheap cheap lunch", ("ham", "spam"))
    vocabulary = model[0].vocabulary_
    log_prob = model[-1].feature_log_prob_
    by_word = {w.word: w for w in explanation.words}
    assert set(by_word) == {"cheap", "lunch"}
    assert by_word["cheap"].value == 2
    assert by_word["lunch"].value == 1
    for word, evidence in by_word.items():
        j = vocabulary[word]
        assert evidence.weight == pytest.approx(evidence.value * (log_prob[1, j] - log_prob[0, j]))
    assert by_word["cheap"].weight > 0 > by_word["lunch"].weight
    assert explanation.prior == pytest.approx(np.log(5 / 15) - np.log(10 / 15))


def test_words_are_sorted_by_strength_and_unseen_words_listed(small_dataset):
    model = make_victim("nb").fit(list(small_dataset.texts), small_dataset.labels)
    explanation = explain_naive_bayes(model, "cheap lunch zzz win zzz qqq", ("ham", "spam"))
    strengths = [abs(w.weight) for w in explanation.words]
    assert strengths == sorted(strengths, reverse=True)
    assert explanation.unseen == ("zzz", "qqq")  # in order, once each
    assert {w.word for w in explanation.words} == {"cheap", "lunch", "win"}


def test_three_classes_compare_the_chosen_pair():
    texts = ["apple pie", "apple tart", "car engine", "car wheel", "rain cloud", "rain storm"]
    labels = [0, 0, 1, 1, 2, 2]
    model = make_victim("nb").fit(texts, labels)
    classes = ("food", "cars", "weather")
    for text in ("apple car", "storm cloud rain", "engine"):
        explanation = explain_naive_bayes(model, text, classes, negative=0, positive=2)
        assert (explanation.negative, explanation.positive) == ("food", "weather")
        assert explanation.log_odds == pytest.approx(model_log_odds(model, text, 0, 2), abs=1e-9)


def test_summary_names_both_sides():
    explanation = NaiveBayesExplanation(
        "ham",
        "spam",
        -0.5,
        (WordEvidence("win", 1, 1.5), WordEvidence("lunch", 1, -0.25)),
        ("zz",),
    )
    assert explanation.log_odds == pytest.approx(0.75)
    assert explanation.summary() == (
        "log-odds spam vs ham = +0.75: prior -0.50; toward spam: 'win' +1.50; "
        "toward ham: 'lunch' -0.25; unseen: 'zz'"
    )


def test_summary_keeps_the_top_words_only():
    words = tuple(WordEvidence(f"w{i}", 1, 1.0 - i / 10) for i in range(6))
    summary = NaiveBayesExplanation("ham", "spam", 0.0, words, ()).summary(top=2)
    assert "'w0'" in summary
    assert "'w1'" in summary
    assert "'w2'" not in summary
    assert "unseen" not in summary
