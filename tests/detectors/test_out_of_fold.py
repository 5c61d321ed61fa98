"""Out-of-fold probabilities: scikit-learn's cross_val_predict, seeded and shared."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from poisonlab._errors import DataError, ParameterError
from poisonlab.data import Dataset
from poisonlab.detectors.out_of_fold import clear_cache, fold_count, out_of_fold_proba
from poisonlab.victims import make_victim


def test_equals_cross_val_predict_with_the_victim_pipeline(sms_sample: Dataset) -> None:
    clear_cache()
    proba = out_of_fold_proba(sms_sample, "nb", n_splits=4, random_state=3)
    split = StratifiedKFold(n_splits=4, shuffle=True, random_state=3)
    expected = cross_val_predict(
        make_victim("nb"), list(sms_sample.texts), sms_sample.labels, cv=split, method="predict_proba"
    )
    np.testing.assert_array_equal(proba, expected)


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
