"""`DictionaryAttack` (Nelson et al. 2008): spam made of legitimate words, to block ham."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.attacks import DictionaryAttack
from poisonlab.attacks.words import analyzer
from poisonlab.data import Dataset
from poisonlab.experiments.evaluate import FitCache, evaluate_attack

WORDS = ("meeting", "lunch", "tomorrow", "thanks", "see")


def test_every_message_is_the_whole_dictionary_shuffled_and_labelled_spam(small_dataset: Dataset) -> None:
    out = DictionaryAttack(words=WORDS, n=5).apply(small_dataset, random_state=0)
    k = len(small_dataset)
    assert out.poisoned.texts[:k] == small_dataset.texts
    assert np.array_equal(out.is_poison, np.arange(k + 5) >= k)
    assert (out.source_row[k:] == -1).all() and (out.poisoned.labels[k:] == 1).all()
    messages = out.poisoned.texts[k:]
    assert all(sorted(m.split(" ")) == sorted(WORDS) for m in messages)
    assert len(set(messages)) > 1, "each message is shuffled on its own"
    assert (out.source_class, out.target_class) == (0, 1)


def test_per_message_draws_distinct_words(small_dataset: Dataset) -> None:
    out = DictionaryAttack(words=WORDS, per_message=2, n=20).apply(small_dataset, random_state=0)
    drawn = [m.split(" ") for m in out.poisoned.texts[len(small_dataset) :]]
    assert all(len(words) == 2 == len(set(words)) and set(words) <= set(WORDS) for words in drawn)
    assert set().union(*drawn) == set(WORDS)


def test_default_dictionary_is_the_words_in_most_ham(sms_split) -> None:
    train = sms_split[0]
    tokenize = analyzer()
    rows: dict[str, int] = {}
    for text in (t for t, y in zip(train.texts, train.labels) if y == 0):
        for word in set(tokenize(text)):
            rows[word] = rows.get(word, 0) + 1
    expected = sorted(rows, key=lambda w: (-rows[w], w))
    assert DictionaryAttack(n_words=40, n=1).dictionary(train) == tuple(expected[:40])
    assert DictionaryAttack(n_words=None, n=1).dictionary(train) == tuple(expected)
    assert DictionaryAttack(n=1).dictionary(train) == tuple(expected[:300])


def test_given_words_are_kept_once_in_order() -> None:
    assert DictionaryAttack(words=("b", "a", "b"), n=1).dictionary(Dataset(["x"], [0], ("ham", "spam"))) == (
        "b",
        "a",
    )


def test_what_it_does_to_each_victim(sms_split) -> None:
    """On SMS at a 1 % budget: a few hundred common ham words block ham with both Naive Bayes
    victims; the whole vocabulary instead dilutes every spam word and lets spam through;
    logistic regression keeps its ham loss."""
    train, test = sms_split
    results = {}
    for victim, sizes in (("nb", (300, None)), ("cnb", (300, None)), ("logreg", (300,))):
        cache = FitCache()
        for n_words in sizes:
            attack = DictionaryAttack(n_words=n_words, rate=0.01)
            results[victim, n_words] = evaluate_attack(attack, train, test, victim, cache=cache)
    for victim in ("nb", "cnb"):
        top, whole = results[victim, 300], results[victim, None]
        assert top.attacked.ham_loss > 3 * top.clean.ham_loss
        assert whole.attacked.ham_loss <= whole.clean.ham_loss + 0.002
        assert whole.attacked.spam_leak > 0.8 > 0.1 > whole.clean.spam_leak
    assert results["cnb", 300].attacked.ham_loss > results["nb", 300].attacked.ham_loss
    logreg = results["logreg", 300]
    assert logreg.attacked.ham_loss == logreg.clean.ham_loss


def test_no_words_to_build_from() -> None:
    ds = Dataset(["a", "b", "win cash now"], [0, 0, 1], ("ham", "spam"))
    with pytest.raises(ParameterError, match="'ham' messages of this training set hold no words"):
        DictionaryAttack(n=1).apply(ds, random_state=0)


def test_per_message_larger_than_the_dictionary(small_dataset: Dataset) -> None:
    with pytest.raises(
        ParameterError, match="'per_message' parameter of DictionaryAttack must be at most the 5"
    ):
        DictionaryAttack(words=WORDS, per_message=6, n=1)
    with pytest.raises(ParameterError, match="at most the 3 words of the dictionary"):
        DictionaryAttack(n_words=3, per_message=4, n=1).apply(small_dataset, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"words": ()}, "words"),
        ({"words": "lunch"}, "words"),
        ({"words": ("ok", "")}, "words"),
        ({"n_words": 0}, "n_words"),
        ({"per_message": 0}, "per_message"),
        ({"source": 1, "target": 1}, "target"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], name: str, small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match=rf"^The '{name}' parameter of DictionaryAttack must be "):
        DictionaryAttack(n=1, **kwargs).apply(small_dataset, random_state=0)  # type: ignore[arg-type]
