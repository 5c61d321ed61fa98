"""A production stream of predictions: JSON lines read in batches, in constant memory.

Each line is one JSON object with at least ``text`` (scored by a model) or ``label`` and/or
``score`` (a prediction made elsewhere), and optionally ``timestamp``:

* ``label``: the predicted class, by name (``"spam"``) or index (``1``);
* ``score``: the log-odds of the last class over the first (what ``poisonlab predict`` prints);
  without ``label``, a positive score means the last class;
* ``text``: the message; when a model is given its prediction and score are used.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_positive_int

DEFAULT_BATCH = 500


@dataclasses.dataclass(frozen=True, eq=False)
class RecordBatch:
    """Consecutive stream records: predicted class index, score (NaN when absent), timestamp."""

    labels: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    timestamps: tuple[object, ...]

    def __len__(self) -> int:
        return int(self.labels.size)


def read_records(
    lines: Iterable[str],
    classes: tuple[str, ...],
    *,
    model: Any = None,
    batch_size: int = DEFAULT_BATCH,
) -> Iterator[RecordBatch]:
    """Parse JSON lines into batches of at most `batch_size` records; blank lines are skipped.

    Texts are scored by `model` (a fitted victim predicting indices into `classes`) one batch
    at a time, so memory stays constant however long the stream.

    Examples
    --------
    >>> lines = ['{"label": "spam", "score": 2.5}', '{"score": -1.0, "timestamp": "t1"}']
    >>> batch = next(read_records(lines, ("ham", "spam")))
    >>> batch.labels.tolist(), batch.scores.tolist(), batch.timestamps
    ([1, 0], [2.5, -1.0], (None, 't1'))
    """
    check_positive_int("read_records", "batch_size", batch_size)
    lookup = {name.casefold(): i for i, name in enumerate(classes)}
    pending: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        pending.append((number, _parse(line, number)))
        if len(pending) == batch_size:
            yield _batch(pending, classes, lookup, model)
            pending = []
    if pending:
        yield _batch(pending, classes, lookup, model)


def _parse(line: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError as error:
        raise DataError(f"Line {number} of the stream is not valid JSON: {error}.") from None
    if not isinstance(record, dict):
        raise DataError(f"Line {number} of the stream must be a JSON object, not {type(record).__name__}.")
    if not any(key in record for key in ("text", "label", "score")):
        raise DataError(f"Line {number} of the stream has none of 'text', 'label' or 'score'.")
    return record


def _label_index(value: object, classes: tuple[str, ...], lookup: dict[str, int], number: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(classes):
        return value
    if isinstance(value, str) and value.strip().casefold() in lookup:
        return lookup[value.strip().casefold()]
    raise DataError(
        f"Line {number} of the stream has label {value!r}; expected a class name ({', '.join(classes)}) "
        f"or an index below {len(classes)}."
    )


def _score(value: object, number: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"Line {number} of the stream has score {value!r}; expected a finite number.")
    return float(value)


def _batch(
    pending: list[tuple[int, dict[str, Any]]],
    classes: tuple[str, ...],
    lookup: dict[str, int],
    model: Any,
) -> RecordBatch:
    labels = np.empty(len(pending), dtype=np.int64)
    scores = np.full(len(pending), np.nan)
    to_score: list[int] = []
    texts: list[str] = []
    for i, (number, record) in enumerate(pending):
        text = record.get("text")
        if model is not None and text is not None:
            if not isinstance(text, str):
                raise DataError(f"Line {number} of the stream has a 'text' that is not a string.")
            to_score.append(i)
            texts.append(text)
            continue
        if "label" not in record and "score" not in record:
            raise DataError(
                f"Line {number} of the stream has a text but no label or score; give --model to score texts."
            )
        if "score" in record:
            scores[i] = _score(record["score"], number)
        if "label" in record:
            labels[i] = _label_index(record["label"], classes, lookup, number)
        elif len(classes) == 2:
            labels[i] = 1 if scores[i] > 0 else 0
        else:
            raise DataError(
                f"Line {number} of the stream has a score but no label; scores alone need two classes."
            )
    if texts:
        labels[to_score] = np.asarray(model.predict(texts), dtype=np.int64)
        if len(classes) == 2:
            from poisonlab.victims.scores import log_odds

            scores[to_score] = log_odds(model, texts)
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise DataError(f"The model predicts class indices outside 0..{len(classes) - 1}.")
    return RecordBatch(labels=labels, scores=scores, timestamps=tuple(r.get("timestamp") for _, r in pending))
