"""`map_labels`: raw label strings to class indices and class names."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poisonlab import DataError
from poisonlab.data import map_labels
from poisonlab.data.labels import LEGITIMATE_VALUES, SPAM_VALUES


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["ham", "spam", "ham"], [0, 1, 0]),
        (["0", "1", "1"], [0, 1, 1]),
        (["0.0", "1.0"], [0, 1]),
        (["not spam", "spam"], [0, 1]),
        (["Not Spam", "SPAM", " spam "], [0, 1, 1]),
        (["false", "true"], [0, 1]),
        (["legit", "junk"], [0, 1]),
        (["no", "yes"], [0, 1]),
        (["ham", "1", "not_spam", "true"], [0, 1, 0, 1]),
    ],
)
def test_spam_words_map_to_ham_spam(values, expected):
    labels, classes = map_labels(values)
    assert classes == ("ham", "spam")
    assert labels.tolist() == expected


def test_spam_word_sets_do_not_overlap():
    assert not LEGITIMATE_VALUES & SPAM_VALUES


def test_two_other_names_are_sorted():
    labels, classes = map_labels(["promo", "inbox", "promo"])
    assert classes == ("inbox", "promo")
    assert labels.tolist() == [1, 0, 1]


def test_three_classes_sorted():
    labels, classes = map_labels(["pos", "neg", "neu", "neg"])
    assert classes == ("neg", "neu", "pos")
    assert labels.tolist() == [2, 0, 1, 0]


def test_other_names_are_case_insensitive_and_keep_the_first_spelling():
    labels, classes = map_labels(["Promo", "inbox", "PROMO", " promo "])
    assert classes == ("inbox", "Promo")
    assert labels.tolist() == [1, 0, 1, 1]


def test_given_classes_set_the_order():
    labels, classes = map_labels(["spam", "ham", "SPAM"], classes=["spam", "ham"])
    assert classes == ("spam", "ham")
    assert labels.tolist() == [0, 1, 0]


def test_given_classes_reject_other_values():
    with pytest.raises(DataError, match=r"Unknown label value 'eggs' in data row 2; expected one of: a, b\."):
        map_labels(["a", "eggs", "b"], classes=["a", "b"])


def test_misspelt_spam_word_is_an_unknown_label():
    with pytest.raises(DataError, match=r"Unknown label value 'spma' in data row 3"):
        map_labels(["ham", "spam", "spma", "ham"])


def test_first_misspelling_is_reported_with_its_row():
    with pytest.raises(DataError, match=r"'hamm' in data row 4"):
        map_labels(["ham", "spam", "ham", "hamm", "spma"])


@pytest.mark.parametrize("values", [["ham", "", "spam"], ["ham", "   ", "spam"]])
def test_blank_label_names_its_row(values):
    with pytest.raises(DataError, match="blank in data row 2"):
        map_labels(values)


@pytest.mark.parametrize("values", [["ham", "ham"], ["1", "true", "yes"], ["x", "X"], []])
def test_one_class_only_is_an_error(values):
    with pytest.raises(DataError, match="Only one class"):
        map_labels(values)


def test_one_class_only_with_given_classes():
    with pytest.raises(DataError, match=r"Only one class \('spam'\)"):
        map_labels(["spam", "spam"], classes=["ham", "spam"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "D", "d", " e", "ham", "spam", "0", "1"]), max_size=40))
def test_map_labels_returns_labels_in_range_and_classes_covering_them(values):
    try:
        labels, classes = map_labels(values)
    except DataError as error:
        message = str(error)
        distinct = {v.strip().casefold() for v in values}
        assert "Only one class" in message or "Unknown label value" in message
        if "Only one class" in message:
            assert len(distinct) <= 1 or distinct <= LEGITIMATE_VALUES or distinct <= SPAM_VALUES
        return
    assert len(labels) == len(values)
    assert len(classes) == len(set(classes)) >= 2
    assert labels.min() >= 0
    assert labels.max() < len(classes)
    assert set(labels.tolist()) == set(range(len(classes)))  # every class is used
    spam_words = LEGITIMATE_VALUES | SPAM_VALUES
    for value, label in zip(values, labels.tolist()):
        folded = value.strip().casefold()
        if folded in spam_words:
            assert classes == ("ham", "spam")
            assert label == int(folded in SPAM_VALUES)
        else:
            assert classes[label].casefold() == folded
