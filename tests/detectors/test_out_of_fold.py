"""Out-of-fold probabilities: equal to scikit-learn's cross_val_predict on the victim Pipeline,
computed from the shared word counts, seeded, and kept per dataset object."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest
from scipy.special import expit
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from poisonlab._errors import DataError, ParameterError
from poisonlab.attacks import Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import out_of_fold
from poisonlab.detectors.out_of_fold import clear_cache, fold_count, out_of_fold_proba
from poisonlab.victims import factory, make_victim


def cross_val_proba(data: Dataset, victim: str, features: str, folds: int, seed: int) -> np.ndarray:
    """The plain scikit-learn computation: the Pipeline refitted, vectorizer included, per fold."""
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    model = make_victim(victim, features=features, random_state=seed)
    texts = list(data.texts)
    if hasattr(model, "predict_proba"):
        return np.asarray(cross_val_predict(model, texts, data.labels, cv=split, method="predict_proba"))
    positive = expit(cross_val_predict(model, texts, data.labels, cv=split, method="decision_function"))
    return np.column_stack([1.0 - positive, positive])


def resampled(data: Dataset, size: int, seed: int) -> Dataset:
    """Rows drawn with replacement, some relabelled: repeated texts in several folds, under both labels."""
    rng = np.random.default_rng(seed)
    drawn = data.take(rng.choice(len(data), size=size, replace=True))
    labels = drawn.labels.copy()
    flip = rng.random(size) < 0.05
    labels[flip] = 1 - labels[flip]
    return drawn.with_labels(labels)


@pytest.mark.parametrize(("folds", "seed"), [(5, 0), (3, 7)])
def test_naive_bayes_count_arithmetic_equals_cross_val_predict_on_sms(
    sms_flip: Poisoned, folds: int, seed: int
) -> None:
    data = sms_flip.poisoned  # SMS-sized: 4,459 rows, words seen in one fold only, 10 % flipped
    clear_cache()
    proba = out_of_fold_proba(data, "nb", n_splits=folds, random_state=seed)
    np.testing.assert_allclose(proba, cross_val_proba(data, "nb", "count", folds, seed), rtol=0, atol=1e-12)


def test_naive_bayes_count_arithmetic_with_repeated_texts(sms_sample: Dataset) -> None:
    data = resampled(sms_sample, 1500, seed=1)
    assert len(set(data.texts)) < len(data)
    proba = out_of_fold_proba(data, "nb", n_splits=4, random_state=2)
    np.testing.assert_allclose(proba, cross_val_proba(data, "nb", "count", 4, 2), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("victim", "features"), [("nb", "tfidf"), ("cnb", "count"), ("logreg", "tfidf"), ("svm", "count")]
)
def test_other_victims_refit_on_the_shared_counts_equal_cross_val_predict(
    sms_sample: Dataset, victim: str, features: str
) -> None:
    data = resampled(sms_sample, 600, seed=3)
    proba = out_of_fold_proba(data, victim, features=features, n_splits=3, random_state=4)
    np.testing.assert_allclose(proba, cross_val_proba(data, victim, features, 3, 4), rtol=0, atol=1e-9)


def test_a_victim_reading_other_words_goes_through_cross_val_predict(
    sms_sample: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sms_sample.take(np.arange(400))
    default = out_of_fold_proba(data, "nb")
    real = factory.make_victim

    def binary_words(name: str = "nb", *, features: str = "count", random_state: int | None = None) -> Any:
        return real(name, features=features, random_state=random_state).set_params(vectorizer__binary=True)

    monkeypatch.setattr(factory, "make_victim", binary_words)
    clear_cache()
    proba = out_of_fold_proba(data, "nb")
    split = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    expected = cross_val_predict(
        binary_words("nb"), list(data.texts), data.labels, cv=split, method="predict_proba"
    )
    np.testing.assert_array_equal(proba, expected)
    assert np.abs(proba - default).max() > 1e-3  # the binary victim was the one cross-validated


def test_rows_are_probabilities_even_for_a_victim_without_predict_proba(sms_sample: Dataset) -> None:
    proba = out_of_fold_proba(sms_sample, "svm", n_splits=3)
    assert proba.shape == (len(sms_sample), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    # the squashing is monotone: the SVM's out-of-fold decision and the probability rank alike
    assert np.mean(proba.argmax(axis=1) == sms_sample.labels) > 0.9


def test_the_seed_decides_the_folds(sms_sample: Dataset) -> None:
    clear_cache()
    first = out_of_fold_proba(sms_sample, "nb", random_state=0)
    clear_cache()
    assert out_of_fold_proba(sms_sample, "nb", random_state=0).tobytes() == first.tobytes()
    assert out_of_fold_proba(sms_sample, "nb", random_state=1).tobytes() != first.tobytes()


def test_the_cache_hands_out_copies(sms_sample: Dataset) -> None:
    proba = out_of_fold_proba(sms_sample, "nb")
    proba[:] = 0.0
    assert out_of_fold_proba(sms_sample, "nb").sum() > 0


def test_the_cache_is_kept_per_dataset_object_without_fingerprinting(
    sms_sample: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[int] = []
    real = out_of_fold._compute

    def counting(*args: object) -> np.ndarray:
        computed.append(1)
        return real(*args)  # type: ignore[arg-type]

    def no_fingerprint(self: Dataset) -> str:
        raise AssertionError("the cache must not hash the dataset")

    monkeypatch.setattr(out_of_fold, "_compute", counting)
    monkeypatch.setattr(Dataset, "fingerprint", no_fingerprint)
    clear_cache()
    data = sms_sample.take(np.arange(300))
    first = out_of_fold_proba(data, "nb")
    out_of_fold_proba(data, "nb")
    assert len(computed) == 1
    twin = data.take(np.arange(300))  # equal content, another object
    np.testing.assert_array_equal(out_of_fold_proba(twin, "nb"), first)
    assert len(computed) == 2
    entries = len(out_of_fold._cache)
    del data, twin
    gc.collect()
    assert len(out_of_fold._cache) == entries - 2  # a dataset's entry goes with it


def test_folds_shrink_to_the_smallest_class_and_refuse_a_singleton_class() -> None:
    texts = ["aa bb", "bb cc", "cc dd", "xx yy", "yy zz", "zz aa"]
    data = Dataset(texts, [0, 0, 0, 0, 1, 1], ("ham", "spam"))
    assert fold_count(data, 5) == 2
    assert out_of_fold_proba(data, n_splits=5).shape == (6, 2)
    lonely = data.with_labels([0, 0, 0, 0, 0, 1])
    with pytest.raises(DataError, match="class 'spam' has 1"):
        out_of_fold_proba(lonely)
    with pytest.raises(ParameterError):
        fold_count(data, 1)
    with pytest.raises(ParameterError, match="Unknown victim"):
        out_of_fold_proba(data, "forest")


@pytest.mark.parametrize("victim", ["nb", "logreg"])
def test_texts_without_words_are_a_data_error(victim: str) -> None:
    data = Dataset(["!", "?", "a", "b"], [0, 0, 1, 1], ("ham", "spam"))
    with pytest.raises(DataError, match="need texts with words"):
        out_of_fold_proba(data, victim)
    one_fold_has_words = Dataset(["aa", "!", "?", "b"], [0, 0, 1, 1], ("ham", "spam"))
    with pytest.raises(DataError, match="words in every training fold"):
        out_of_fold_proba(one_fold_has_words, victim, n_splits=2)
