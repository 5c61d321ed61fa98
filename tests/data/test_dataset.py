"""The immutable `Dataset`: construction, validation, derived datasets and fingerprints."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poisonlab import DataError, ParameterError, PoisonlabError
from poisonlab.data import Dataset

CLASSES = ("ham", "spam")


@pytest.fixture
def ds():
    return Dataset(["hello", "WIN cash", "see you", "free pills"], [0, 1, 0, 1], CLASSES, name="toy")


# --- construction -------------------------------------------------------------------------------


def test_fields_are_normalised_to_tuples_and_int64(ds):
    assert ds.texts == ("hello", "WIN cash", "see you", "free pills")
    assert isinstance(ds.texts, tuple)
    assert ds.classes == CLASSES
    assert ds.labels.dtype == np.int64
    assert ds.labels.tolist() == [0, 1, 0, 1]
    assert ds.name == "toy"
    assert len(ds) == 4


def test_default_ids_are_row_positions(ds):
    assert ds.ids == ("0", "1", "2", "3")


def test_given_ids_are_kept():
    ds = Dataset(["a", "b"], [0, 1], CLASSES, ids=["x-1", "x-2"])
    assert ds.ids == ("x-1", "x-2")


def test_counts_in_class_order_including_absent_classes():
    ds = Dataset(["a", "b", "c"], [2, 2, 0], ("neg", "neu", "pos"))
    assert ds.counts() == {"neg": 1, "neu": 0, "pos": 2}
    assert list(ds.counts()) == ["neg", "neu", "pos"]


def test_repr_names_the_data_and_counts(ds):
    assert repr(ds) == "Dataset(toy: 4 rows, ham=2, spam=2)"
    assert "unnamed" in repr(Dataset(["a", "b"], [0, 1], CLASSES))


def test_empty_dataset_is_allowed():
    ds = Dataset([], [], CLASSES)
    assert len(ds) == 0
    assert ds.counts() == {"ham": 0, "spam": 0}
    assert ds.labels.dtype == np.int64


def test_whole_float_labels_are_accepted():
    assert Dataset(["a", "b"], np.array([0.0, 1.0]), CLASSES).labels.tolist() == [0, 1]


def test_bool_labels_are_accepted():
    assert Dataset(["a", "b"], np.array([False, True]), CLASSES).labels.tolist() == [0, 1]


# --- immutability -------------------------------------------------------------------------------


def test_labels_are_read_only(ds):
    assert not ds.labels.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        ds.labels[0] = 1


def test_attributes_cannot_be_reassigned(ds):
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.texts = ("x",)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.labels = np.array([1, 1, 1, 1])  # type: ignore[misc]


def test_input_lists_are_not_mutated_and_not_shared():
    texts, labels, ids = ["a", "b"], [0, 1], ["i", "j"]
    label_array = np.array([0, 1])
    ds = Dataset(texts, labels, CLASSES, ids)
    ds2 = Dataset(texts, label_array, CLASSES)
    texts.append("c")
    labels[0] = 1
    ids[0] = "changed"
    label_array[0] = 1
    assert ds.texts == ("a", "b")
    assert ds.labels.tolist() == [0, 1]
    assert ds.ids == ("i", "j")
    assert ds2.labels.tolist() == [0, 1]
    assert label_array.flags.writeable  # the caller's own array is left writable


def test_methods_return_new_objects_and_leave_the_original_untouched(ds):
    before = (ds.texts, ds.labels.copy(), ds.classes, ds.ids, ds.fingerprint())
    derived = [
        ds.take([3, 0]),
        ds.with_labels([1, 1, 1, 1]),
        ds.with_texts(["w", "x", "y", "z"]),
        ds.concat(ds),
    ]
    for other in derived:
        assert other is not ds
        assert other.labels is not ds.labels
    assert (ds.texts, ds.classes, ds.ids, ds.fingerprint()) == (before[0], before[2], before[3], before[4])
    assert ds.labels.tolist() == before[1].tolist()
    assert all(not d.labels.flags.writeable for d in derived)


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b", "c"], [0, 1], "got 3 texts and 2 labels"),
        (["a"], [0, 1], "got 1 texts and 2 labels"),
        (["a", "b"], [[0, 1]], "one label per text"),
    ],
)
def test_label_count_must_match_text_count(texts, labels, message):
    with pytest.raises(DataError, match=message):
        Dataset(texts, labels, CLASSES)


def test_id_count_must_match_text_count():
    with pytest.raises(DataError, match="got 2 texts and 1 ids"):
        Dataset(["a", "b"], [0, 1], CLASSES, ids=["only-one"])


@pytest.mark.parametrize("classes", [("spam",), (), ("ham", "ham"), ["a", "b", "a"]])
def test_classes_must_be_two_or_more_distinct_names(classes):
    with pytest.raises(DataError, match="at least two distinct class names"):
        Dataset(["a"], [0], classes)


@pytest.mark.parametrize("labels", [[0, 2], [-1, 0], [5, 5]])
def test_labels_must_be_class_indices(labels):
    with pytest.raises(DataError, match=r"class indices in \[0, 1\]"):
        Dataset(["a", "b"], labels, CLASSES)


@pytest.mark.parametrize("labels", [[0.9, 0.2], [0.5, 1.0], ["ham", "spam"], [None, 1], [float("nan"), 0.0]])
def test_non_integer_labels_are_refused_not_truncated(labels):
    with pytest.raises(DataError, match="integer class indices"):
        Dataset(["a", "b"], labels, CLASSES)


def test_errors_are_value_errors():
    assert issubclass(DataError, PoisonlabError)
    assert issubclass(DataError, ValueError)
    assert issubclass(ParameterError, ValueError)


# --- class_index --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "index"), [("ham", 0), ("spam", 1), (0, 0), (1, 1), (np.int64(1), 1)])
def test_class_index_by_name_or_index(ds, cls, index):
    result = ds.class_index(cls)
    assert result == index
    assert type(result) is int


@pytest.mark.parametrize("cls", ["eggs", "Spam", 2, -1, True, 1.0])
def test_class_index_unknown_class(ds, cls):
    with pytest.raises(ParameterError, match=r"Unknown class .*classes are: ham, spam\."):
        ds.class_index(cls)


# --- take / with_labels / with_texts / concat ---------------------------------------------------


def test_take_keeps_the_given_order_and_carries_ids(ds):
    sub = ds.take([2, 0, 2])
    assert sub.texts == ("see you", "hello", "see you")
    assert sub.labels.tolist() == [0, 0, 0]
    assert sub.ids == ("2", "0", "2")
    assert sub.classes == ds.classes
    assert sub.name == ds.name


def test_take_accepts_numpy_positions_and_empty(ds):
    assert ds.take(np.array([1, 3])).texts == ("WIN cash", "free pills")
    empty = ds.take([])
    assert len(empty) == 0
    assert empty.classes == CLASSES


def test_take_with_a_boolean_mask_selects_true_rows(ds):
    sub = ds.take(np.array([True, False, False, True]))
    assert sub.ids == ("0", "3")


def test_take_refuses_a_mask_of_the_wrong_length_or_float_positions(ds):
    with pytest.raises(ParameterError, match="mask needs 4 values"):
        ds.take(np.array([True, False]))
    with pytest.raises(ParameterError, match="must be integers"):
        ds.take(np.array([0.0, 1.5]))


def test_take_out_of_range_fails(ds):
    with pytest.raises(IndexError):
        ds.take([4])


def test_with_labels_changes_only_labels(ds):
    flipped = ds.with_labels([1, 0, 1, 0])
    assert flipped.labels.tolist() == [1, 0, 1, 0]
    assert (flipped.texts, flipped.classes, flipped.ids, flipped.name) == (
        ds.texts,
        ds.classes,
        ds.ids,
        ds.name,
    )


def test_with_labels_is_validated(ds):
    with pytest.raises(DataError, match="one label per text"):
        ds.with_labels([0, 1])
    with pytest.raises(DataError, match="class indices"):
        ds.with_labels([0, 1, 2, 0])


def test_with_texts_changes_only_texts(ds):
    new = ds.with_texts(["w", "x", "y", "z"])
    assert new.texts == ("w", "x", "y", "z")
    assert new.labels.tolist() == ds.labels.tolist()
    assert new.ids == ds.ids
    with pytest.raises(DataError, match="one label per text"):
        ds.with_texts(["too", "few"])


def test_concat_appends_rows(ds):
    other = Dataset(["extra"], [1], CLASSES, ids=["e-0"], name="other")
    joined = ds.concat(other)
    assert joined.texts == (*ds.texts, "extra")
    assert joined.labels.tolist() == [0, 1, 0, 1, 1]
    assert joined.ids == (*ds.ids, "e-0")
    assert joined.name == "toy"


def test_concat_needs_the_same_classes(ds):
    other = Dataset(["x", "y"], [0, 1], ("not spam", "spam"))
    with pytest.raises(DataError, match="Cannot join datasets"):
        ds.concat(other)
    reordered = Dataset(["x", "y"], [0, 1], ("spam", "ham"))
    with pytest.raises(DataError, match="Cannot join datasets"):
        ds.concat(reordered)


# --- fingerprint --------------------------------------------------------------------------------


def test_fingerprint_is_a_sha256_hex_digest(ds):
    fp = ds.fingerprint()
    assert len(fp) == 64
    int(fp, 16)


def test_fingerprint_equal_for_equal_data_regardless_of_ids_and_name(ds):
    same = Dataset(list(ds.texts), ds.labels.tolist(), ds.classes, ids=["a", "b", "c", "d"], name="x")
    assert same.fingerprint() == ds.fingerprint()
    assert ds.take(range(len(ds))).fingerprint() == ds.fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.with_labels([1, 1, 0, 1]),
        lambda d: d.with_texts(["hello!", *d.texts[1:]]),
        lambda d: d.take([1, 0, 2, 3]),
        lambda d: d.take([0, 1, 2]),
        lambda d: Dataset(d.texts, d.labels, ("legit", "spam")),
        lambda d: Dataset(d.texts, d.labels, ("ham", "spam", "other")),
    ],
)
def test_fingerprint_differs_when_texts_labels_order_or_classes_differ(ds, change):
    assert change(ds).fingerprint() != ds.fingerprint()


def test_fingerprint_cannot_be_forged_with_separator_characters():
    # Without length prefixes these two datasets would hash the same byte stream.
    one_row = Dataset(["a\x1e1\x1fb"], [0], CLASSES)
    two_rows = Dataset(["a", "b"], [0, 1], CLASSES)
    assert one_row.fingerprint() != two_rows.fingerprint()
    joined_classes = Dataset(["x"], [0], ("a\x1fb", "c"))
    split_classes = Dataset(["x"], [0], ("a", "b\x1fc"))
    assert joined_classes.fingerprint() != split_classes.fingerprint()


def test_fingerprint_handles_lone_surrogates():
    ds = Dataset(["bad \udcff byte", "ok"], [0, 1], CLASSES)
    assert ds.fingerprint() != ds.with_texts(["bad  byte", "ok"]).fingerprint()


# --- properties ---------------------------------------------------------------------------------

rows = st.lists(st.tuples(st.text(max_size=8), st.integers(0, 2)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=rows, seed=st.integers(0, 2**32 - 1))
def test_take_of_a_permutation_preserves_counts_and_multisets(rows, seed):
    ds = Dataset([t for t, _ in rows], [y for _, y in rows], ("a", "b", "c"))
    order = np.random.default_rng(seed).permutation(len(ds))
    shuffled = ds.take(order)
    assert shuffled.counts() == ds.counts()
    assert sorted(zip(shuffled.ids, shuffled.texts)) == sorted(zip(ds.ids, ds.texts))
    restored = shuffled.take(np.argsort(order))
    assert restored.texts == ds.texts
    assert restored.ids == ds.ids
    assert restored.fingerprint() == ds.fingerprint()


@settings(max_examples=60, deadline=None)
@given(a=rows, b=rows)
def test_concat_counts_add_up(a, b):
    classes = ("a", "b", "c")
    da = Dataset([t for t, _ in a], [y for _, y in a], classes)
    db = Dataset([t for t, _ in b], [y for _, y in b], classes)
    joined = da.concat(db)
    assert len(joined) == len(da) + len(db)
    assert joined.counts() == {c: da.counts()[c] + db.counts()[c] for c in classes}
    assert joined.take(range(len(da))).fingerprint() == da.fingerprint()
