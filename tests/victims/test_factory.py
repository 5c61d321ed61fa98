"""Victim factories: named sklearn Pipelines, user Pipelines and callables."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from poisonlab import ParameterError
from poisonlab.victims import FEATURES, VICTIMS, as_factory, make_victim, victim_label

CLASSIFIERS = {"nb": MultinomialNB, "cnb": ComplementNB, "logreg": LogisticRegression, "svm": LinearSVC}
VECTORIZERS = {"count": CountVectorizer, "tfidf": TfidfVectorizer}


def test_registered_victims_and_features():
    assert VICTIMS.names() == ["cnb", "logreg", "nb", "svm"]
    assert FEATURES == ("count", "tfidf")


@pytest.mark.parametrize("features", FEATURES)
@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_make_victim_builds_a_pipeline_that_fits_and_predicts(small_dataset, name, features):
    pipe = make_victim(name, features=features, random_state=0)
    assert isinstance(pipe, Pipeline)
    assert [step for step, _ in pipe.steps] == ["vectorizer", "classifier"]
    assert type(pipe.named_steps["vectorizer"]) is VECTORIZERS[features]
    assert type(pipe.named_steps["classifier"]) is CLASSIFIERS[name]
    pipe.fit(list(small_dataset.texts), small_dataset.labels)
    pred = pipe.predict(list(small_dataset.texts))
    assert pred.shape == (len(small_dataset),)
    assert set(pred.tolist()) <= {0, 1}
    # a tiny separable set: every model learns most of its own training data
    assert np.mean(pred == small_dataset.labels) >= 0.8
    assert pipe.predict(["win cash prize now"]).tolist() == [1]


def test_default_victim_is_the_articles_model():
    pipe = make_victim()
    assert type(pipe.named_steps["classifier"]) is MultinomialNB
    assert type(pipe.named_steps["vectorizer"]) is CountVectorizer
    assert pipe.named_steps["classifier"].get_params() == MultinomialNB().get_params()


def test_random_state_reaches_classifiers_that_have_one():
    assert make_victim("logreg", random_state=5).named_steps["classifier"].random_state == 5
    assert make_victim("svm", random_state=9).named_steps["classifier"].random_state == 9


def test_make_victim_gives_fresh_unfitted_pipelines():
    a, b = make_victim("nb"), make_victim("nb")
    assert a is not b
    assert a.named_steps["classifier"] is not b.named_steps["classifier"]
    assert not hasattr(a.named_steps["classifier"], "classes_")


def test_unknown_victim_name():
    with pytest.raises(ParameterError, match=r"Unknown victim 'forest'\. Known: cnb, logreg, nb, svm\."):
        make_victim("forest")


def test_unknown_features():
    with pytest.raises(
        ParameterError,
        match=r"The 'features' parameter of make_victim must be one of 'count', 'tfidf'\. "
        r"Got 'bag' instead\.",
    ):
        make_victim("nb", features="bag")


def test_unknown_names_are_value_errors():
    with pytest.raises(ValueError):
        make_victim("forest")


# --- as_factory ---------------------------------------------------------------------------------


def test_as_factory_with_a_name(small_dataset):
    factory = as_factory("logreg", features="tfidf", random_state=3)
    first, second = factory(), factory()
    assert first is not second
    assert type(first.named_steps["vectorizer"]) is TfidfVectorizer
    assert first.named_steps["classifier"].random_state == 3
    first.fit(list(small_dataset.texts), small_dataset.labels)
    assert not hasattr(second.named_steps["classifier"], "coef_")


def test_as_factory_validates_names_up_front():
    with pytest.raises(ParameterError, match="Unknown victim 'forest'"):
        as_factory("forest")
    with pytest.raises(ParameterError, match="'features' parameter"):
        as_factory("nb", features="bag")


def test_as_factory_with_a_user_pipeline_returns_fresh_clones(small_dataset):
    template = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), RidgeClassifier(alpha=3.0))
    factory = as_factory(template)
    first, second = factory(), factory()
    assert first is not template
    assert first is not second
    assert first.get_params()["ridgeclassifier__alpha"] == 3.0
    assert first.get_params()["tfidfvectorizer__ngram_range"] == (1, 2)
    first.fit(list(small_dataset.texts), small_dataset.labels)
    assert not hasattr(template[-1], "coef_")  # the template is never fitted in place
    assert not hasattr(second[-1], "coef_")


def test_as_factory_clones_a_fitted_pipeline_unfitted(small_dataset):
    template = make_victim("nb").fit(list(small_dataset.texts), small_dataset.labels)
    fresh = as_factory(template)()
    assert not hasattr(fresh[-1], "classes_")
    assert hasattr(template[-1], "classes_")


def test_as_factory_with_a_callable():
    calls = []

    def build():
        calls.append(1)
        return make_pipeline(CountVectorizer(), ComplementNB())

    factory = as_factory(build)
    assert factory is build
    assert len(calls) == 0  # not called until needed
    assert type(factory()[-1]) is ComplementNB


def test_as_factory_with_an_estimator_class():
    factory = as_factory(MultinomialNB)
    model = factory()
    assert isinstance(model, MultinomialNB)
    assert factory() is not model


def test_as_factory_refuses_other_things():
    with pytest.raises(
        TypeError, match="A victim must be a name, an sklearn estimator or a factory, not int"
    ):
        as_factory(42)  # type: ignore[arg-type]


# --- victim_label -------------------------------------------------------------------------------


def my_victim():
    return make_victim("nb")


def test_victim_label():
    assert victim_label("svm") == "svm"
    assert victim_label(make_pipeline(TfidfVectorizer(), RidgeClassifier())) == "Pipeline"
    assert victim_label(clone(LinearSVC())) == "LinearSVC"
    assert victim_label(my_victim) == "my_victim"
    assert victim_label(MultinomialNB) == "MultinomialNB"
