"""RONI: the Naive Bayes count arithmetic equals refits, the linear approximation tracks them, and
the defense removes the dictionary attack it was made for."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from poisonlab import ParameterError
from poisonlab.attacks import DictionaryAttack
from poisonlab.data import Dataset
from poisonlab.defenses import RONI
from poisonlab.defenses._impact import (
    is_count_naive_bayes,
    is_linear,
    linear_impacts,
    message_scores,
    naive_bayes_impacts,
)
from poisonlab.defenses.roni import fold_of, reject_negative, row_impacts
from poisonlab.experiments.evaluate import score_predictions
from poisonlab.victims import make_victim


def refit_impacts(
    texts: list[str], labels: np.ndarray, cal_texts: list[str], cal_labels: np.ndarray, nb: MultinomialNB
) -> np.ndarray:
    """Brute force: refit the whole Pipeline (vectorizer included) without each row."""

    def score(rows: np.ndarray) -> float:
        model = Pipeline([("vectorizer", CountVectorizer()), ("classifier", nb)])
        model.fit([texts[i] for i in rows], labels[rows])
        proba = model.predict_proba(cal_texts)
        full = np.zeros((len(cal_texts), int(max(labels.max(), cal_labels.max())) + 1))
        full[:, model.classes_] = proba
        return float(full[np.arange(len(cal_texts)), cal_labels].mean())

    everything = np.arange(len(texts))
    baseline = score(everything)
    return np.array([baseline - score(np.delete(everything, i)) for i in everything])


@pytest.mark.parametrize(
    ("alpha", "fit_prior", "n_classes"), [(1.0, True, 2), (0.5, False, 2), (0.25, True, 3)]
)
def test_naive_bayes_count_arithmetic_equals_refits(sms_split, alpha, fit_prior, n_classes):
    train, _ = sms_split
    texts = [*train.texts[:70], "qwxz unique words only here", "qwxz"]  # a word in two rows only
    labels = np.concatenate([train.labels[:70], [1, 0]])
    if n_classes == 3:
        labels = labels.copy()
        labels[[3, 11, 19]] = 2
        labels[40] = 2
    cal_texts = list(train.texts[70:110])
    cal_labels = train.labels[70:110].copy()
    if n_classes == 3:
        cal_labels[[0, 5]] = 2
    vectorizer = CountVectorizer().fit(texts)
    got = naive_bayes_impacts(
        vectorizer.transform(texts),
        labels,
        vectorizer.transform(cal_texts),
        cal_labels,
        n_classes,
        alpha=alpha,
        fit_prior=fit_prior,
    )
    want = refit_impacts(
        texts, labels, cal_texts, cal_labels, MultinomialNB(alpha=alpha, fit_prior=fit_prior)
    )
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.abs(want).max() > 1e-4, "the check compares real effects, not zeros"


def test_count_arithmetic_handles_a_row_that_is_its_class(sms_split):
    """Removing the only row of a class leaves a refit without that class: probability 0."""
    train, _ = sms_split
    texts = list(train.texts[:30])
    labels = np.zeros(30, dtype=np.int64)
    labels[7] = 1
    cal_texts, cal_labels = list(train.texts[30:50]), train.labels[30:50]
    vectorizer = CountVectorizer().fit(texts)
    got = naive_bayes_impacts(
        vectorizer.transform(texts), labels, vectorizer.transform(cal_texts), cal_labels, 2
    )
    want = refit_impacts(texts, labels, cal_texts, cal_labels, MultinomialNB())
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("classifier", "min_correlation"),
    [(LogisticRegression(max_iter=10_000, tol=1e-8), 0.85), (LinearSVC(max_iter=100_000, tol=1e-10), 0.5)],
)
def test_linear_influence_tracks_refits(sms_split, classifier, min_correlation):
    train, _ = sms_split
    texts, labels = list(train.texts[:200]), train.labels[:200].copy()
    labels[:5] = 1 - labels[:5]  # five flipped rows
    cal_texts, cal_labels = list(train.texts[200:350]), train.labels[200:350]
    vectorizer = CountVectorizer().fit(texts)
    X, Xc = vectorizer.transform(texts), vectorizer.transform(cal_texts)
    with threadpool_limits(limits=1):  # 200 small refits: threads only contend on a busy machine
        model = classifier.fit(X, labels)
        approx = linear_impacts(model, X, labels, Xc, cal_labels)
        baseline = message_scores(model, Xc, cal_labels).mean()
        exact = []
        for i in range(len(texts)):
            keep = np.arange(len(texts)) != i
            refit = type(classifier)(**classifier.get_params()).fit(X[keep], labels[keep])
            exact.append(baseline - message_scores(refit, Xc, cal_labels).mean())
    exact = np.array(exact)
    assert np.corrcoef(approx, exact)[0, 1] > min_correlation
    strong = np.abs(exact) > np.quantile(np.abs(exact), 0.9)
    assert np.mean(np.sign(approx[strong]) == np.sign(exact[strong])) >= 0.9


def test_method_is_chosen_by_victim():
    assert is_count_naive_bayes(make_victim("nb"))
    assert not is_count_naive_bayes(make_victim("cnb"))
    assert is_linear(make_victim("logreg")) and is_linear(make_victim("svm"))
    assert not is_linear(make_victim("logreg").set_params(classifier__class_weight="balanced"))


def test_batch_refits_for_other_victims(small_dataset):
    impacts, method = row_impacts(small_dataset, make_victim("cnb"), folds=3, batch_size=2)
    assert method == "batch_refits"
    assert impacts.shape == (len(small_dataset),)
    defended = RONI(folds=3, batch_size=2).fit(small_dataset, "cnb")
    assert defended.info["method"] == "batch_refits"


def test_folds_hash_the_text():
    texts = ["same", "other", "same", "third", "fourth"]
    folds = fold_of(texts, 4)
    assert folds[0] == folds[2]
    assert folds.tolist() == fold_of(list(reversed(texts)), 4)[::-1].tolist()
    assert ((folds >= 0) & (folds < 4)).all()


def test_reject_negative_uses_a_robust_cut():
    impacts = np.array([-0.01, 0.01, 0.0, 0.02, -0.02, -1.0, np.nan, 5.0])
    flags, cut = reject_negative(impacts, 3.0)
    assert flags.tolist() == [False, False, False, False, False, True, False, False]
    assert cut < 0
    assert not reject_negative(np.zeros(4), 3.0)[0].any(), "no spread, nothing rejected"


@pytest.mark.parametrize(
    "params", [{"folds": 1}, {"folds": 2.5}, {"threshold": 0}, {"threshold": float("inf")}, {"batch_size": 0}]
)
def test_bad_parameters(params):
    with pytest.raises(ParameterError, match="parameter of RONI"):
        RONI(**params)


def test_roni_removes_the_dictionary_attack_on_sms(sms_split):
    """On 2,000 SMS training rows with 20 dictionary rows, Naive Bayes: all 20 rejected (37 rows
    in all), ham loss back to the clean model's (measured: 2.17% undefended -> 0.10%, clean
    0.21%; CACC 97.2% -> 98.3%, clean 98.2%)."""
    train, test = sms_split
    train = train.take(np.arange(2000))
    poisoned = DictionaryAttack(n=20).apply(train, random_state=0)
    undefended = make_victim("nb").fit(list(poisoned.poisoned.texts), poisoned.poisoned.labels)
    clean = make_victim("nb").fit(list(train.texts), train.labels)
    defended = RONI().fit(poisoned.poisoned, "nb", random_state=0)
    assert defended.info["method"] == "naive_bayes_counts"
    assert (defended.removed & poisoned.is_poison).sum() == poisoned.n_poison
    assert defended.removed.sum() <= 3 * poisoned.n_poison
    before = score_predictions(test.labels, undefended.predict(list(test.texts)), test.classes)
    after = score_predictions(test.labels, defended.predict(test.texts), test.classes)
    reference = score_predictions(test.labels, clean.predict(list(test.texts)), test.classes)
    assert before.ham_loss > reference.ham_loss + 0.01
    assert after.ham_loss <= reference.ham_loss + 0.002
    assert after.accuracy >= before.accuracy


def test_a_dataset_of_one_class_per_fold_is_kept_whole():
    data = Dataset(["aa bb", "cc dd", "ee ff", "gg hh"], [0, 0, 0, 1], ("ham", "spam"))
    impacts, _ = row_impacts(data, make_victim("nb"), folds=2)
    assert np.isnan(impacts).any(), "rows of folds whose candidates lack a class are not measured"
    defended = RONI(folds=2).fit(data, "nb")
    assert not defended.removed[np.isnan(impacts)].any()
