"""Drift statistics, windows over a stream, constant memory."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from poisonlab import ParameterError
from poisonlab.monitoring.baseline import Baseline
from poisonlab.monitoring.drift import (
    DriftMonitor,
    DriftThresholds,
    binned,
    compare_window,
    monitor_stream,
    population_stability_index,
    score_edges,
)
from poisonlab.monitoring.records import RecordBatch, read_records

CLASSES = ("ham", "spam")


def make_baseline(rng: np.random.Generator, n: int = 2000, spam: float = 0.13) -> Baseline:
    labels = (rng.random(n) < spam).astype(int)
    scores = np.where(labels == 1, rng.normal(8, 3, n), rng.normal(-8, 3, n))
    return Baseline(classes=CLASSES, class_counts=tuple(np.bincount(labels, minlength=2)), scores=scores)


def window_of(
    rng: np.random.Generator, n: int, spam: float, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    labels = (rng.random(n) < spam).astype(int)
    scores = np.where(labels == 1, rng.normal(8, 3, n), rng.normal(-8, 3, n)) + shift
    return labels, scores


def batch(labels, scores=None, stamps=None) -> RecordBatch:
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.full(labels.size, np.nan) if scores is None else np.asarray(scores, dtype=np.float64)
    return RecordBatch(labels, scores, tuple(stamps) if stamps is not None else (None,) * labels.size)


@given(
    st.lists(st.integers(0, 500), min_size=2, max_size=12).flatmap(
        lambda a: st.tuples(st.just(a), st.lists(st.integers(0, 500), min_size=len(a), max_size=len(a)))
    )
)
def test_psi_is_the_symmetric_kl_divergence_of_the_smoothed_shares(pair):
    expected, actual = (np.asarray(x, dtype=float) for x in pair)
    p = (expected + 0.5) / (expected + 0.5).sum()
    q = (actual + 0.5) / (actual + 0.5).sum()
    reference = special.rel_entr(q, p).sum() + special.rel_entr(p, q).sum()
    psi = population_stability_index(expected, actual)
    assert psi == pytest.approx(reference, rel=1e-9, abs=1e-12)
    assert psi >= 0
    assert psi == pytest.approx(population_stability_index(actual, expected), rel=1e-9, abs=1e-12)


def test_score_bins_are_baseline_quantiles():
    values = np.arange(1000.0)
    edges = score_edges(values, 10)
    assert edges.size == 9
    assert binned(values, edges).tolist() == [100] * 10


def test_window_statistics_are_scipys():
    rng = np.random.default_rng(0)
    base = make_baseline(rng)
    labels, scores = window_of(rng, 500, 0.08, shift=1.0)
    out = compare_window(base, labels, scores)
    table = np.vstack([base.class_counts, np.bincount(labels, minlength=2)])
    chi = stats.chi2_contingency(table)
    ks = stats.ks_2samp(scores, base.scores)
    assert (out["chi2"], out["chi2_p"]) == (pytest.approx(chi.statistic), pytest.approx(chi.pvalue))
    assert (out["ks"], out["ks_p"]) == (pytest.approx(ks.statistic), pytest.approx(ks.pvalue))
    edges = score_edges(base.scores, 10)
    assert out["psi_scores"] == pytest.approx(
        population_stability_index(binned(base.scores, edges), binned(scores, edges))
    )
    assert out["class_counts"] == {"ham": int((labels == 0).sum()), "spam": int((labels == 1).sum())}
    assert out["n_scored"] == 500


def test_a_window_like_the_baseline_does_not_alarm():
    rng = np.random.default_rng(1)
    base = make_baseline(rng)
    out = compare_window(base, *window_of(rng, 500, 0.13))
    assert not out["alarm"] and out["reasons"] == ()


def test_a_drop_in_the_spam_share_alarms_on_the_class_counts():
    rng = np.random.default_rng(2)
    base = make_baseline(rng)
    out = compare_window(base, *window_of(rng, 500, 0.03))
    assert out["alarm"]
    assert out["chi2_p"] < DriftThresholds().alpha
    assert any(r.startswith("predicted-class shares moved: ham") for r in out["reasons"])


def test_a_score_shift_with_the_same_class_counts_alarms_on_ks_only():
    rng = np.random.default_rng(3)
    base = make_baseline(rng)
    labels = np.repeat([0, 1], [435, 65])
    scores = np.where(labels == 1, rng.normal(8, 3, 500), rng.normal(-8, 3, 500)) + 3.0
    out = compare_window(base, labels, scores)
    assert out["chi2_p"] > 0.05
    assert out["ks_p"] < 0.001
    assert any(r.startswith("score distribution moved") for r in out["reasons"])


def test_score_tests_need_enough_scores():
    rng = np.random.default_rng(4)
    base = make_baseline(rng)
    labels, scores = window_of(rng, 100, 0.13)
    scores[10:] = np.nan
    out = compare_window(base, labels, scores)
    assert out["n_scored"] == 10
    assert out["ks"] is None and out["ks_p"] is None and out["psi_scores"] is None


def test_tumbling_windows_positions_timestamps_and_a_partial_last_window():
    base = Baseline(classes=CLASSES, class_counts=(87, 13), scores=np.zeros(0))
    monitor = DriftMonitor(base, window=100)
    reports = monitor.update(batch(np.zeros(260, dtype=int), stamps=range(260)))
    reports += monitor.finish()
    assert [(r.start, r.end, r.partial) for r in reports] == [
        (0, 100, False),
        (100, 200, False),
        (200, 260, True),
    ]
    assert [(r.first_timestamp, r.last_timestamp) for r in reports] == [(0, 99), (100, 199), (200, 259)]
    assert [r.index for r in reports] == [0, 1, 2]
    short = DriftMonitor(base, window=100)
    assert short.update(batch(np.zeros(140, dtype=int))) and short.finish() == []  # 40 < half a window


def test_sliding_windows_start_every_step():
    base = Baseline(classes=CLASSES, class_counts=(87, 13), scores=np.zeros(0))
    monitor = DriftMonitor(base, window=100, step=25)
    reports = monitor.update(batch(np.zeros(200, dtype=int), stamps=range(200)))
    assert [(r.start, r.end) for r in reports] == [(0, 100), (25, 125), (50, 150), (75, 175), (100, 200)]
    assert reports[-1].first_timestamp == 100


@given(st.lists(st.integers(1, 120), min_size=1, max_size=30), st.integers(10, 60), st.integers(1, 60))
def test_batch_boundaries_do_not_change_the_windows(sizes, window, step):
    step = min(step, window)
    rng = np.random.default_rng(sum(sizes))
    base = make_baseline(rng, n=300)
    total = sum(sizes)
    labels, scores = window_of(rng, total, 0.2)
    whole = DriftMonitor(base, window=window, step=step)
    expected = whole.update(batch(labels, scores, range(total))) + whole.finish()
    pieces = DriftMonitor(base, window=window, step=step)
    got, at = [], 0
    for size in sizes:
        got += pieces.update(batch(labels[at : at + size], scores[at : at + size], range(at, at + size)))
        at += size
    got += pieces.finish()
    assert [r.to_dict() for r in got] == [r.to_dict() for r in expected]


def test_an_endless_stream_is_read_lazily_in_constant_memory():
    rng = np.random.default_rng(5)
    base = make_baseline(rng)
    consumed = 0

    def endless():
        nonlocal consumed
        for i in itertools.count():
            consumed += 1
            yield json.dumps(
                {"label": int(rng.random() < 0.13), "score": float(rng.normal()), "timestamp": i}
            )

    windows = monitor_stream(read_records(endless(), CLASSES, batch_size=100), base, window=200)
    first = list(itertools.islice(windows, 50))
    assert [w.end for w in first] == [200 * (i + 1) for i in range(50)]
    assert consumed <= 200 * 50 + 100  # nothing read ahead beyond one batch
    monitor = DriftMonitor(base, window=200)
    monitor.update(batch(np.zeros(100_000, dtype=int)))
    assert monitor._labels.size == monitor._scores.size == len(monitor._stamps) == 200


def test_window_reports_are_strict_json():
    rng = np.random.default_rng(6)
    base = make_baseline(rng)
    labels, _ = window_of(rng, 300, 0.13)
    (report,) = monitor_stream([batch(labels)], base, window=300)
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert document["window"] == 0 and document["n"] == 300 and document["ks"] is None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"window": 0}, "window"), ({"window": 10, "step": 11}, "step"), ({"window": 10, "step": 0}, "step")],
)
def test_bad_windows_are_refused(kwargs, name):
    base = Baseline(classes=CLASSES, class_counts=(1, 1), scores=np.zeros(0))
    with pytest.raises(ParameterError, match=f"'{name}' parameter of DriftMonitor"):
        DriftMonitor(base, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"psi": 0}, "psi"), ({"alpha": 0.0}, "alpha"), ({"bins": 1}, "bins")]
)
def test_bad_thresholds_are_refused(kwargs, name):
    with pytest.raises(ParameterError, match=f"'{name}' parameter of DriftThresholds"):
        DriftThresholds(**kwargs)
