"""Baselines: from a model on clean data, from arrays, from a stream; saved and loaded as JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poisonlab import DataError
from poisonlab.monitoring.baseline import (
    Baseline,
    baseline_from_model,
    baseline_from_predictions,
    baseline_from_records,
)
from poisonlab.monitoring.records import RecordBatch
from poisonlab.victims import log_odds, make_victim


def test_from_model_holds_its_predictions_on_the_holdout(sms_split):
    train, test = sms_split
    model = make_victim("nb").fit(list(train.texts), train.labels)
    base = baseline_from_model(model, test, model_fingerprint="abc")
    predicted = model.predict(list(test.texts))
    assert base.class_counts == tuple(np.bincount(predicted, minlength=2).tolist())
    assert np.array_equal(base.scores, np.sort(log_odds(model, list(test.texts))))
    assert base.source == test.name and base.model_fingerprint == "abc"
    assert base.shares().sum() == pytest.approx(1.0)


def test_save_and_load_round_trip_as_strict_json(tmp_path):
    base = Baseline(
        classes=("ham", "spam"), class_counts=(9, 3), scores=np.array([2.0, -1.5, 0.25]), source="s"
    )
    base.save(tmp_path / "b.json")
    document = json.loads((tmp_path / "b.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert document["format"] == "poisonlab-baseline/1" and document["n"] == 12
    again = Baseline.load(tmp_path / "b.json")
    assert again.to_dict() == base.to_dict()


def test_large_prediction_sets_keep_a_seeded_sample_of_scores():
    scores = np.arange(50_000, dtype=float)
    labels = (scores % 7 == 0).astype(int)
    a = baseline_from_predictions(labels, scores, ("ham", "spam"), max_scores=1000, random_state=3)
    b = baseline_from_predictions(labels, scores, ("ham", "spam"), max_scores=1000, random_state=3)
    assert a.scores.size == 1000 and np.array_equal(a.scores, b.scores)
    assert a.class_counts == tuple(np.bincount(labels).tolist())
    assert np.unique(a.scores).size == 1000  # without replacement


def test_stream_baseline_counts_everything_and_keeps_a_uniform_reservoir():
    values = np.arange(20_000, dtype=float)
    batches = [
        RecordBatch((values[i : i + 700] % 5 == 0).astype(np.int64), values[i : i + 700], (None,) * 700)
        for i in range(0, 19_600, 700)
    ] + [RecordBatch(np.zeros(400, dtype=np.int64), values[19_600:], (None,) * 400)]
    base = baseline_from_records(batches, ("ham", "spam"), max_scores=2000, random_state=0)
    assert base.n == 20_000
    assert base.class_counts[1] == int(np.sum(values[:19_600] % 5 == 0))
    assert base.scores.size == 2000 and np.unique(base.scores).size == 2000
    # a uniform sample of 0..19999: each quarter of the range holds about a quarter of it
    quarters = np.bincount((base.scores // 5000).astype(int), minlength=4)
    assert quarters.min() > 400 and quarters.max() < 600


def test_stream_baseline_without_predictions_is_refused():
    with pytest.raises(DataError, match="holds no predictions"):
        baseline_from_records([], ("ham", "spam"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "is not valid JSON"),
        ('{"format": "other"}', "not a poisonlab-baseline/1 file"),
        ('{"format": "poisonlab-baseline/1", "classes": ["ham", "spam"]}', "incomplete or malformed"),
        (
            '{"format": "poisonlab-baseline/1", "classes": ["ham", "spam"], "class_counts": [0, 0]}',
            "at least one prediction",
        ),
    ],
)
def test_bad_baseline_files(tmp_path, text, match):
    (tmp_path / "b.json").write_text(text)
    with pytest.raises(DataError, match=match):
        Baseline.load(tmp_path / "b.json")


def test_missing_file_and_bad_scores():
    with pytest.raises(DataError, match="Cannot read baseline file"):
        Baseline.load("/nonexistent/b.json")
    with pytest.raises(DataError, match="must be finite"):
        Baseline(classes=("ham", "spam"), class_counts=(1, 1), scores=np.array([np.inf]))
