"""The shared train/test split: deterministic, stratified, duplicate-aware; and `load_train_test`."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from poisonlab import DataError, ParameterError
from poisonlab.data import (
    DEFAULT_SPLIT_SEED,
    DEFAULT_TEST_SIZE,
    Dataset,
    article_test,
    article_train,
    load_train_test,
    sms_spam,
    split_train_test,
)

CLASSES = ("ham", "spam")


@pytest.fixture(scope="module")
def sms():
    return sms_spam()


def test_defaults():
    assert DEFAULT_SPLIT_SEED == 2026
    assert DEFAULT_TEST_SIZE == 0.2


# --- the SMS corpus -----------------------------------------------------------------------------


def test_sms_split_partitions_the_corpus(sms, sms_split):
    train, test = sms_split
    assert len(train) + len(test) == len(sms) == 5574
    assert not set(train.ids) & set(test.ids)
    assert set(train.ids) | set(test.ids) == set(sms.ids)
    assert train.classes == test.classes == sms.classes


def test_sms_split_is_about_a_fifth(sms_split):
    train, test = sms_split
    assert 0.19 <= len(test) / (len(train) + len(test)) <= 0.21


def test_sms_split_is_stratified(sms, sms_split):
    train, test = sms_split
    whole = sms.counts()["spam"] / len(sms)
    for side in (train, test):
        assert abs(side.counts()["spam"] / len(side) - whole) < 0.01


def test_sms_split_never_has_a_message_on_both_sides(sms, sms_split):
    assert len(sms.texts) - len(set(sms.texts)) == 403  # the corpus does repeat itself
    train, test = sms_split
    assert not set(train.texts) & set(test.texts)


def test_sms_split_keeps_file_order_on_each_side(sms_split):
    for side in sms_split:
        numbers = [int(i) for i in side.ids]
        assert numbers == sorted(numbers)


def test_sms_split_rows_are_unchanged(sms, sms_split):
    by_id = {i: (t, y) for i, t, y in zip(sms.ids, sms.texts, sms.labels.tolist())}
    for side in sms_split:
        for i, t, y in zip(side.ids, side.texts, side.labels.tolist()):
            assert by_id[i] == (t, y)


def test_load_train_test_uses_the_default_seed(sms, sms_split):
    train, test = split_train_test(sms, split_seed=DEFAULT_SPLIT_SEED, test_size=DEFAULT_TEST_SIZE)
    assert train.ids == sms_split[0].ids
    assert test.ids == sms_split[1].ids


def test_same_seed_gives_identical_ids(sms):
    first = split_train_test(sms, split_seed=7)
    second = split_train_test(sms, split_seed=7)
    assert first[0].ids == second[0].ids
    assert first[1].ids == second[1].ids
    assert first[1].fingerprint() == second[1].fingerprint()


def test_different_seeds_differ(sms):
    ids = {seed: split_train_test(sms, split_seed=seed)[1].ids for seed in (1, 2, 3)}
    assert len(set(ids.values())) == 3
    overlap = len(set(ids[1]) & set(ids[2])) / len(ids[1])
    assert overlap < 0.5  # independent 20 % samples share about a fifth


def test_load_train_test_split_seed_is_used(sms_split):
    _, test = load_train_test("sms_spam", split_seed=7)
    assert test.ids != sms_split[1].ids
    assert test.ids == split_train_test(sms_spam(), split_seed=7)[1].ids


def test_test_size_is_respected(sms):
    _, test = split_train_test(sms, test_size=0.5)
    assert 0.49 <= len(test) / len(sms) <= 0.51
    _, test = split_train_test(sms, test_size=0.05)
    assert 0.045 <= len(test) / len(sms) <= 0.055


def test_input_is_not_changed(sms):
    before = sms.fingerprint()
    split_train_test(sms)
    assert sms.fingerprint() == before


# --- the article --------------------------------------------------------------------------------


def test_article_keeps_its_own_split():
    train, test = load_train_test("article")
    assert (len(train), len(test)) == (10, 4)
    assert train.fingerprint() == article_train().fingerprint()
    assert test.fingerprint() == article_test().fingerprint()
    assert train.ids == article_train().ids


def test_article_split_ignores_seed_and_size():
    train, test = load_train_test("article", split_seed=1, test_size=0.5)
    assert (len(train), len(test)) == (10, 4)


# --- small datasets and errors ------------------------------------------------------------------


def test_every_class_reaches_both_sides(small_dataset):
    train, test = split_train_test(small_dataset, test_size=0.2)
    for side in (train, test):
        assert all(n > 0 for n in side.counts().values())
    assert not set(train.texts) & set(test.texts)
    assert len(train) + len(test) == len(small_dataset)


def test_duplicates_go_together(small_dataset):
    for seed in range(20):
        train, test = split_train_test(small_dataset, split_seed=seed)
        lunch = [side for side in (train, test) if "see you at lunch" in side.texts]
        assert len(lunch) == 1
        assert lunch[0].texts.count("see you at lunch") == 2


def test_a_class_missing_from_the_data_is_fine():
    ds = Dataset(["a", "b", "c", "d"], [0, 0, 2, 2], ("x", "y", "z"))
    train, test = split_train_test(ds, test_size=0.5)
    assert train.counts() == {"x": 1, "y": 0, "z": 1}
    assert test.counts() == {"x": 1, "y": 0, "z": 1}


@pytest.mark.parametrize("test_size", [0, 0.0, 1, 1.0, -0.2, 1.5, float("nan"), True, "0.2", None])
def test_test_size_outside_the_open_unit_interval(small_dataset, test_size):
    with pytest.raises(
        ParameterError, match=r"The 'test_size' parameter of split_train_test must be a float in \(0, 1\)"
    ):
        split_train_test(small_dataset, test_size=test_size)


def test_load_train_test_checks_test_size():
    with pytest.raises(ParameterError, match="test_size"):
        load_train_test("sms_spam", test_size=1.0)


def test_a_class_with_one_distinct_message():
    ds = Dataset(["WIN", "WIN", "WIN", "hi", "yo", "hey"], [1, 1, 1, 0, 0, 0], CLASSES)
    with pytest.raises(DataError, match=r"Class 'spam' has only one distinct message"):
        split_train_test(ds)


def test_a_class_with_one_row():
    ds = Dataset(["WIN", "hi", "yo", "hey"], [1, 0, 0, 0], CLASSES)
    with pytest.raises(DataError, match="only one distinct message"):
        split_train_test(ds)


# --- a separate test file -----------------------------------------------------------------------


def write(folder, name, content):
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def test_separate_test_file_remaps_classes(tmp_path):
    train_file = write(tmp_path, "train.csv", "text,label\na1,a\nb1,b\nc1,c\na2,a\n")
    test_file = write(tmp_path, "test.csv", "text,label\nc9,c\na9,a\nc8,c\n")
    train, test = load_train_test(train_file, test=test_file)
    assert train.classes == test.classes == ("a", "b", "c")
    assert len(train) == 4  # the whole training file, not split
    assert test.texts == ("c9", "a9", "c8")
    assert test.labels.tolist() == [2, 0, 2]
    assert [test.classes[y] for y in test.labels] == ["c", "a", "c"]
    assert test.ids == ("1", "2", "3")


def test_separate_test_file_with_other_spam_words(tmp_path):
    train_file = write(tmp_path, "train.csv", "text,label\nhi,ham\nWIN,spam\n")
    test_file = write(tmp_path, "test.jsonl", '{"text": "x", "label": 1}\n{"text": "y", "label": 0}\n')
    _, test = load_train_test(train_file, test=test_file)
    assert test.classes == ("ham", "spam")
    assert test.labels.tolist() == [1, 0]


def test_separate_test_file_with_an_unknown_class(tmp_path):
    train_file = write(tmp_path, "train.csv", "text,label\na1,a\nb1,b\n")
    test_file = write(tmp_path, "test.csv", "text,label\na9,a\nd9,d\n")
    with pytest.raises(DataError, match=r"Unknown label value .d. in data row 2; expected one of: a, b"):
        load_train_test(train_file, test=test_file)


def test_load_train_test_splits_a_file(tmp_path):
    rows = "".join(f"msg number {i},{'spam' if i % 4 == 0 else 'ham'}\n" for i in range(100))
    path = write(tmp_path, "mail.csv", "text,label\n" + rows)
    train, test = load_train_test(path, split_seed=3)
    assert len(train) + len(test) == 100
    assert len(test) == 20
    assert test.counts() == {"ham": 15, "spam": 5}
    again = load_train_test(path, split_seed=3)
    assert again[1].ids == test.ids


# --- properties ---------------------------------------------------------------------------------


def _dataset(rows):
    return Dataset([t for t, _ in rows], [y for _, y in rows], CLASSES)


any_rows = st.lists(st.tuples(st.sampled_from("abcdefghij"), st.integers(0, 1)), min_size=0, max_size=40)
sizes = st.floats(min_value=0.05, max_value=0.95)
seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=150, deadline=None)
@given(rows=any_rows, test_size=sizes, seed=seeds)
def test_split_always_partitions_and_never_shares_a_text(rows, test_size, seed):
    ds = _dataset(rows)
    try:
        train, test = split_train_test(ds, test_size=test_size, split_seed=seed)
    except DataError as error:
        assert "only one distinct message" in str(error)
        return
    ids = train.ids + test.ids
    assert sorted(ids, key=int) == list(ds.ids)  # every id exactly once
    assert len(set(ids)) == len(ds)
    assert not set(train.texts) & set(test.texts)
    assert Counter(zip(train.texts, train.labels.tolist())) + Counter(
        zip(test.texts, test.labels.tolist())
    ) == Counter(zip(ds.texts, ds.labels.tolist()))
    for side in (train, test):  # original order kept
        assert [int(i) for i in side.ids] == sorted(int(i) for i in side.ids)
    again = split_train_test(ds, test_size=test_size, split_seed=seed)
    assert again[0].ids == train.ids
    assert again[1].ids == test.ids


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(1, 5), min_size=2, max_size=12),
    spam_groups=st.integers(2, 6),
    test_size=sizes,
    seed=seeds,
)
def test_split_takes_the_smallest_share_of_groups_reaching_test_size(counts, spam_groups, test_size, seed):
    # Each distinct text has one label; the first `spam_groups` texts are spam.
    assume(len(counts) - spam_groups >= 2)
    texts, labels = [], []
    for g, n in enumerate(counts):
        texts += [f"text {g}"] * n
        labels += [int(g < spam_groups)] * n
    order = np.random.default_rng(seed).permutation(len(texts))
    ds = Dataset([texts[i] for i in order], [labels[i] for i in order], CLASSES)
    train, test = split_train_test(ds, test_size=test_size, split_seed=seed)
    for label in (0, 1):
        total = int(np.sum(ds.labels == label))
        wanted = test_size * total
        test_groups = Counter(t for t, y in zip(test.texts, test.labels.tolist()) if y == label)
        train_groups = Counter(t for t, y in zip(train.texts, train.labels.tolist()) if y == label)
        assert test_groups and train_groups  # both sides get the class
        in_test = sum(test_groups.values())
        if len(train_groups) >= 2:  # not capped to leave one group for training
            assert in_test >= wanted - 1e-9
        assert in_test - max(test_groups.values()) < wanted  # no group more than needed


def test_separate_test_file_may_hold_one_class(tmp_path):
    train_file = write(tmp_path, "train.csv", "text,label\nhi,ham\nWIN,spam\n")
    test_file = write(tmp_path, "test.csv", "text,label\nFREE cash,1\nWIN big,spam\n")
    _, test = load_train_test(train_file, test=test_file)
    assert test.classes == ("ham", "spam")
    assert test.labels.tolist() == [1, 1]
