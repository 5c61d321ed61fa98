"""Prediction drift: windows of a production stream compared with a healthy `Baseline`.

Each window of predictions is compared with the baseline three ways:

* the predicted-class shares: a chi-square test of homogeneity on the class counts (window vs
  baseline, ``scipy.stats.chi2_contingency``) and their population stability index (PSI);
* the score distribution: a two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``) and
  the PSI over ten bins cut at the baseline's score deciles.

A window alarms when a p-value falls below `DriftThresholds.alpha` or a PSI exceeds
`DriftThresholds.psi`. The stream is read once, through a ring buffer of one window, so memory
stays constant however long it runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail
from poisonlab.monitoring.baseline import Baseline
from poisonlab.monitoring.records import RecordBatch
from poisonlab.monitoring.thresholds import DEFAULT_WINDOW, DriftThresholds

__all__ = [
    "DEFAULT_WINDOW",
    "DriftMonitor",
    "DriftThresholds",
    "WindowReport",
    "binned",
    "compare_window",
    "monitor_stream",
    "population_stability_index",
    "score_edges",
]


def population_stability_index(
    expected_counts: npt.ArrayLike, actual_counts: npt.ArrayLike, *, smoothing: float = 0.5
) -> float:
    """PSI = sum over bins of (actual share - expected share) * ln(actual share / expected share).

    Shares come from counts with `smoothing` added to every bin, so an empty bin gives a large
    but finite index. Written by hand: neither SciPy nor scikit-learn provides the PSI.

    Examples
    --------
    >>> round(population_stability_index([50, 50], [50, 50]), 6)
    0.0
    >>> round(population_stability_index([87, 13], [96, 4]), 3)  # spam share 13 % -> 4 %
    0.107
    """
    expected = np.asarray(expected_counts, dtype=np.float64) + smoothing
    actual = np.asarray(actual_counts, dtype=np.float64) + smoothing
    p, q = expected / expected.sum(), actual / actual.sum()
    return float(np.sum((q - p) * np.log(q / p)))


def score_edges(scores: npt.ArrayLike, bins: int) -> npt.NDArray[np.float64]:
    """Inner bin edges at the quantiles of `scores` (duplicates merged).

    Examples
    --------
    >>> score_edges(np.arange(10.0), 2).tolist()
    [4.5]
    """
    values = np.asarray(scores, dtype=np.float64)
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def binned(values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Counts of `values` in the bins that `edges` cut."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)


@dataclasses.dataclass(frozen=True)
class WindowReport:
    """One window of the stream compared with the baseline.

    `start` and `end` are stream positions (0-based, end exclusive). Statistics that could
    not be computed (too few scores, a single class in both samples) are None.
    """

    index: int
    start: int
    end: int
    partial: bool
    first_timestamp: object
    last_timestamp: object
    class_counts: dict[str, int]
    class_shares: dict[str, float]
    baseline_shares: dict[str, float]
    psi_classes: float
    chi2: float | None
    chi2_p: float | None
    n_scored: int
    psi_scores: float | None
    ks: float | None
    ks_p: float | None
    alarm: bool
    reasons: tuple[str, ...]

    @property
    def n(self) -> int:
        """Messages in the window."""
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with `n`."""
        fields = dataclasses.asdict(self)
        del fields["index"]
        return {"window": self.index, "n": self.n, **fields, "reasons": list(self.reasons)}


def compare_window(
    baseline: Baseline,
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    thresholds: DriftThresholds | None = None,
) -> dict[str, Any]:
    """The drift statistics of one window and why it alarms (empty `reasons`: no alarm).

    Examples
    --------
    >>> base = Baseline(classes=("ham", "spam"), class_counts=(870, 130), scores=np.linspace(-5, 5, 1000))
    >>> out = compare_window(base, [0] * 480 + [1] * 20, np.linspace(-5, 5, 500))
    >>> out["chi2_p"] < 0.001, out["ks_p"] > 0.5
    (True, True)
    >>> out["reasons"][0]
    'predicted-class shares moved: ham 96.0% (baseline 87.0%), spam 4.0% (baseline 13.0%); chi-square p = ...'
    """
    from scipy import stats

    thresholds = thresholds or DriftThresholds()
    classes = baseline.classes
    predicted = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(predicted, minlength=len(classes))[: len(classes)]
    shares = counts / max(int(counts.sum()), 1)
    base_counts = np.asarray(baseline.class_counts)
    reasons: list[str] = []
    psi_classes = population_stability_index(base_counts, counts)
    chi2 = chi2_p = None
    present = (counts + base_counts) > 0
    if present.sum() >= 2 and counts.sum() > 0:
        table = np.vstack([base_counts[present], counts[present]])
        result = stats.chi2_contingency(table)
        chi2, chi2_p = float(result.statistic), float(result.pvalue)
    moved = ", ".join(
        f"{name} {share:.1%} (baseline {base:.1%})"
        for name, share, base in zip(classes, shares, baseline.shares())
    )
    if chi2_p is not None and chi2_p < thresholds.alpha:
        reasons.append(
            f"predicted-class shares moved: {moved}; chi-square p = {chi2_p:.2g} < {thresholds.alpha:g}"
        )
    if psi_classes > thresholds.psi:
        reasons.append(f"predicted-class PSI {psi_classes:.3f} > {thresholds.psi:g}: {moved}")
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    psi_scores = ks = ks_p = None
    if values.size >= thresholds.min_scores and baseline.scores.size >= thresholds.min_scores:
        edges = score_edges(baseline.scores, thresholds.bins)
        psi_scores = population_stability_index(binned(baseline.scores, edges), binned(values, edges))
        result = stats.ks_2samp(values, baseline.scores)
        ks, ks_p = float(result.statistic), float(result.pvalue)
        median, base_median = float(np.median(values)), float(np.median(baseline.scores))
        if ks_p < thresholds.alpha:
            reasons.append(
                f"score distribution moved: median {median:+.2f} (baseline {base_median:+.2f}), "
                f"KS D = {ks:.3f}, p = {ks_p:.2g} < {thresholds.alpha:g}"
            )
        if psi_scores > thresholds.psi:
            reasons.append(f"score PSI {psi_scores:.3f} > {thresholds.psi:g}")
    return {
        "class_counts": {name: int(c) for name, c in zip(classes, counts)},
        "class_shares": {name: float(s) for name, s in zip(classes, shares)},
        "baseline_shares": {name: float(s) for name, s in zip(classes, baseline.shares())},
        "psi_classes": psi_classes,
        "chi2": chi2,
        "chi2_p": chi2_p,
        "n_scored": int(values.size),
        "psi_scores": psi_scores,
        "ks": ks,
        "ks_p": ks_p,
        "alarm": bool(reasons),
        "reasons": tuple(reasons),
    }


class DriftMonitor:
    """Windows over a stream of predictions, each compared with `baseline` as it completes.

    Windows hold `window` messages and start every `step` messages (``step == window``:
    back-to-back windows; smaller: overlapping ones). Memory is one window, whatever the
    stream's length.

    Examples
    --------
    >>> from poisonlab.monitoring.records import RecordBatch
    >>> base = Baseline(classes=("ham", "spam"), class_counts=(87, 13), scores=np.zeros(0))
    >>> monitor = DriftMonitor(base, window=100)
    >>> batch = RecordBatch(np.array([0] * 87 + [1] * 13 + [0] * 100), np.full(200, np.nan), (None,) * 200)
    >>> [(w.start, w.end, w.alarm) for w in monitor.update(batch)]
    [(0, 100, False), (100, 200, True)]
    """

    def __init__(
        self,
        baseline: Baseline,
        *,
        window: int = DEFAULT_WINDOW,
        step: int | None = None,
        thresholds: DriftThresholds | None = None,
    ) -> None:
        check_positive_int("DriftMonitor", "window", window)
        step = window if step is None else step
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= window:
            raise fail("DriftMonitor", "step", f"an int in [1, window={window}]", step)
        self.baseline = baseline
        self.window = window
        self.step = step
        self.thresholds = thresholds or DriftThresholds()
        self._labels = np.zeros(window, dtype=np.int64)
        self._scores = np.full(window, np.nan)
        self._stamps: list[object] = [None] * window
        self._count = 0
        self._next = window
        self._evaluated_to = 0
        self._index = 0

    @property
    def count(self) -> int:
        """Messages seen so far."""
        return self._count

    def update(self, batch: RecordBatch) -> list[WindowReport]:
        """Add a batch; return the windows it completed, in order."""
        done: list[WindowReport] = []
        i = 0
        while i < len(batch):
            take = min(len(batch) - i, self._next - self._count)
            slots = (self._count + np.arange(take)) % self.window
            self._labels[slots] = batch.labels[i : i + take]
            self._scores[slots] = batch.scores[i : i + take]
            for slot, stamp in zip(slots.tolist(), batch.timestamps[i : i + take]):
                self._stamps[slot] = stamp
            self._count += take
            i += take
            if self._count == self._next:
                done.append(self._evaluate())
                self._next += self.step
        return done

    def finish(self) -> list[WindowReport]:
        """At the end of the stream: the window under way, if it holds half a window or more.

        It starts where the next full window would have started, so with back-to-back windows
        it holds only messages no window has compared yet.
        """
        start = max(self._next - self.window, 0)
        if self._count > self._evaluated_to and self._count - start >= max(1, self.window // 2):
            return [self._evaluate(start=start, partial=True)]
        return []

    def _evaluate(self, *, start: int | None = None, partial: bool = False) -> WindowReport:
        start = self._count - min(self._count, self.window) if start is None else start
        slots = np.arange(start, self._count) % self.window
        stats = compare_window(self.baseline, self._labels[slots], self._scores[slots], self.thresholds)
        report = WindowReport(
            index=self._index,
            start=start,
            end=self._count,
            partial=partial,
            first_timestamp=self._stamps[int(slots[0])],
            last_timestamp=self._stamps[int(slots[-1])],
            **stats,
        )
        self._index += 1
        self._evaluated_to = self._count
        return report


def monitor_stream(
    batches: Iterable[RecordBatch],
    baseline: Baseline,
    *,
    window: int = DEFAULT_WINDOW,
    step: int | None = None,
    thresholds: DriftThresholds | None = None,
) -> Iterator[WindowReport]:
    """Every window of the stream, compared with `baseline`, as soon as it completes.

    Examples
    --------
    >>> from poisonlab.monitoring.records import read_records
    >>> base = Baseline(classes=("ham", "spam"), class_counts=(9, 1), scores=np.zeros(0))
    >>> lines = ['{"label": "ham"}'] * 9 + ['{"label": "spam"}']
    >>> [w.alarm for w in monitor_stream(read_records(lines, base.classes), base, window=10)]
    [False]
    """
    monitor = DriftMonitor(baseline, window=window, step=step, thresholds=thresholds)
    for batch in batches:
        yield from monitor.update(batch)
    yield from monitor.finish()
