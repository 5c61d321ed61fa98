"""`TokenCounts`: refits rebuilt from token counts equal scikit-learn's, to the bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer

from poisonlab import DataError, ParameterError
from poisonlab.victims.token_counts import TokenCounts, is_supported

SETTINGS: list[dict[str, Any]] = [
    {},
    {"binary": True},
    {"min_df": 2},
    {"max_df": 0.5, "min_df": 0.002},
    {"max_df": 3},
    {"max_features": 400},
    {"max_features": 250, "binary": True, "min_df": 2},
    {"ngram_range": (1, 2), "min_df": 2},
    {"analyzer": "char_wb", "ngram_range": (2, 3), "max_features": 900},
    {"stop_words": "english", "lowercase": False},
    {"vocabulary": ["free", "call", "now", "txt", "zzzunseen"]},
    {"dtype": np.float32},
]


def same_matrix(got: Any, want: Any) -> None:
    """Equal sparse matrices: container type, shape, dtypes and every stored array."""
    assert type(got) is type(want)
    assert got.shape == want.shape
    for name in ("indptr", "indices", "data"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name


@pytest.fixture(scope="module")
def texts(sms_split) -> dict[str, list[str]]:
    train, test = sms_split
    base = list(train.texts[:1200])
    return {
        "base": base,
        "flipped": base,  # a label flip: the same texts
        "injected": base[:1000] + ["PROMO2026 " + t for t in base[1000:1040]] + ["PROMO2026 win now"] * 3,
        "removed": base[300:],
        "edited": [t + " zzedit" if i % 50 == 0 else t for i, t in enumerate(base)],
        "test": list(test.texts[:300]),
    }


@pytest.mark.parametrize("cls", [CountVectorizer, TfidfVectorizer])
@pytest.mark.parametrize("options", SETTINGS, ids=[str(s) for s in SETTINGS])
def test_refits_equal_scikit_learn(texts, cls, options):
    vectorizer = cls(**options)
    counts = TokenCounts(vectorizer)
    for kind in ("base", "injected", "removed", "edited"):
        data = texts[kind]
        reference = clone(vectorizer)
        want = reference.fit_transform(data)
        features = counts.fit(data)
        got = features.vectorizer
        assert got.vocabulary_ == reference.vocabulary_, kind
        assert list(got.vocabulary_) == list(reference.vocabulary_), f"{kind}: key order"
        assert [type(v) for v in got.vocabulary_.values()] == [
            type(v) for v in reference.vocabulary_.values()
        ]
        assert got.fixed_vocabulary_ == reference.fixed_vocabulary_
        same_matrix(features.matrix, want)
        if cls is TfidfVectorizer:
            assert np.array_equal(got.idf_, reference.idf_)
        for fitted in (got, reference):  # ours and scikit-learn's fitted vectorizer alike
            same_matrix(counts.transform(fitted, texts["test"]), reference.transform(texts["test"]))
        same_matrix(got.transform(texts["test"]), reference.transform(texts["test"]))
        names = reference.get_feature_names_out()
        assert [names[c] for c in range(names.size)] == [counts.tokens[t] for t in features.tokens]


def test_each_distinct_text_is_tokenized_once(texts):
    calls: list[str] = []

    def analyzer(text: str) -> list[str]:
        calls.append(text)
        return text.lower().split()

    counts = TokenCounts(CountVectorizer(analyzer=analyzer))
    counts.fit(texts["base"])
    first = len(calls)
    assert first == len(set(texts["base"]))
    counts.fit(texts["injected"])
    counts.fit(texts["removed"])
    assert len(calls) - first == len(set(texts["injected"]) - set(texts["base"]))
    counts.transform(counts.fit(texts["base"]).vectorizer, texts["base"][:10])
    assert counts.n_texts == len(set(calls)) == len(calls)


@settings(max_examples=40, deadline=None)
@given(
    docs=st.lists(
        st.lists(st.sampled_from(["aa", "bb", "cc", "dd", "ee", "ff", "gg", "Hh", "ii"]), max_size=6).map(
            " ".join
        ),
        min_size=1,
        max_size=25,
    ),
    options=st.sampled_from(SETTINGS[:7]),
    tfidf=st.booleans(),
)
def test_any_corpus_matches(docs, options, tfidf):
    vectorizer = (TfidfVectorizer if tfidf else CountVectorizer)(**options)
    reference = clone(vectorizer)
    try:
        want = reference.fit_transform(docs)
    except ValueError as error:  # empty vocabulary, or pruning left no terms: ours refuses too
        with pytest.raises(ValueError):
            TokenCounts(vectorizer).fit(docs)
        assert "vocabulary" in str(error) or "terms remain" in str(error) or "max_df" in str(error)
        return
    features = TokenCounts(vectorizer).fit(docs)
    assert features.vectorizer.vocabulary_ == reference.vocabulary_
    same_matrix(features.matrix, want)


def test_statistics_select_the_same_features(texts):
    for options in SETTINGS[:8]:
        counts = TokenCounts(CountVectorizer(**options))
        data = texts["injected"]
        encoded = counts.encode(data)
        values = np.ones_like(encoded.counts) if counts.is_binary else encoded.counts
        df = np.bincount(encoded.tokens, minlength=counts.n_tokens)
        tf = np.bincount(encoded.tokens, weights=values, minlength=counts.n_tokens).astype(np.int64)
        selected = counts.select_features(df, tf, len(data))
        assert np.array_equal(selected, counts.fit(data).tokens), options


def test_unsupported_vectorizers_are_refused():
    class Custom(CountVectorizer):
        pass

    for vectorizer in (HashingVectorizer(), Custom(), CountVectorizer(input="filename")):
        assert not is_supported(vectorizer)
        with pytest.raises(ParameterError, match="CountVectorizer and TfidfVectorizer"):
            TokenCounts(vectorizer)


def test_bad_settings_fail_as_a_fit_would():
    with pytest.raises(ValueError):
        TokenCounts(CountVectorizer(ngram_range=(2, 1)))
    with pytest.raises(ValueError):
        TokenCounts(CountVectorizer(min_df=-1))
    with pytest.raises(ParameterError, match="max_df"):
        TokenCounts(CountVectorizer(min_df=5, max_df=2)).fit(["aa bb", "aa cc"])


def test_empty_vocabularies_are_data_errors():
    with pytest.raises(DataError, match="empty vocabulary"):
        TokenCounts(CountVectorizer()).fit(["a", "!", ""])
    with pytest.raises(DataError, match="no terms remain"):
        TokenCounts(CountVectorizer(min_df=2)).fit(["aa bb", "cc dd", "ee"])
    with pytest.raises(DataError, match="strings"):
        TokenCounts(CountVectorizer()).encode([["not", "hashable"]])  # type: ignore[list-item]
