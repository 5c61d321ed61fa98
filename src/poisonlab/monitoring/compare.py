"""Two models on one clean holdout: per-class metrics with paired bootstrap confidence intervals.

Both models are scored on the same resampled holdout rows in each bootstrap round
(``scipy.stats.bootstrap`` with ``paired=True``), so the interval of a difference accounts for
the two models making mostly the same mistakes. Intervals use the percentile method: two
identical models give a degenerate, all-zero bootstrap distribution, where BCa is undefined.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_positive_int, fail

METRICS = ("precision", "recall", "f1")
"""Per-class metrics compared, beside overall accuracy (CACC)."""


@dataclasses.dataclass(frozen=True)
class MetricComparison:
    """One metric of the reference and candidate models, with intervals and the difference.

    ``delta = candidate - reference``; every metric is "higher is better", so a negative delta
    whose whole interval is below zero is a significant loss.
    """

    metric: str
    cls: str | None
    reference: float
    candidate: float
    delta: float
    reference_ci: tuple[float, float]
    candidate_ci: tuple[float, float]
    delta_ci: tuple[float, float]

    @property
    def label(self) -> str:
        """``"recall of spam"``, or ``"accuracy"``."""
        return self.metric if self.cls is None else f"{self.metric} of {self.cls}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "label": self.label}


def _metric_table(
    y_true: npt.NDArray[np.int64], y_pred: npt.NDArray[np.int64], n_classes: int, axis: int = -1
) -> npt.NDArray[np.float64]:
    """Accuracy then precision, recall, F1 per class, along `axis` (vectorized over resamples).

    Undefined ratios are 0, as in scikit-learn's ``zero_division=0``.
    """
    rows = [np.mean(y_true == y_pred, axis=axis)]
    for c in range(n_classes):
        truth, pred = y_true == c, y_pred == c
        hits = np.sum(truth & pred, axis=axis).astype(np.float64)
        n_pred = np.sum(pred, axis=axis)
        n_true = np.sum(truth, axis=axis)
        precision = np.divide(hits, n_pred, out=np.zeros_like(hits), where=n_pred > 0)
        recall = np.divide(hits, n_true, out=np.zeros_like(hits), where=n_true > 0)
        f1 = np.divide(2 * hits, n_pred + n_true, out=np.zeros_like(hits), where=(n_pred + n_true) > 0)
        rows += [precision, recall, f1]
    return np.stack(rows)


def compare_models(
    y_true: npt.ArrayLike,
    reference_pred: npt.ArrayLike,
    candidate_pred: npt.ArrayLike,
    classes: tuple[str, ...],
    *,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    random_state: int = 0,
) -> list[MetricComparison]:
    """Accuracy and per-class precision, recall and F1 of both models, with bootstrap intervals.

    Examples
    --------
    >>> truth = [0] * 80 + [1] * 20
    >>> reference = truth
    >>> candidate = [0] * 80 + [0] * 10 + [1] * 10  # half the spam gets through
    >>> rows = {r.label: r for r in compare_models(truth, reference, candidate, ("ham", "spam"))}
    >>> rows["recall of spam"].delta, rows["recall of spam"].delta_ci[1] < 0
    (-0.5, True)
    """
    from scipy import stats

    if isinstance(confidence, bool) or not isinstance(confidence, float) or not 0 < confidence < 1:
        raise fail("compare_models", "confidence", "a float in (0, 1)", confidence)
    check_positive_int("compare_models", "n_resamples", n_resamples)
    truth = np.asarray(y_true, dtype=np.int64)
    reference = np.asarray(reference_pred, dtype=np.int64)
    candidate = np.asarray(candidate_pred, dtype=np.int64)
    if not truth.shape == reference.shape == candidate.shape or truth.ndim != 1:
        raise DataError("The holdout labels and both models' predictions must be flat arrays of one length.")
    if truth.size < 2:
        raise DataError("Comparing models needs a holdout of at least two messages.")
    k = len(classes)

    def statistic(
        y: npt.NDArray[np.int64], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], axis: int = -1
    ) -> npt.NDArray[np.float64]:
        ref, cand = _metric_table(y, a, k, axis), _metric_table(y, b, k, axis)
        return np.concatenate([ref, cand, cand - ref])

    point = statistic(truth, reference, candidate)
    result = stats.bootstrap(
        (truth, reference, candidate),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(random_state),
    )
    low, high = result.confidence_interval.low, result.confidence_interval.high
    names: list[tuple[str, str | None]] = [("accuracy", None)]
    names += [(metric, cls) for cls in classes for metric in METRICS]
    m = len(names)
    out = []
    for i, (metric, cls) in enumerate(names):
        out.append(
            MetricComparison(
                metric=metric,
                cls=cls,
                reference=float(point[i]),
                candidate=float(point[m + i]),
                delta=float(point[2 * m + i]),
                reference_ci=(float(low[i]), float(high[i])),
                candidate_ci=(float(low[m + i]), float(high[m + i])),
                delta_ci=(float(low[2 * m + i]), float(high[2 * m + i])),
            )
        )
    return out
