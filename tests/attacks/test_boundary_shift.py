"""`BoundaryShift`: correctly labelled ham carrying the words future spam will use."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab import DataError, ParameterError
from poisonlab.attacks import BoundaryShift, LabelFlip
from poisonlab.attacks._surrogate import class_margin
from poisonlab.attacks.words import analyzer
from poisonlab.data import Dataset
from poisonlab.experiments.clean_label import check_clean_label
from poisonlab.experiments.evaluate import FitCache, evaluate_attack
from poisonlab.victims import make_victim

WORDS = ("free", "prize", "claim", "win")


def added_words(original: str, poisoned: str) -> list[str]:
    assert poisoned.startswith(original + " ")
    return poisoned[len(original) + 1 :].split(" ")


def test_fixed_words_per_row_keep_the_label(small_dataset: Dataset) -> None:
    out = BoundaryShift(words=WORDS, per_row=2, select="random", n=4).apply(small_dataset, random_state=0)
    assert np.array_equal(out.poisoned.labels, small_dataset.labels)
    assert (small_dataset.labels[out.poison_rows] == 0).all()
    for row in out.poison_rows:
        added = added_words(small_dataset.texts[row], out.poisoned.texts[row])
        assert len(added) == 2 == len(set(added)) and set(added) <= set(WORDS)
    assert out.trigger is None and (out.source_class, out.target_class) == (1, 0)


def test_inject_appends_changed_copies(small_dataset: Dataset) -> None:
    out = BoundaryShift(words=WORDS, per_row=4, select="random", mode="inject", n=3).apply(
        small_dataset, random_state=2
    )
    k = len(small_dataset)
    assert out.poisoned.texts[:k] == small_dataset.texts
    assert (out.source_row[k:] == -1).all() and (out.poisoned.labels[k:] == 0).all()
    for text in out.poisoned.texts[k:]:
        assert sorted(text.split(" ")[-4:]) == sorted(WORDS)


def test_default_words_mark_the_source_class_and_are_its_commonest(sms_split) -> None:
    train = sms_split[0]
    words = BoundaryShift(n_words=12, n=1).campaign_words(train)
    tokenize = analyzer()
    tokens = [set(tokenize(t)) for t in train.texts]
    spam_rows = [sum(w in t for t, y in zip(tokens, train.labels) if y == 1) for w in words]
    assert spam_rows == sorted(spam_rows, reverse=True), "ranked by spam messages holding them"
    vectorizer = make_victim("nb")[0].fit(train.texts)
    counts = vectorizer.transform(train.texts)
    per_class = np.vstack([np.asarray(counts[train.labels == c].sum(axis=0)).ravel() for c in (0, 1)])
    size = per_class.shape[1]
    for word in words:
        j = vectorizer.vocabulary_[word]
        ratio = ((per_class[1, j] + 1) / (per_class[1].sum() + size)) / (
            (per_class[0, j] + 1) / (per_class[0].sum() + size)
        )
        assert ratio >= 2, f"{word!r} is not a spam word"


def test_as_many_words_as_stay_ham_for_the_surrogate(sms_split) -> None:
    train = sms_split[0]
    words = BoundaryShift(n_words=30, n=1).campaign_words(train)
    out = BoundaryShift(n_words=30, n=60).apply(train, random_state=0)
    surrogate = make_victim("nb").fit(list(train.texts), train.labels)
    counts = []
    for row in out.poison_rows:
        added = added_words(train.texts[row], out.poisoned.texts[row])
        assert set(added) <= set(words) and len(set(added)) == len(added) >= 1
        counts.append(len(added))
        if len(added) < len(words):  # a row that stopped short of every word is still ham to it
            margin = class_margin(surrogate, [out.poisoned.texts[row]], 0)[0]
            assert margin > 0
    assert check_clean_label(out, "nb").share == 1.0
    assert max(counts) > 1, "confident rows carry several words"


def test_confident_selection_takes_the_surest_ham(sms_split) -> None:
    train = sms_split[0]
    out = BoundaryShift(n_words=5, per_row=1, n=40).apply(train, random_state=0)
    ham = np.flatnonzero(train.labels == 0)
    surrogate = make_victim("nb").fit(list(train.texts), train.labels)
    margin = class_margin(surrogate, [train.texts[i] for i in ham], 0)
    chosen = np.isin(ham, out.poison_rows)
    assert margin[chosen].min() >= margin[~chosen].max()


def test_weak_against_both_victims_at_a_ten_percent_budget(sms_split) -> None:
    """Every poison row passes the label check, spam leak rises, yet far less than a targeted
    label flip of the same size: a clean-label boundary shift is a weak attack on SMS."""
    train, test = sms_split
    for victim in ("nb", "logreg"):
        cache = FitCache()
        shift = evaluate_attack(BoundaryShift(rate=0.1, surrogate=victim), train, test, victim, cache=cache)
        flip = evaluate_attack(LabelFlip(rate=0.1), train, test, victim, cache=cache)
        assert check_clean_label(shift.poisoned, victim, model=shift.clean_model).share == 1.0
        assert shift.attacked.spam_leak > shift.clean.spam_leak
        assert (
            shift.attacked.spam_leak - shift.clean.spam_leak
            < (flip.attacked.spam_leak - flip.clean.spam_leak) / 5
        )


def test_no_word_marks_the_source_class() -> None:
    ds = Dataset(["same words here", "same words here", "same words here"], [0, 1, 0], ("ham", "spam"))
    with pytest.raises(ParameterError, match="No word marks the 'spam' messages"):
        BoundaryShift(n=1).apply(ds, random_state=0)


def test_a_surrogate_that_cannot_train_is_a_data_error() -> None:
    ds = Dataset(["a", "b", "c d"], [0, 0, 1], ("ham", "spam"))
    with pytest.raises(DataError, match="surrogate victim 'nb' cannot be trained"):
        BoundaryShift(words=("win",), n=1).apply(ds, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"words": ()}, "words"),
        ({"words": "free"}, "words"),
        ({"words": ("ok", " ")}, "words"),
        ({"n_words": 0}, "n_words"),
        ({"per_row": 0}, "per_row"),
        ({"select": "hardest"}, "select"),
        ({"surrogate": "gpt"}, "surrogate"),
        ({"mode": "both"}, "mode"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ParameterError, match=rf"^The '{name}' parameter of BoundaryShift must be "):
        BoundaryShift(n=1, **kwargs)  # type: ignore[arg-type]
