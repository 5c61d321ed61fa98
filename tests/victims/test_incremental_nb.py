"""`NaiveBayesCounts`: after any flips, injections, removals and edits, equal to a refit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline

from poisonlab import DataError, ParameterError
from poisonlab.victims import make_victim
from poisonlab.victims.incremental_nb import NaiveBayesCounts, is_naive_bayes

PIPELINES = {
    "nb": make_victim("nb"),
    "cnb": make_victim("cnb"),
    "nb-tfidf": make_victim("nb", features="tfidf"),
    "cnb-binary-min_df": make_pipeline(CountVectorizer(binary=True, min_df=2), ComplementNB()),
    "nb-alpha-max_features": make_pipeline(CountVectorizer(max_features=700), MultinomialNB(alpha=0.1)),
    "cnb-norm-max_df": make_pipeline(
        CountVectorizer(max_df=0.3, min_df=0.001), ComplementNB(norm=True, alpha=0.3)
    ),
    "nb-no-prior": make_pipeline(CountVectorizer(), MultinomialNB(fit_prior=False)),
    "nb-class-prior": make_pipeline(CountVectorizer(), MultinomialNB(class_prior=[0.3, 0.7])),
}
LEARNED = ("feature_count_", "class_count_", "feature_log_prob_", "class_log_prior_", "classes_")


def assert_equals_refit(
    nb: NaiveBayesCounts, template: Pipeline, texts: list[str], labels, test: list[str]
) -> None:
    """Every learned array, the vocabulary, predictions and log-probabilities: bit for bit."""
    refit = clone(template).fit(texts, labels)
    classifier = refit[-1]
    for name in LEARNED:
        got, want = getattr(nb, name), getattr(classifier, name)
        assert got.shape == want.shape and np.array_equal(got, want), name
    assert nb.vectorizer().vocabulary_ == refit[0].vocabulary_
    assert np.array_equal(nb.predict(test), refit.predict(test))
    assert np.array_equal(nb.predict_log_proba(test), refit.predict_log_proba(test))
    pipeline = nb.pipeline()
    assert [name for name, _ in pipeline.steps] == [name for name, _ in refit.steps]
    assert np.array_equal(pipeline.predict_log_proba(test), refit.predict_log_proba(test))
    if isinstance(classifier, ComplementNB):
        assert np.array_equal(nb.classifier().feature_all_, classifier.feature_all_)


@pytest.mark.parametrize("name", list(PIPELINES))
def test_every_change_equals_a_refit(sms_split, name):
    train, test = sms_split
    template = PIPELINES[name]
    rng = np.random.default_rng(0)
    texts, labels = list(train.texts[:1200]), train.labels[:1200].copy()
    held_out = list(test.texts[:200])
    nb = NaiveBayesCounts(template, texts, labels)
    assert_equals_refit(nb, template, texts, labels, held_out)

    rows = rng.choice(len(texts), 150, replace=False)  # label flips
    labels[rows] = 1 - labels[rows]
    nb.set_labels(rows, labels[rows])
    assert_equals_refit(nb, template, texts, labels, held_out)

    injected = ["PROMO2026 " + t for t in train.texts[1200:1230]]  # injections, with a new word
    texts += injected
    labels = np.concatenate([labels, np.zeros(30, dtype=np.int64)])
    nb.add(injected, np.zeros(30, dtype=np.int64))
    assert_equals_refit(nb, template, texts, labels, held_out)

    removed = rng.choice(len(texts), 100, replace=False)  # removals
    keep = np.ones(len(texts), dtype=bool)
    keep[removed] = False
    texts, labels = [t for t, k in zip(texts, keep) if k], labels[keep]
    nb.remove(removed)
    assert_equals_refit(nb, template, texts, labels, held_out)

    edited = rng.choice(len(texts), 20, replace=False)  # texts edited in place
    new_texts = [texts[i] + " zzedit" for i in edited]
    for i, text in zip(edited, new_texts):
        texts[i] = text
    nb.replace_texts(edited, new_texts)
    assert_equals_refit(nb, template, texts, labels, held_out)
    assert nb.texts == tuple(texts) and np.array_equal(nb.labels, labels)


def test_a_class_emptied_by_flips_disappears_as_in_a_refit(sms_split):
    train, test = sms_split
    template = PIPELINES["nb"]
    texts, labels = list(train.texts[:300]), train.labels[:300].copy()
    nb = NaiveBayesCounts(template, texts, labels)
    spam = np.flatnonzero(labels == 1)
    labels[spam] = 0
    nb.set_labels(spam, 0)
    assert nb.classes_.tolist() == [0]
    assert_equals_refit(nb, template, texts, labels, list(test.texts[:50]))


@settings(max_examples=25, deadline=None)
@given(
    operations=st.lists(
        st.tuples(st.sampled_from(["flip", "add", "remove", "edit"]), st.integers(0, 10**6)),
        min_size=1,
        max_size=8,
    ),
    kind=st.sampled_from(["nb", "cnb", "cnb-binary-min_df"]),
)
def test_random_sequences_of_changes(operations, kind):
    words = ["win", "cash", "now", "free", "see", "you", "at", "lunch", "call", "me", "prize", "ok"]
    rng = np.random.default_rng(len(operations))
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 6))) for _ in range(40)]
    labels = rng.integers(0, 3, size=40)
    template = PIPELINES[kind]
    nb = NaiveBayesCounts(template, texts, labels)
    for operation, seed in operations:
        pick = np.random.default_rng(seed)
        if operation == "flip":
            rows = pick.choice(len(texts), size=min(5, len(texts)), replace=False)
            new = pick.integers(0, 3, size=rows.size)
            labels[rows] = new
            nb.set_labels(rows, new)
        elif operation == "add":
            new_texts = [" ".join(pick.choice([*words, "zz1", "zz2"], size=3)) for _ in range(3)]
            new_labels = pick.integers(0, 3, size=3)
            texts += new_texts
            labels = np.concatenate([labels, new_labels])
            nb.add(new_texts, new_labels)
        elif operation == "remove" and len(texts) > 10:
            rows = pick.choice(len(texts), size=3, replace=False)
            keep = np.ones(len(texts), dtype=bool)
            keep[rows] = False
            texts, labels = [t for t, k in zip(texts, keep) if k], labels[keep]
            nb.remove(rows)
        elif operation == "edit":
            rows = pick.choice(len(texts), size=2, replace=False)
            new_texts = [texts[i] + " zz3" for i in rows]
            for i, text in zip(rows, new_texts):
                texts[i] = text
            nb.replace_texts(rows, new_texts)
    try:
        clone(template).fit(texts, labels)
    except ValueError:  # min_df can leave no terms: ours refuses too
        with pytest.raises(ValueError):
            nb.feature_count_  # noqa: B018
        return
    assert_equals_refit(nb, template, texts, labels, ["win cash now", "see you", "zz1 prize", "unknown"])


def test_copies_are_independent(small_dataset):
    nb = NaiveBayesCounts(make_victim("nb"), small_dataset.texts, small_dataset.labels)
    other = nb.copy()
    other.set_labels([0, 1], [0, 0])
    other.add(["zz new text"], [1])
    assert not np.array_equal(nb.feature_count_, other.feature_count_)
    assert_equals_refit(nb, make_victim("nb"), list(small_dataset.texts), small_dataset.labels, ["win cash"])


def test_only_naive_bayes_pipelines_are_accepted(small_dataset):
    texts, labels = small_dataset.texts, small_dataset.labels
    assert is_naive_bayes(make_victim("cnb")) and not is_naive_bayes(MultinomialNB())
    with pytest.raises(ParameterError, match="MultinomialNB or ComplementNB"):
        NaiveBayesCounts(make_pipeline(TfidfVectorizer(), LogisticRegression()), texts, labels)
    with pytest.raises(ParameterError, match="single smoothing"):
        NaiveBayesCounts(make_pipeline(CountVectorizer(), MultinomialNB(alpha=np.ones(3))), texts, labels)
    with pytest.raises(DataError, match="one label per text"):
        NaiveBayesCounts(make_victim("nb"), texts, labels[:3])
    nb = NaiveBayesCounts(make_victim("nb"), texts, labels)
    with pytest.raises(DataError, match="class indices"):
        nb.set_labels([0], [-1])
    with pytest.raises(ParameterError, match="at most once"):
        nb.set_labels([0, 0], [0, 0])
