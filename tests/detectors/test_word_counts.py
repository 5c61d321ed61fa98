"""`word_counts` equals scikit-learn's CountVectorizer on every text, duplicates and odd input included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer

from poisonlab.data import Dataset, load_dataset
from poisonlab.detectors.word_counts import count_words, word_counts


def assert_equal_to_sklearn(texts: list[str]) -> None:
    counted = count_words(texts)
    vectorizer = CountVectorizer()
    try:
        expected = vectorizer.fit_transform(texts)
    except ValueError:  # empty vocabulary
        assert counted.n_words == 0
        return
    assert list(counted.words) == list(vectorizer.get_feature_names_out())
    assert (counted.rows() != expected).nnz == 0
    for t, text in enumerate(counted.distinct_texts):
        ids = counted.token_ids[counted.token_indptr[t] : counted.token_indptr[t + 1]]
        assert [counted.words[i] for i in ids] == vectorizer.build_analyzer()(text)


def test_equals_count_vectorizer_on_sms() -> None:
    assert_equal_to_sklearn(list(load_dataset("sms_spam").texts))


@pytest.mark.parametrize(
    "texts",
    [
        ["a", "b c"],  # no word of two characters
        ["ΣΟΦΟΣ Σ", "ὈΔΥΣΣΕΎΣ", "straße STRASSE"],  # final sigma and case folding
        ["has\x00nul inside", "plain text", "plain text"],  # the separator inside a text
        ["", "", "hello hello"],
        ["x" * 5 + " " + "y" * 3],
    ],
)
def test_equals_count_vectorizer_on_odd_texts(texts: list[str]) -> None:
    assert_equal_to_sklearn(texts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab cΣσ\x00\n.é1_"), max_size=12), min_size=1, max_size=8))
def test_equals_count_vectorizer_on_any_text(texts: list[str]) -> None:
    assert_equal_to_sklearn(texts)


def test_rows_map_to_their_distinct_text_and_the_result_is_cached() -> None:
    ds = Dataset(["win now", "hi", "win now", "hi", "later"], [1, 0, 1, 0, 0], ("ham", "spam"))
    counted = word_counts(ds)
    assert counted.distinct_texts == ("win now", "hi", "later")
    assert counted.text_of_row.tolist() == [0, 1, 0, 1, 2]
    assert counted.multiplicity.tolist() == [2, 2, 1]
    assert word_counts(ds) is counted
    assert word_counts(ds.with_labels(np.zeros(5, dtype=np.int64))) is not counted


def test_forked_tokenizing_gives_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    import poisonlab.detectors.word_counts as module

    monkeypatch.setattr(module, "PARALLEL_FROM", 10)
    texts = [*load_dataset("sms_spam").texts[:3000], "has\x00nul", "", "only once"]
    alone, forked = count_words(texts), count_words(texts, workers=3)
    assert forked.words == alone.words and forked.distinct_texts == alone.distinct_texts
    assert (forked.matrix != alone.matrix).nnz == 0
    assert forked.token_ids.tolist() == alone.token_ids.tolist()
    assert forked.token_indptr.tolist() == alone.token_indptr.tolist()
