"""`Baseline`: what a healthy model's predictions look like, for drift checks to compare against.

A baseline holds the predicted-class counts and a sample of the scores a trusted model gave
on clean held-out data (or on a stretch of production traffic known to be healthy). It is
saved as a small JSON file by ``poisonlab monitor baseline``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._io import atomic_text_writer
from poisonlab._params import check_positive_int
from poisonlab.data.dataset import Dataset
from poisonlab.monitoring.records import RecordBatch

BASELINE_FORMAT = "poisonlab-baseline/1"
MAX_SCORES = 10_000
"""Scores kept in a baseline; beyond this a uniform random sample (a reservoir) is kept."""


@dataclasses.dataclass(frozen=True, eq=False)
class Baseline:
    """Predicted-class counts and a score sample from a healthy model on clean data.

    Attributes
    ----------
    classes : tuple of str
    class_counts : tuple of int
        Messages predicted as each class.
    scores : ndarray of float
        Sorted scores (log-odds of the last class); empty when the predictions had none.
    source : str
        Where the baseline came from, for reports.
    model_fingerprint : str or None
        The training-data fingerprint from the card of the model that made it.

    Examples
    --------
    >>> base = Baseline(classes=("ham", "spam"), class_counts=(3, 1), scores=np.array([-2.0, -1, -1, 4]))
    >>> base.n, base.shares().tolist()
    (4, [0.75, 0.25])
    """

    classes: tuple[str, ...]
    class_counts: tuple[int, ...]
    scores: npt.NDArray[np.float64]
    source: str = ""
    model_fingerprint: str | None = None

    def __post_init__(self) -> None:
        counts = tuple(int(c) for c in self.class_counts)
        if len(counts) != len(self.classes) or min(counts, default=0) < 0 or sum(counts) < 1:
            raise DataError(
                f"A baseline needs a non-negative count per class ({len(self.classes)}) and at least one "
                f"prediction; got {counts!r}."
            )
        scores = np.sort(np.asarray(self.scores, dtype=np.float64).ravel())
        if not np.all(np.isfinite(scores)):
            raise DataError("A baseline's scores must be finite numbers.")
        scores.setflags(write=False)
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "class_counts", counts)
        object.__setattr__(self, "scores", scores)

    @property
    def n(self) -> int:
        """Predictions the baseline counts."""
        return sum(self.class_counts)

    def shares(self) -> npt.NDArray[np.float64]:
        """Predicted-class shares."""
        return np.asarray(self.class_counts, dtype=np.float64) / self.n

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "format": BASELINE_FORMAT,
            "classes": list(self.classes),
            "class_counts": list(self.class_counts),
            "n": self.n,
            "source": self.source,
            "model_fingerprint": self.model_fingerprint,
            "scores": self.scores.tolist(),
        }

    @classmethod
    def from_dict(cls, document: Any) -> Baseline:
        """Rebuild from `to_dict` output."""
        if not isinstance(document, dict) or document.get("format") != BASELINE_FORMAT:
            raise DataError(f"This is not a {BASELINE_FORMAT} file (made by `poisonlab monitor baseline`).")
        try:
            return cls(
                classes=tuple(document["classes"]),
                class_counts=tuple(document["class_counts"]),
                scores=np.asarray(document.get("scores") or [], dtype=np.float64),
                source=str(document.get("source", "")),
                model_fingerprint=document.get("model_fingerprint"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"The baseline file is incomplete or malformed: {error}.") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the baseline as JSON, atomically."""
        with atomic_text_writer(path) as handle:
            json.dump(self.to_dict(), handle)
            handle.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Baseline:
        """Read a baseline file written by `save`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise DataError(f"Cannot read baseline file {str(path)!r}: {error.strerror or error}.") from None
        try:
            document = json.loads(text)
        except ValueError as error:
            raise DataError(f"Baseline file {str(path)!r} is not valid JSON: {error}.") from None
        return cls.from_dict(document)


def baseline_from_predictions(
    labels: npt.ArrayLike,
    scores: npt.ArrayLike | None,
    classes: tuple[str, ...],
    *,
    source: str = "",
    model_fingerprint: str | None = None,
    max_scores: int = MAX_SCORES,
    random_state: int = 0,
) -> Baseline:
    """A baseline from arrays of predicted class indices and scores (NaN scores are dropped).

    Examples
    --------
    >>> base = baseline_from_predictions([0, 0, 1], [-3.0, -2.0, 5.0], ("ham", "spam"))
    >>> base.class_counts, base.scores.tolist()
    ((2, 1), [-3.0, -2.0, 5.0])
    """
    check_positive_int("baseline_from_predictions", "max_scores", max_scores)
    predicted = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(predicted, minlength=len(classes))
    values = np.asarray([] if scores is None else scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size > max_scores:
        values = np.random.default_rng(random_state).choice(values, size=max_scores, replace=False)
    return Baseline(
        classes=classes,
        class_counts=tuple(int(c) for c in counts[: len(classes)]),
        scores=values,
        source=source,
        model_fingerprint=model_fingerprint,
    )


def baseline_from_model(
    model: Any,
    dataset: Dataset,
    *,
    source: str = "",
    model_fingerprint: str | None = None,
    max_scores: int = MAX_SCORES,
    random_state: int = 0,
) -> Baseline:
    """A baseline from a fitted model's predictions on `dataset` (clean, held-out data).

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.victims import make_victim
    >>> train, test = load_train_test("article")
    >>> model = make_victim("nb").fit(list(train.texts), train.labels)
    >>> base = baseline_from_model(model, test)
    >>> base.n == len(test), base.scores.size == len(test)
    (True, True)
    """
    texts = list(dataset.texts)
    predicted = np.asarray(model.predict(texts), dtype=np.int64)
    scores = None
    if len(dataset.classes) == 2:
        from poisonlab.victims.scores import log_odds

        scores = log_odds(model, texts)
    return baseline_from_predictions(
        predicted,
        scores,
        dataset.classes,
        source=source or dataset.name,
        model_fingerprint=model_fingerprint,
        max_scores=max_scores,
        random_state=random_state,
    )


def baseline_from_records(
    batches: Iterable[RecordBatch],
    classes: tuple[str, ...],
    *,
    source: str = "",
    max_scores: int = MAX_SCORES,
    random_state: int = 0,
) -> Baseline:
    """A baseline from a stream of healthy predictions, in constant memory.

    Scores beyond `max_scores` are kept by reservoir sampling (Vitter's Algorithm R), so the
    stored sample is uniform over the whole stream.

    Examples
    --------
    >>> from poisonlab.monitoring.records import read_records
    >>> lines = [f'{{"score": {s}}}' for s in (-2, -1, 3)]
    >>> baseline_from_records(read_records(lines, ("ham", "spam")), ("ham", "spam")).class_counts
    (2, 1)
    """
    check_positive_int("baseline_from_records", "max_scores", max_scores)
    rng = np.random.default_rng(random_state)
    counts = np.zeros(len(classes), dtype=np.int64)
    reservoir = np.empty(max_scores)
    seen = 0
    for batch in batches:
        counts += np.bincount(batch.labels, minlength=len(classes))[: len(classes)]
        for value in batch.scores[np.isfinite(batch.scores)].tolist():
            if seen < max_scores:
                reservoir[seen] = value
            else:
                slot = int(rng.integers(0, seen + 1))
                if slot < max_scores:
                    reservoir[slot] = value
            seen += 1
    if counts.sum() == 0:
        raise DataError("The baseline stream holds no predictions.")
    return Baseline(
        classes=classes,
        class_counts=tuple(int(c) for c in counts),
        scores=reservoir[: min(seen, max_scores)],
        source=source,
    )
