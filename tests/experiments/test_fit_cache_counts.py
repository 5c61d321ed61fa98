"""`FitCache` with token counts: poisoned training sets are not tokenized again, and the models
stay those of plain Pipeline fits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.experiments.evaluate import FitCache, evaluate_poisoned

CALLS: list[str] = []


def counting_analyzer(text: str) -> list[str]:
    """A module-level (picklable) analyzer that records every text it tokenizes."""
    CALLS.append(text)
    return text.lower().split()


@pytest.fixture(scope="module")
def parts(sms_split):
    train, test = sms_split
    train = train.take(np.arange(1200))
    return {
        "train": train,
        "test": test.take(np.arange(300)),
        "flipped": LabelFlip(strategy="targeted", rate=0.05).apply(train, random_state=0),
        "inserted": Backdoor(mode="insert", rate=0.02).apply(train, random_state=0),
        "injected": Backdoor(mode="inject", rate=0.02, trigger="zz trigger").apply(train, random_state=1),
    }


def test_each_distinct_text_is_tokenized_once(parts):
    CALLS.clear()
    cache = FitCache()
    victim = make_pipeline(CountVectorizer(analyzer=counting_analyzer), ComplementNB())
    for kind in ("flipped", "inserted", "injected"):
        evaluate_poisoned(parts[kind], parts["test"], victim, cache=cache)
    texts = set(parts["train"].texts) | set(parts["test"].texts)
    for kind in ("inserted", "injected"):
        texts |= set(parts[kind].poisoned.texts)
        trigger = parts[kind].trigger
        texts |= set(
            trigger.apply([parts["test"].texts[i] for i in np.flatnonzero(parts["test"].labels == 1)])
        )
    assert len(CALLS) == len(set(CALLS)) == len(texts)


@pytest.mark.parametrize(
    "pipeline",
    [
        make_pipeline(TfidfVectorizer(min_df=2, max_features=600), LogisticRegression(max_iter=500)),
        make_pipeline(
            CountVectorizer(binary=True, ngram_range=(1, 2), max_df=0.4), LinearSVC(random_state=0)
        ),
        make_pipeline(CountVectorizer(stop_words="english"), ComplementNB(alpha=0.5)),
    ],
    ids=["tfidf-logreg", "binary-bigrams-svm", "stopwords-cnb"],
)
def test_models_equal_plain_pipeline_fits(parts, pipeline):
    cache = FitCache()
    test = parts["test"]
    for kind in ("flipped", "inserted", "injected"):
        poisoned = parts[kind]
        result = evaluate_poisoned(poisoned, test, pipeline, cache=cache)
        for model, data in ((result.clean_model, poisoned.clean), (result.attacked_model, poisoned.poisoned)):
            plain = clone(pipeline).fit(list(data.texts), data.labels)
            assert model.steps[0][1].vocabulary_ == plain.steps[0][1].vocabulary_
            ours, theirs = model.steps[-1][1], plain.steps[-1][1]
            for name in ("coef_", "intercept_", "feature_log_prob_", "class_log_prior_"):
                if hasattr(theirs, name):
                    assert np.array_equal(getattr(ours, name), getattr(theirs, name)), (kind, name)
            assert np.array_equal(model.predict(list(test.texts)), plain.predict(list(test.texts)))
        assert np.array_equal(
            result.attacked_predictions,
            clone(pipeline)
            .fit(list(poisoned.poisoned.texts), poisoned.poisoned.labels)
            .predict(list(test.texts)),
        )
