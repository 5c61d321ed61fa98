"""Sanitize and retrain: detector specs, the three thresholding rules, removal and down-weighting,
and the backdoor it removes on SMS."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from poisonlab import DataError, ParameterError
from poisonlab.attacks import Backdoor
from poisonlab.data import Dataset
from poisonlab.defenses import Sanitize
from poisonlab.defenses._training import fit_rows
from poisonlab.defenses.sanitize import build_detector, flag_rows, parse_detector
from poisonlab.experiments.defend import evaluate_defense
from poisonlab.victims import as_factory, make_victim


def test_detector_specs_parse_names_and_json_values():
    assert parse_detector("knn_labels") == ("knn_labels", {})
    assert parse_detector(" knn-labels:n_neighbors=7, weights=uniform ") == (
        "knn_labels",
        {"n_neighbors": 7, "weights": "uniform"},
    )
    assert parse_detector('x:a=1.5,b=true,c=null,d="q"') == ("x", {"a": 1.5, "b": True, "c": None, "d": "q"})
    assert build_detector("knn_labels:n_neighbors=7").n_neighbors == 7


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_detector", "Unknown detector 'no_such_detector'"),
        ("knn_labels:n_neighbours=3", "has no parameter 'n_neighbours'"),
        ("knn_labels:n_neighbors", "written key=value"),
        ("knn_labels:n_neighbors=-1", "n_neighbors"),
    ],
)
def test_bad_detector_specs_fail_at_construction(spec, message):
    with pytest.raises(ParameterError, match=message):
        Sanitize(detectors=(spec,))


@pytest.mark.parametrize(
    "params",
    [
        {"detectors": ()},
        {"detectors": "trigger_mining"},
        {"rule": "top"},
        {"rule": "contamination", "threshold": 1.5},
        {"rule": "contamination", "threshold": 0},
        {"detectors": ("spectral_signature",)},
        {"rule": "count", "threshold": 2.5},
        {"rule": "count", "threshold": -1},
        {"rule": "quantile", "threshold": 1.0},
        {"action": "drop"},
        {"flagged_weight": 1.0},
        {"flagged_weight": -0.1},
    ],
)
def test_bad_parameters(params):
    with pytest.raises(ParameterError, match="Sanitize"):
        Sanitize(**params)


def test_rules_flag_the_top_rows_and_never_the_lowest_score():
    scores = np.array([0.0, 3.0, 1.0, 0.0, 2.0, 0.0, 4.0, 0.5])
    assert flag_rows(scores, "count", 3)[0].tolist() == [False, True, False, False, True, False, True, False]
    assert flag_rows(scores, "contamination", 0.25)[0].tolist() == flag_rows(scores, "count", 2)[0].tolist()
    quantile, cut = flag_rows(scores, "quantile", 0.5)
    assert quantile.tolist() == (scores > np.quantile(scores, 0.5)).tolist()
    assert cut == 1.0
    everything = flag_rows(scores, "count", 8)[0]
    assert everything.sum() == 5, "rows at the lowest score are never flagged"
    assert not flag_rows(np.zeros(4), "contamination", 0.5)[0].any()


def test_union_of_detectors_and_record(small_dataset):
    one = Sanitize(detectors=("trigger_mining",), rule="count", threshold=2).fit(small_dataset, "nb")
    two = Sanitize(detectors=("trigger_mining", "knn_labels"), rule="count", threshold=2).fit(
        small_dataset, "nb"
    )
    assert (one.removed <= two.removed).all()
    assert two.info["flagged"] == int(two.removed.sum())
    assert set(two.info["detectors"]) == {"trigger_mining", "knn_labels"}


def test_down_weighting_trains_with_sample_weights(small_dataset):
    defense = Sanitize(
        detectors=("knn_labels",), rule="count", threshold=3, action="weight", flagged_weight=0.25
    )
    defended = defense.fit(small_dataset, "logreg")
    assert defended.removed is None
    assert sorted(set(defended.weights.tolist())) == [0.25, 1.0]
    assert (defended.weights < 1).sum() == defended.info["flagged"] == 3
    direct = make_victim("logreg", random_state=0).fit(
        list(small_dataset.texts), small_dataset.labels, classifier__sample_weight=defended.weights
    )
    np.testing.assert_array_equal(defended.model[-1].coef_, direct[-1].coef_)


def test_down_weighting_needs_a_victim_that_takes_weights(small_dataset):
    knn = make_pipeline(CountVectorizer(), KNeighborsClassifier(n_neighbors=3))
    defense = Sanitize(detectors=("knn_labels",), rule="count", threshold=2, action="weight")
    with pytest.raises(ParameterError, match="takes no sample_weight"):
        defense.fit(small_dataset, knn)


def test_removing_a_whole_class_is_a_data_error():
    data = Dataset(["win cash", "cheap pills", "see you", "lunch at noon"], [1, 1, 0, 0], ("ham", "spam"))
    factory = as_factory("nb")
    with pytest.raises(DataError, match="Sanitize left 2 training rows, none of class 'spam'"):
        fit_rows(factory, data, np.array([False, False, True, True]), owner="Sanitize")
    assert fit_rows(factory, data, np.array([True, False, True, False])).classes_.tolist() == [0, 1]


def test_sanitize_removes_the_backdoor_on_sms(sms_split):
    """2,000 SMS training rows, 20 backdoor rows (trigger x3), logreg; the default (trigger
    mining and iterative relabelling, each by its own rule) removes every poison row and under
    1 % of the clean rows (natural label issues)."""
    train, test = sms_split
    result = evaluate_defense(
        Sanitize(), Backdoor(n=20, repeat=3), train.take(np.arange(2000)), test, "logreg", random_state=0
    )
    assert result.removed is not None
    assert result.removed.poison == 20 and result.removed.rows - 20 <= 0.01 * 2000
    assert result.undefended_asr is not None and result.undefended_asr > 0.85
    assert result.asr is not None and result.asr < 0.1
    assert result.scores.accuracy >= result.attack.attacked.accuracy - 0.003
