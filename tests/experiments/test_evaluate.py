"""`FitCache`, `evaluate_attack` and `evaluate_poisoned`, checked against plain scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.validation import check_is_fitted

from poisonlab import PoisonlabError
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset
from poisonlab.experiments.evaluate import FitCache, evaluate_attack, evaluate_poisoned
from poisonlab.victims import make_victim

VICTIMS = ("nb", "logreg", "svm")
LEARNED = {  # the fitted parameters that decide each classifier's predictions
    "nb": ("feature_log_prob_", "class_log_prior_", "feature_count_", "class_count_"),
    "logreg": ("coef_", "intercept_", "classes_"),
    "svm": ("coef_", "intercept_", "classes_"),
}


@pytest.fixture(scope="module")
def data(sms_split: tuple[Dataset, Dataset]) -> dict[str, Any]:
    """A 1,500-row slice of the SMS training split, its label flip and backdoor, and the test split."""
    train, test = sms_split
    train = train.take(np.arange(1500))
    flipped = LabelFlip(strategy="targeted", rate=0.1).apply(train, random_state=0).poisoned
    planted = Backdoor(mode="insert", rate=0.02).apply(train, random_state=0).poisoned
    assert flipped.texts is train.texts, "a label flip keeps the very same texts (what the cache shares)"
    assert planted.texts != train.texts
    return {"train": {"clean": train, "flipped": flipped, "backdoored": planted}, "test": test}


def _fresh(victim: str, features: str, dataset: Dataset) -> Pipeline:
    return make_victim(victim, features=features, random_state=0).fit(list(dataset.texts), dataset.labels)


@pytest.mark.parametrize("features", ["count", "tfidf"])
def test_fit_cache_gives_the_models_of_plain_pipelines(data, features):
    cache = FitCache()
    test_texts = data["test"].texts
    for victim in VICTIMS:
        for kind, dataset in data["train"].items():
            factory = lambda: make_victim(victim, features=features, random_state=0)  # noqa: E731, B023
            cached = cache.fit(factory, dataset)
            fresh = _fresh(victim, features, dataset)
            where = f"{victim}/{features}/{kind}"
            cached_vec, fresh_vec = cached.steps[0][1], fresh.steps[0][1]
            assert cached_vec.vocabulary_ == fresh_vec.vocabulary_, where
            if features == "tfidf":
                assert np.array_equal(cached_vec.idf_, fresh_vec.idf_), where
            for name in LEARNED[victim]:
                got, want = getattr(cached.steps[1][1], name), getattr(fresh.steps[1][1], name)
                assert np.array_equal(got, want), f"{where}: {name}"
            expected = fresh.predict(list(test_texts))
            assert np.array_equal(cache.predict(cached, test_texts), expected), where
            assert np.array_equal(cached.predict(list(test_texts)), expected), where


def test_fit_cache_shares_one_vectorizer_per_texts_and_settings(data):
    cache = FitCache()
    train = data["train"]
    models = {
        (victim, kind): cache.fit(lambda v=victim: make_victim(v, random_state=0), train[kind])
        for victim in ("nb", "logreg")
        for kind in train
    }
    shared = models[("nb", "clean")].steps[0][1]
    assert models[("nb", "flipped")].steps[0][1] is shared
    assert models[("logreg", "clean")].steps[0][1] is shared
    assert models[("logreg", "backdoored")].steps[0][1] is models[("nb", "backdoored")].steps[0][1]
    assert models[("nb", "backdoored")].steps[0][1] is not shared  # other texts, another vocabulary
    tfidf = cache.fit(lambda: make_victim("nb", features="tfidf"), train["clean"])
    assert tfidf.steps[0][1] is not shared  # other settings


def test_fit_cache_tells_apart_vectorizers_whose_repr_is_shortened(data):
    # scikit-learn's repr shows only the first 30 items of a list parameter: these two print the same
    words = [f"zz{i}" for i in range(40)]
    keep_call = CountVectorizer(stop_words=[*words, "free"])
    keep_free = CountVectorizer(stop_words=[*words, "call"])
    assert repr(keep_call) == repr(keep_free)
    cache = FitCache()
    train, test = data["train"]["clean"], data["test"]
    for vectorizer in (keep_call, keep_free):
        pipe = make_pipeline(vectorizer, MultinomialNB())
        cached = cache.fit(lambda p=pipe: clone(p), train)
        fresh = clone(pipe).fit(list(train.texts), train.labels)
        assert cached.steps[0][1].vocabulary_ == fresh.steps[0][1].vocabulary_
        assert np.array_equal(cache.predict(cached, test.texts), fresh.predict(list(test.texts)))


def test_fit_cache_with_unpicklable_tokenizers(data):
    train, test = data["train"]["clean"], data["test"]
    cache = FitCache()
    pipes = [
        make_pipeline(CountVectorizer(tokenizer=lambda s: s.split(), token_pattern=None), MultinomialNB()),
        make_pipeline(
            CountVectorizer(tokenizer=lambda s: s.split()[:3], token_pattern=None), MultinomialNB()
        ),
    ]
    for pipe in pipes:
        cached = cache.fit(lambda p=pipe: clone(p), train)
        fresh = clone(pipe).fit(list(train.texts), train.labels)
        assert cached.steps[0][1].vocabulary_ == fresh.steps[0][1].vocabulary_
        assert np.array_equal(cache.predict(cached, test.texts), fresh.predict(list(test.texts)))


def _sklearn_scores(y_true: np.ndarray, y_pred: np.ndarray, classes: tuple[str, ...]) -> dict[str, Any]:
    matrix = confusion_matrix(y_true, y_pred, labels=[0, 1])
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1], zero_division=0)
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "ham_loss": matrix[0, 1] / matrix[0].sum(),
        "spam_leak": matrix[1, 0] / matrix[1].sum(),
        "per_class": {
            name: {"precision": precision[i], "recall": recall[i], "f1": f1[i]}
            for i, name in enumerate(classes)
        },
    }


def _flat(scores: dict[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = float(value)
    return flat


def test_evaluate_attack_scores_equal_scikit_learn_metrics(sms_split):
    train, test = sms_split
    attack = LabelFlip(strategy="targeted", rate=0.1)
    result = evaluate_attack(attack, train, test, "nb", random_state=0)
    poisoned = attack.apply(train, random_state=0).poisoned
    clean_pred = _fresh("nb", "count", train).predict(list(test.texts))
    attacked_pred = _fresh("nb", "count", poisoned).predict(list(test.texts))
    assert np.array_equal(result.clean_predictions, clean_pred)
    assert np.array_equal(result.attacked_predictions, attacked_pred)
    for scores, pred in ((result.clean, clean_pred), (result.attacked, attacked_pred)):
        expected = _sklearn_scores(test.labels, pred, test.classes)
        assert _flat(scores.to_dict()) == pytest.approx(_flat(expected), abs=1e-12)
    assert result.attacked.spam_leak > result.clean.spam_leak
    summary = result.to_dict()
    assert summary["n_train"] == len(train)
    assert summary["n_poison"] == round(0.1 * len(train))
    assert summary["backdoor"] is None
    assert summary["params"] == attack.get_params()


@pytest.mark.parametrize("position", ["start", "random"])
def test_backdoor_asr_counts_equal_a_plain_recount(sms_split, position):
    train, test = sms_split
    attack = Backdoor(trigger="PROMO2026", mode="inject", position=position, rate=0.01)
    result = evaluate_attack(attack, train, test, "logreg", random_state=0)
    planted = result.poisoned
    clean = _fresh("logreg", "count", train)
    attacked = _fresh("logreg", "count", planted.poisoned)
    source, target = 1, 0
    members = np.flatnonzero(test.labels == source)
    triggered = planted.trigger.apply([test.texts[i] for i in members])
    clean_trig = clean.predict(triggered)
    attacked_trig = attacked.predict(triggered)
    eligible = clean_trig == source
    scores = result.backdoor
    assert scores is not None
    assert (scores.source, scores.target) == ("spam", "ham")
    assert scores.n_source == members.size
    assert scores.eligible == int(eligible.sum())
    assert scores.excluded == int((~eligible).sum())
    assert scores.eligible + scores.excluded == scores.n_source
    assert scores.asr == pytest.approx(float(np.mean(attacked_trig[eligible] == target)), abs=1e-12)
    assert scores.triggered_accuracy_clean_model == pytest.approx(float(np.mean(clean_trig == source)))
    assert 0.0 < scores.asr <= 1.0  # logistic regression learns the trigger from 1 % poison


def test_evaluate_poisoned_never_changes_its_inputs(small_dataset):
    planted = Backdoor(mode="insert", n=2).apply(small_dataset, random_state=0)
    before = (planted.poisoned.texts, planted.poisoned.labels.tobytes(), small_dataset.labels.tobytes())
    evaluate_poisoned(planted, small_dataset, "nb")
    after = (planted.poisoned.texts, planted.poisoned.labels.tobytes(), small_dataset.labels.tobytes())
    assert before == after


def test_three_classes_have_no_ham_loss_or_spam_leak():
    texts = ["win cash", "free prize", "cheap pills", "see you", "at lunch", "call me", "buy now", "report"]
    data = Dataset(texts * 3, [2, 2, 2, 0, 0, 0, 1, 1] * 3, ("ham", "promo", "spam"))
    result = evaluate_attack(LabelFlip(strategy="random", n=4), data, data, "nb", random_state=0)
    assert np.isnan(result.clean.ham_loss) and np.isnan(result.clean.spam_leak)
    assert set(result.clean.per_class) == {"ham", "promo", "spam"}
    assert result.clean.accuracy == pytest.approx(accuracy_score(data.labels, result.clean_predictions))


# A user's own models


@pytest.mark.parametrize(
    "pipeline",
    [
        make_pipeline(TfidfVectorizer(), RidgeClassifier()),
        make_pipeline(
            CountVectorizer(ngram_range=(1, 2)), TfidfTransformer(), LogisticRegression(max_iter=500)
        ),
    ],
    ids=["tfidf+ridge", "three-steps"],
)
def test_a_users_pipeline_is_a_victim(data, pipeline):
    train, test = data["train"]["clean"], data["test"]
    attack = LabelFlip(strategy="targeted", rate=0.1)
    result = evaluate_attack(attack, train, test, pipeline, random_state=0)
    with pytest.raises(NotFittedError):
        check_is_fitted(pipeline)  # the user's object is cloned, never fitted in place
    poisoned = attack.apply(train, random_state=0).poisoned
    clean = clone(pipeline).fit(list(train.texts), train.labels)
    attacked = clone(pipeline).fit(list(poisoned.texts), poisoned.labels)
    assert np.array_equal(result.clean_predictions, clean.predict(list(test.texts)))
    assert np.array_equal(result.attacked_predictions, attacked.predict(list(test.texts)))
    assert np.array_equal(result.attacked_model.steps[-1][1].coef_, attacked.steps[-1][1].coef_)
    assert result.attacked.spam_leak > result.clean.spam_leak


def test_a_factory_function_is_a_victim(small_dataset):
    made = []

    def factory() -> Pipeline:
        made.append(make_pipeline(CountVectorizer(), MultinomialNB()))
        return made[-1]

    result = evaluate_attack(LabelFlip(strategy="targeted", n=1), small_dataset, small_dataset, factory)
    assert len(made) == 2  # one fresh model for clean data, one for poisoned
    assert result.clean_model is made[0] and result.attacked_model is made[1]


def test_an_unknown_victim_name_is_a_library_error(small_dataset):
    with pytest.raises(PoisonlabError, match="xgboost"):
        evaluate_attack(LabelFlip(strategy="targeted", n=1), small_dataset, small_dataset, "xgboost")
