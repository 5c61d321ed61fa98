"""Reading a stream of JSON lines: labels, scores, texts scored by a model, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from poisonlab import DataError, ParameterError
from poisonlab.monitoring.records import read_records
from poisonlab.victims import log_odds, make_victim

CLASSES = ("ham", "spam")


def one_batch(lines, **kwargs):
    batches = list(read_records(lines, CLASSES, **kwargs))
    assert len(batches) == 1
    return batches[0]


def test_labels_by_name_or_index_scores_and_timestamps():
    lines = [
        '{"label": "SPAM", "score": 3.5, "timestamp": "2026-01-01T00:00:00Z"}',
        "",
        '{"label": 0}',
        '{"score": -0.5}',
        '{"score": 2, "id": "x"}',
    ]
    out = one_batch(lines)
    assert out.labels.tolist() == [1, 0, 0, 1]
    assert np.array_equal(out.scores, [3.5, np.nan, -0.5, 2.0], equal_nan=True)
    assert out.timestamps == ("2026-01-01T00:00:00Z", None, None, None)


def test_texts_are_scored_by_the_model(sms_split):
    train, test = sms_split
    model = make_victim("nb").fit(list(train.texts), train.labels)
    texts = list(test.texts[:7])
    out = one_batch([json.dumps({"text": t}) for t in texts], model=model)
    assert out.labels.tolist() == model.predict(texts).tolist()
    assert np.allclose(out.scores, log_odds(model, texts))


def test_batches_hold_at_most_batch_size_records():
    lines = [json.dumps({"label": i % 2}) for i in range(23)]
    assert [len(b) for b in read_records(lines, CLASSES, batch_size=10)] == [10, 10, 3]
    with pytest.raises(ParameterError, match="batch_size"):
        list(read_records(lines, CLASSES, batch_size=0))


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("not json", r"Line 2 of the stream is not valid JSON"),
        ("[1, 2]", r"Line 2 of the stream must be a JSON object, not list"),
        ('{"timestamp": 1}', r"Line 2 of the stream has none of 'text', 'label' or 'score'"),
        ('{"label": "eggs"}', r"Line 2 of the stream has label 'eggs'; expected a class name \(ham, spam\)"),
        ('{"label": 2}', r"Line 2 of the stream has label 2"),
        ('{"label": true}', r"Line 2 of the stream has label True"),
        ('{"score": "high"}', r"Line 2 of the stream has score 'high'"),
        ('{"score": NaN}', r"Line 2 of the stream has score nan; expected a finite number"),
        ('{"text": "hello"}', r"Line 2 of the stream has a text but no label or score; give --model"),
    ],
)
def test_bad_lines_are_named_by_number(line, match):
    with pytest.raises(DataError, match=match):
        list(read_records(['{"label": "ham"}', line], CLASSES))


def test_scores_without_labels_need_two_classes():
    with pytest.raises(DataError, match="scores alone need two classes"):
        list(read_records(['{"score": 1.0}'], ("a", "b", "c")))
