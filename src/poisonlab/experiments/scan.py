"""`scan`: run the detectors suited to a dataset and gather what they found, with a verdict.

Every registered detector runs with its defaults (the victim, features and seed given here
replace the defaults of detectors that take them). A detector that offers
``findings(dataset)`` (see `poisonlab.detectors.findings`) or ``flag(dataset)`` decides its own
flags; for any other, the scan flags its robust outliers (modified z-score above 3.5, Iglewicz &
Hoaglin 1993). A detector that offers ``suspected_triggers(dataset)`` contributes triggers, and
``floods(dataset)`` near-duplicate floods. With the ``is_poison`` ground truth, every detector
is scored against it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab import metrics
from poisonlab._errors import DataError, ParameterError
from poisonlab._params import fail
from poisonlab.data.dataset import Dataset
from poisonlab.detectors import DETECTORS, Detector, Findings
from poisonlab.detectors.base import check_scores
from poisonlab.experiments.findings import (
    LEVELS,
    Finding,
    flood_finding,
    label_flip_findings,
    trigger_finding,
    verdict_of,
    word_list_share,
    word_ranks,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

LABEL_ISSUE_TARGET = "label_flip"
LEAD_LABEL_DETECTOR = "iterative_relabel"
"""The label-issue detector every corroborated label issue needs (with one more): measured
most precise on both bundled corpora (`python bench/detect_quality.py`), where two-of-any
flagged 1.3-1.4 % of clean rows and this rule 0.1-0.6 % (see the README's detection table)."""
OUTLIER_Z = 3.5
MIN_ALARM_ROWS = 3
_COMMONNESS_SAMPLE = 20_000
"""Messages outside floods whose `word_list_share` a flood's is compared with (a seeded sample
above this many: the statistic is a maximum, so a larger sample only raises the bar)."""
"""Fewest corroborated label issues that can make poisoning likely: on a tiny dataset one
disputed row is already a large share, and is better reviewed than alarmed on."""


@dataclasses.dataclass(frozen=True)
class DetectionQuality:
    """A detector scored against the ground truth: its flags, and its scores at every threshold."""

    precision: float
    recall: float
    f1: float
    auroc: float
    average_precision: float

    @classmethod
    def measure(cls, is_poison: BoolArray, scores: FloatArray, flags: BoolArray) -> DetectionQuality:
        """Precision, recall and F1 of `flags`; AUROC and average precision of `scores`."""
        return cls(
            metrics.detection_precision(is_poison, flags),
            metrics.detection_recall(is_poison, flags),
            metrics.detection_f1(is_poison, flags),
            metrics.auroc(is_poison, scores),
            metrics.average_precision(is_poison, scores),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class DetectorRun:
    """One detector's output on the scanned data.

    `own_flags` tells whether `flags` come from the detector's own rule or from the scan's
    outlier rule on its scores.
    """

    name: str
    params: dict[str, Any]
    targets: tuple[str, ...]
    scores: FloatArray
    flags: BoolArray
    reasons: tuple[str, ...]
    own_flags: bool
    seconds: float
    quality: DetectionQuality | None

    @property
    def n_flagged(self) -> int:
        """Rows flagged."""
        return int(self.flags.sum())


@dataclasses.dataclass(frozen=True)
class SuspectedTrigger:
    """A token or phrase a detector suspects of being a backdoor trigger.

    `rows` carry it; `explained_rows` are labelled against their text because of it (when the
    detector says); `p_value` and `context_p_value` are the detector's, when it gives them
    (NaN otherwise).
    """

    text: str
    score: float
    rows: tuple[int, ...]
    label: str | None
    detector: str
    p_value: float = float("nan")
    explained_rows: tuple[int, ...] = ()
    context_p_value: float = float("nan")
    eligible_rows: int = 0
    expected_share: float = float("nan")


@dataclasses.dataclass(frozen=True)
class SuspiciousRow:
    """A row a finding names: its finding's kind and level, and every reason, the finding's first."""

    row: int
    id: str
    text: str
    label: str
    score: float
    detectors: tuple[str, ...]
    reasons: tuple[str, ...]
    finding: str = ""
    level: str = ""


@dataclasses.dataclass(frozen=True)
class FloodSummary:
    """A near-duplicate flood: rows, shared label, example text, and what the rest of the data
    says of it: `rest_agrees` of its rows get its label from a Naive Bayes trained without the
    whole flood (exact, by count arithmetic), whose most frequent answer is `rest_label`."""

    rows: tuple[int, ...]
    label: str
    example: str
    other_labels: int
    rest_label: str
    rest_agrees: int
    contradiction: float = float("nan")
    """Median over its rows of the log-odds, by that Naive Bayes, of the best other class over
    the flood's label, per word of the row (a Naive Bayes log-odds is a sum over words: per word,
    long and short messages compare): above 0 the rest of the data reads the flood as another class."""

    @property
    def contradicted(self) -> bool:
        """Whether most of its rows get another label from the rest of the data."""
        return self.rest_agrees * 2 < len(self.rows)


@dataclasses.dataclass(frozen=True, eq=False)
class ScanReport:
    """Everything `scan` found. `level` is one of `LEVELS`; `verdict` is one line for people."""

    data: str
    n_rows: int
    counts: dict[str, int]
    ids: tuple[str, ...]
    runs: tuple[DetectorRun, ...]
    skipped: tuple[tuple[str, str], ...]
    triggers: tuple[SuspectedTrigger, ...]
    floods: tuple[FloodSummary, ...]
    label_issues: tuple[int, ...]
    findings: tuple[Finding, ...]
    flood_null: FloatArray
    suspicious: tuple[SuspiciousRow, ...]
    level: str
    verdict: str
    is_poison: BoolArray | None
    ranking: _Ranking
    seconds: float
    settings: dict[str, Any]

    @property
    def has_ground_truth(self) -> bool:
        """Whether the data carried an ``is_poison`` column."""
        return self.is_poison is not None

    def flag_table(self) -> dict[str, list[Any]]:
        """Every row the findings name, most suspicious first, as columns: ``id``, ``row``
        (position in the data), ``label``, ``finding`` (its kind), ``level``, ``confidence``
        (None where the level follows a stated rule) and ``reasons`` (most informative first,
        joined by " | ")."""
        table: dict[str, list[Any]] = {
            key: [] for key in ("id", "row", "label", "finding", "level", "confidence", "reasons")
        }
        for row in self.ranking.rows.tolist():
            finding = self.ranking.finding_of[row]
            table["id"].append(self.ids[row])
            table["row"].append(row)
            table["label"].append(finding.target)
            table["finding"].append(finding.kind)
            table["level"].append(finding.level)
            table["confidence"].append(None if np.isnan(finding.false_alarm) else finding.confidence)
            table["reasons"].append(" | ".join(self.ranking.why(row)[1]))
        return table

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per scanned row: ``id``, ``flagged``, ``finding``,
        ``level``, ``confidence``, ``reason`` (the most informative), each detector's score as
        ``score_<detector>``, and ``is_poison`` when the data had it.

        Examples
        --------
        >>> from poisonlab.data import load_dataset
        >>> frame = scan(load_dataset("article"), detectors=["nb_influence"]).to_frame()
        >>> list(frame.columns)[:4], len(frame)
        (['id', 'flagged', 'finding', 'level'], 14)
        """
        import pandas as pd

        flags = self.flag_table()
        at = dict(zip(flags["row"], range(len(flags["row"]))))
        columns: dict[str, Any] = {
            "id": list(self.ids),
            "flagged": [row in at for row in range(self.n_rows)],
        }
        for key, name in (("finding", "finding"), ("level", "level"), ("confidence", "confidence")):
            columns[name] = [flags[key][at[row]] if row in at else None for row in range(self.n_rows)]
        columns["reason"] = [
            flags["reasons"][at[row]].split(" | ")[0] if row in at else None for row in range(self.n_rows)
        ]
        for run in self.runs:
            columns[f"score_{run.name}"] = run.scores
        if self.is_poison is not None:
            columns["is_poison"] = self.is_poison
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with every detector's score for every row."""
        return {
            "data": self.data,
            "n_rows": self.n_rows,
            "counts": self.counts,
            "settings": self.settings,
            "level": self.level,
            "verdict": self.verdict,
            "seconds": self.seconds,
            "ground_truth": None
            if self.is_poison is None
            else {"n_poison": int(self.is_poison.sum()), "rows": np.flatnonzero(self.is_poison).tolist()},
            "detectors": [
                {
                    "name": run.name,
                    "params": run.params,
                    "targets": list(run.targets),
                    "own_flags": run.own_flags,
                    "n_flagged": run.n_flagged,
                    "seconds": run.seconds,
                    "quality": None if run.quality is None else dataclasses.asdict(run.quality),
                    "flagged_rows": np.flatnonzero(run.flags).tolist(),
                    "scores": run.scores.tolist(),
                }
                for run in self.runs
            ],
            "skipped": [{"name": name, "reason": reason} for name, reason in self.skipped],
            "triggers": [dataclasses.asdict(t) | {"rows": list(t.rows)} for t in self.triggers],
            "floods": [dataclasses.asdict(f) | {"rows": list(f.rows)} for f in self.floods],
            "label_issues": list(self.label_issues),
            "findings": [finding.to_dict() for finding in self.findings],
            "flagged": self.flag_table(),
            "suspicious": [
                dataclasses.asdict(s) | {"detectors": list(s.detectors), "reasons": list(s.reasons)}
                for s in self.suspicious
            ],
            "ids": list(self.ids),
        }


def default_detectors(
    *, victim: str = "nb", features: str = "count", random_state: int = 0, names: Sequence[str] | None = None
) -> list[Detector]:
    """Every registered detector (or those `names`), built with its defaults, with the given
    seed for those that take one and the given victim and features for the label-issue detectors
    (backdoor detectors keep their own victim: spectral signatures and activation clustering
    need logistic-regression weights, see `poisonlab.detectors.representation`).

    Examples
    --------
    >>> [d.get_params()["victim"] for d in default_detectors(
    ...     victim="svm", names=["confident_learning", "spectral_signature"])]
    ['svm', 'logreg']
    """
    chosen = list(DETECTORS.names()) if names is None else list(dict.fromkeys(names))
    built = []
    for name in chosen:
        cls = DETECTORS.get(name)
        fields = {f.name for f in dataclasses.fields(cls)}
        given: dict[str, Any] = {"random_state": random_state}
        if LABEL_ISSUE_TARGET in cls.targets:
            given |= {"victim": victim, "features": features}
        built.append(cls(**{k: v for k, v in given.items() if k in fields}))
    return built


def outlier_flags(scores: FloatArray) -> BoolArray:
    """Rows whose modified z-score (median and MAD) exceeds 3.5 (Iglewicz & Hoaglin 1993).

    Where the MAD is 0 the mean absolute deviation stands in for it; all-equal scores flag nothing.

    Examples
    --------
    >>> outlier_flags(np.array([1.0, 1.1, 0.9, 1.0, 9.0])).tolist()
    [False, False, False, False, True]
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    center = np.median(values)
    spread = np.median(np.abs(values - center))
    if spread > 0:
        z = 0.6745 * (values - center) / spread
    else:
        mean_deviation = np.mean(np.abs(values - center))
        if mean_deviation == 0:
            return np.zeros(values.size, dtype=bool)
        z = (values - center) / (1.253314 * mean_deviation)
    return np.asarray(z > OUTLIER_Z, dtype=bool)


def _run(detector: Detector, dataset: Dataset, is_poison: BoolArray | None) -> DetectorRun:
    start = time.perf_counter()
    own = True
    if hasattr(detector, "findings"):
        found = detector.findings(dataset)
        if not isinstance(found, Findings):
            raise TypeError(f"{detector.name}.findings must return Findings, not {type(found).__name__}")
        scores, flags, reasons = check_scores(found.scores, dataset), found.flags, found.reasons
    else:
        scores = check_scores(detector.score(dataset), dataset)
        if hasattr(detector, "flag"):
            flags = np.asarray(detector.flag(dataset), dtype=bool)
        else:
            flags, own = outlier_flags(scores), False
        reasons = tuple(
            (f"{detector.name} score {s:.3g} ({'its own rule' if own else 'an outlier among all rows'})")
            if f
            else ""
            for f, s in zip(flags.tolist(), scores.tolist())
        )
    seconds = time.perf_counter() - start
    quality = None if is_poison is None else DetectionQuality.measure(is_poison, scores, flags)
    return DetectorRun(
        name=detector.name,
        params=detector.get_params(),
        targets=tuple(detector.targets),
        scores=scores,
        flags=np.asarray(flags, dtype=bool),
        reasons=tuple(reasons),
        own_flags=own,
        seconds=seconds,
        quality=quality,
    )


def _field(item: Any, *names: str) -> Any:
    for name in names:
        if isinstance(item, dict) and name in item:
            return item[name]
        if hasattr(item, name):
            return getattr(item, name)
    return None


def _as_trigger(item: Any, detector: str, dataset: Dataset) -> SuspectedTrigger:
    """Read a suspected trigger from a detector's own record (an object, dict or tuple)."""
    if isinstance(item, (tuple, list)) and item and isinstance(item[0], str):
        text, score = item[0], item[1] if len(item) > 1 else float("nan")
        rows: Any = item[2] if len(item) > 2 else ()
        label: Any = None
        p_value: Any = None
        explained: Any = None
        context: Any = None
        eligible: Any = None
        expected: Any = None
    else:
        text = _field(item, "text", "trigger", "ngram", "token", "phrase")
        score = _field(item, "score", "suspicion", "statistic")
        rows = _field(item, "rows", "row_indices", "carriers")
        label = _field(item, "label", "target", "target_class", "class_")
        p_value = _field(item, "p_value", "pvalue")
        explained = _field(item, "explained_rows")
        context = _field(item, "context_p_value")
        eligible = _field(item, "eligible_rows")
        expected = _field(item, "expected_share")
    if isinstance(text, (tuple, list)):
        text = " ".join(str(t) for t in text)
    label_name = dataset.classes[int(label)] if isinstance(label, (int, np.integer)) else label
    rows_t = tuple(int(r) for r in np.asarray(rows if rows is not None else (), dtype=np.int64).ravel())
    return SuspectedTrigger(
        str(text),
        float(score) if score is not None else float("nan"),
        rows_t,
        label_name,
        detector,
        float(p_value) if p_value is not None else float("nan"),
        tuple(int(r) for r in np.asarray(explained if explained is not None else (), dtype=np.int64).ravel()),
        float(context) if context is not None else float("nan"),
        int(eligible) if eligible is not None else 0,
        float(expected) if expected is not None else float("nan"),
    )


def scan(
    dataset: Dataset | Any,
    *,
    victim: str = "nb",
    features: str = "count",
    random_state: int = 0,
    detectors: Sequence[str] | None = None,
    is_poison: npt.ArrayLike | None = None,
    alarm_rate: float = 0.02,
    top: int = 20,
    workers: int = 1,
    scheduler: str | None = None,
) -> ScanReport:
    """Run the detectors on `dataset`; collect triggers, floods, label issues, suspicious rows.

    Parameters
    ----------
    dataset : Dataset or pandas.DataFrame
        A DataFrame's text and label columns are found by their names (``text``, ``message``,
        ... and ``label``, ``class``, ...; `poisonlab.data.frames.dataset_from_frame` takes
        others), and its ``is_poison`` column, if any, is the ground truth.
    victim, features : str
        The victim (and its features) the label-issue detectors train out of fold.
    random_state : int
        Seed for detectors that take one.
    detectors : sequence of str, optional
        Registered detector names to run; all of them by default.
    is_poison : array-like of bool, optional
        Ground truth, one flag per row: every detector is then scored against it.
    alarm_rate : float
        Share of rows with corroborated label issues (flagged by at least two label-issue
        detectors, or by the only one that ran) at which the verdict says poisoning is likely
        (when they are at least `MIN_ALARM_ROWS` rows).
    top : int
        Suspicious rows kept in the report (all flagged rows are ranked; the first `top` kept).
    workers : int
        Processes running detectors side by side (forked after the words are counted, so they
        share the counts; where the platform cannot fork, detectors run one after another).
        The report is the same for any number of workers.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``): each detector then runs
        as one task on the cluster's workers (the data is sent to them once), `workers` unused.
        The report is the same as a local run's.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> report = scan(load_dataset("article"), detectors=["knn_labels", "nb_influence"])
    >>> [run.name for run in report.runs], report.level in LEVELS
    (['knn_labels', 'nb_influence'], True)
    """
    if isinstance(alarm_rate, bool) or not isinstance(alarm_rate, (int, float)) or not 0 < alarm_rate <= 1:
        raise fail("scan", "alarm_rate", "a float in (0, 1]", alarm_rate)
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise fail("scan", "top", "an int >= 0", top)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise fail("scan", "workers", "an int >= 1", workers)
    if not isinstance(dataset, Dataset):
        from poisonlab.data.frames import dataset_from_frame

        dataset, in_frame = dataset_from_frame(dataset)
        is_poison = in_frame if is_poison is None else is_poison
    if len(dataset) == 0:
        raise DataError("There is nothing to scan: the dataset has no rows.")
    truth = None
    if is_poison is not None:
        truth = np.asarray(is_poison, dtype=bool)
        if truth.shape != (len(dataset),):
            raise DataError(
                f"The ground truth needs one is_poison flag per row: {truth.size} for {len(dataset)}."
            )
    start = time.perf_counter()
    chosen = default_detectors(victim=victim, features=features, random_state=random_state, names=detectors)
    runs: list[DetectorRun] = []
    skipped: list[tuple[str, str]] = []
    triggers: list[SuspectedTrigger] = []
    floods: list[FloodSummary] = []
    summarised: set[str] = set()  # detectors whose flags are already told as triggers or floods
    if scheduler is not None:
        outcomes = _dask_outcomes(chosen, dataset, truth, scheduler)
    else:
        outcomes = _outcomes(chosen, dataset, truth, workers)
    for detector, outcome in zip(chosen, outcomes):
        if outcome.error is not None:  # unsuited to this data: say why, run the rest
            if detectors is not None and len(chosen) == 1:
                raise outcome.error
            skipped.append((detector.name, str(outcome.error)))
            continue
        assert outcome.run is not None
        runs.append(outcome.run)
        triggers.extend(outcome.triggers)
        if outcome.summarised:
            summarised.add(detector.name)
        if outcome.floods:
            floods.extend(_judge_floods(dataset, outcome.floods))
    label_issues = _label_issues(runs)
    outlier_only = {
        run.name for run in runs if LABEL_ISSUE_TARGET not in run.targets and run.name not in summarised
    }
    findings, flood_null = _findings(dataset, triggers, floods, label_issues, alarm_rate)
    ranking = _Ranking.of(len(dataset), runs, outlier_only, findings)
    suspicious, n_suspicious = _rank(dataset, ranking, top), int(ranking.rows.size)
    level, verdict = verdict_of(findings, len(runs))
    return ScanReport(
        data=dataset.name or "data",
        n_rows=len(dataset),
        counts=dataset.counts(),
        ids=dataset.ids,
        runs=tuple(runs),
        skipped=tuple(skipped),
        triggers=tuple(triggers),
        floods=tuple(floods),
        label_issues=label_issues,
        findings=tuple(findings),
        flood_null=flood_null,
        suspicious=tuple(suspicious),
        level=level,
        verdict=verdict,
        is_poison=truth,
        ranking=ranking,
        seconds=time.perf_counter() - start,
        settings={
            "victim": victim,
            "features": features,
            "random_state": random_state,
            "alarm_rate": alarm_rate,
            "n_suspicious": n_suspicious,
        },
    )


@dataclasses.dataclass(frozen=True, eq=False)
class _Outcome:
    """What one detector gave: its run, triggers and raw floods, or the error that skipped it."""

    run: DetectorRun | None = None
    triggers: tuple[SuspectedTrigger, ...] = ()
    floods: tuple[Any, ...] = ()
    summarised: bool = False
    error: DataError | ParameterError | None = None


def _outcome(detector: Detector, dataset: Dataset, truth: BoolArray | None) -> _Outcome:
    """One detector's outcome, computed with one BLAS/OpenMP thread: sums then add up in one
    order, so the report is the same to the last bit in this process, a forked worker (the
    workers already use every core between them) or a Dask worker."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _outcome_of(detector, dataset, truth)


def _outcome_of(detector: Detector, dataset: Dataset, truth: BoolArray | None) -> _Outcome:
    try:
        run = _run(detector, dataset, truth)
        found = detector.suspected_triggers(dataset) if hasattr(detector, "suspected_triggers") else ()
        return _Outcome(
            run=run,
            triggers=tuple(_as_trigger(item, detector.name, dataset) for item in found),
            floods=tuple(detector.floods(dataset)) if hasattr(detector, "floods") else (),
            summarised=hasattr(detector, "suspected_triggers") or hasattr(detector, "floods"),
        )
    except (DataError, ParameterError) as error:
        return _Outcome(error=error)


_FORKED: tuple[Sequence[Detector], Dataset, BoolArray | None] | None = None
"""What forked workers read instead of receiving it pickled: the detectors, the data, the truth."""


def _forked_outcome(index: int) -> _Outcome:
    assert _FORKED is not None
    chosen, dataset, truth = _FORKED
    return _outcome(chosen[index], dataset, truth)


def _outcomes(
    chosen: Sequence[Detector], dataset: Dataset, truth: BoolArray | None, workers: int
) -> list[_Outcome]:
    """Every detector's outcome, in the order of `chosen`; side by side in forked processes when
    `workers` > 1 (longest-running detectors first, so the workers finish together)."""
    import multiprocessing

    from poisonlab.detectors.word_counts import word_counts

    workers = min(workers, len(chosen))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [_outcome(detector, dataset, truth) for detector in chosen]
    global _FORKED
    word_counts(dataset, workers=workers)  # counted once here; the forked workers inherit it
    order = _slowest_first(chosen)
    _FORKED = (chosen, dataset, truth)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            found = dict(zip(order, pool.imap(_forked_outcome, order, chunksize=1)))
    finally:
        _FORKED = None
    return [found[i] for i in range(len(chosen))]


def _dask_outcomes(
    chosen: Sequence[Detector], dataset: Dataset, truth: BoolArray | None, address: str
) -> list[_Outcome]:
    """Every detector's outcome, each computed as one task on a Dask cluster."""
    from poisonlab.experiments.dask_client import dask_client

    with dask_client(address) as client:
        shared = client.scatter(dataset, broadcast=True)
        futures = {
            i: client.submit(_outcome, chosen[i], shared, truth, pure=False) for i in _slowest_first(chosen)
        }
        return [futures[i].result() for i in range(len(chosen))]


_EXPECTED_COST = {
    "iterative_relabel": 30.0,
    "knn_labels": 10.0,
    "trigger_mining": 8.0,
    "duplicate_flood": 6.0,
    "activation_clustering": 2.5,
    "confident_learning": 2.0,
    "spectral_signature": 1.0,
    "nb_influence": 1.0,
}
"""Relative run time of the registered detectors on a large corpus (`bench/scale.py`), used only
to start the slowest first; an unlisted detector counts as 1."""


def _slowest_first(chosen: Sequence[Detector]) -> list[int]:
    """Positions in `chosen`, the detectors expected to run longest first (`_EXPECTED_COST`)."""
    return sorted(range(len(chosen)), key=lambda i: -_EXPECTED_COST.get(chosen[i].name, 1.0))


def _judge_floods(dataset: Dataset, found: Sequence[Any]) -> list[FloodSummary]:
    """Ask a Naive Bayes trained on everything but each flood what the flood's rows are."""
    from poisonlab.detectors.nb_influence import leave_groups_out_joint
    from poisonlab.detectors.word_counts import word_counts

    if not found:
        return []
    counts = word_counts(dataset).rows()
    words = np.maximum(np.asarray(counts.sum(axis=1)).ravel(), 1.0)
    groups = [np.asarray(flood.rows, dtype=np.int64) for flood in found]
    judgements = leave_groups_out_joint(counts, dataset.labels, groups, len(dataset.classes))
    judged = []
    for flood, rows, joint in zip(found, groups, judgements):
        guess = joint.argmax(axis=1)
        common = int(np.bincount(guess, minlength=len(dataset.classes)).argmax())
        against = np.full(rows.size, int(flood.label))
        judged.append(
            FloodSummary(
                rows=tuple(rows.tolist()),
                label=dataset.classes[flood.label],
                example=dataset.texts[int(rows[0])],
                other_labels=int(flood.other_labels),
                rest_label=dataset.classes[common],
                rest_agrees=int((guess == flood.label).sum()),
                contradiction=float(np.median(contradiction_per_word(joint, against, words[rows]))),
            )
        )
    return judged


def contradiction_per_word(joint: FloatArray, labels: IntArray, words: FloatArray) -> FloatArray:
    """Per row, the log-odds of the best other class over its label (`log_odds_against`; 0 where
    no class is left to compare), per word of the row: a Naive Bayes log-odds is a sum over
    words, so long and short messages compare.

    Examples
    --------
    >>> joint = np.log(np.array([[0.9, 0.1], [0.2, 0.8]]))
    >>> contradiction_per_word(joint, np.array([1, 1]), np.array([2.0, 1.0])).round(2).tolist()
    [1.1, -1.39]
    """
    from poisonlab.detectors.nb_influence import log_odds_against

    return np.asarray(np.nan_to_num(log_odds_against(joint, labels), nan=0.0) / words, dtype=np.float64)


def _label_issues(runs: Sequence[DetectorRun]) -> tuple[int, ...]:
    """Rows flagged by `LEAD_LABEL_DETECTOR` and at least one other label-issue detector; when
    it did not run, by at least two (or by the only one that ran)."""
    label_runs = [run for run in runs if LABEL_ISSUE_TARGET in run.targets and run.own_flags]
    if not label_runs:
        return ()
    votes = np.sum([run.flags for run in label_runs], axis=0)
    needed = min(2, len(label_runs))
    agreed = votes >= needed
    lead = next((run for run in label_runs if run.name == LEAD_LABEL_DETECTOR), None)
    if lead is not None:
        agreed &= lead.flags
    return tuple(int(r) for r in np.flatnonzero(agreed))


def corroborated_flags(runs: Sequence[DetectorRun], outlier_only: set[str]) -> dict[str, BoolArray]:
    """Each run's flags, where an outlier-only detector's flag counts only on a row that a
    detector with a decision rule of its own (triggers, floods, label issues) also flags.

    Spectral signatures and activation clustering say a row is unusual, not that it is poison:
    on clean corpora their outliers are a fifth to a third of the rows. They corroborate.

    Examples
    --------
    >>> def run(name, flags):
    ...     return DetectorRun(name, {}, (), np.zeros(3), np.array(flags, bool), ("",) * 3, True, 0.0, None)
    >>> found = corroborated_flags([run("a", [1, 0, 0]), run("b", [1, 1, 0])], {"b"})
    >>> found["b"].tolist()
    [True, False, False]
    """
    decided = [run.flags for run in runs if run.name not in outlier_only]
    backed = np.logical_or.reduce(decided) if decided else np.zeros(runs[0].flags.size, dtype=bool)
    return {run.name: run.flags & backed if run.name in outlier_only else run.flags for run in runs}


@dataclasses.dataclass(frozen=True, eq=False)
class _Ranking:
    """The rows the findings name, most suspicious first, and why each is named.

    Rows of a "poisoning likely" finding come before rows of a "review suggested" one; within a
    level, rows rank by the sum, over flagging detectors, of the row's score percentile within
    that detector (so agreeing detectors and extreme scores rank high); outlier-only detectors
    count where another detector flags the row too (`corroborated_flags`)."""

    rows: IntArray
    finding_of: dict[int, Finding]
    combined: FloatArray
    flags: dict[str, BoolArray]
    percentile: dict[str, FloatArray]
    runs: tuple[DetectorRun, ...]

    @classmethod
    def of(
        cls, n: int, runs: Sequence[DetectorRun], outlier_only: set[str], findings: Sequence[Finding]
    ) -> _Ranking:
        flags = corroborated_flags(runs, outlier_only) if runs else {}
        combined = np.zeros(n)
        percentile: dict[str, FloatArray] = {}
        for run in runs:
            if flags[run.name].any():  # a score's percentile: the share of scores at or below it
                percentile[run.name] = np.searchsorted(np.sort(run.scores), run.scores, side="right") / n
                combined += flags[run.name] * percentile[run.name]
        finding_of: dict[int, Finding] = {}
        for finding in sorted(findings, key=lambda f: -LEVELS.index(f.level)):
            for row in finding.rows:
                finding_of.setdefault(int(row), finding)
        rows = np.fromiter(finding_of, dtype=np.int64, count=len(finding_of))
        strength = np.array([LEVELS.index(finding_of[int(r)].level) for r in rows.tolist()], dtype=np.float64)
        rows = rows[np.lexsort((rows, -combined[rows], -strength))]
        return cls(rows, finding_of, combined, flags, percentile, tuple(runs))

    def why(self, row: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The detectors flagging `row`, surest first, and its reasons, most informative first:
        a label issue is best told by the detector most sure of it, a trigger or flood by itself."""
        flagging = sorted(
            (run for run in self.runs if self.flags[run.name][row]),
            key=lambda run: -self.percentile[run.name][row],
        )
        finding = self.finding_of[row]
        own = [f"{run.name}: {run.reasons[row] or 'flagged'}" for run in flagging]
        lead = (
            own[:1] if finding.kind == "label_flip" and own else [finding.row_reason or finding.evidence[0]]
        )
        return tuple(run.name for run in flagging), (*lead, *(reason for reason in own if reason not in lead))


def _rank(dataset: Dataset, ranking: _Ranking, top: int) -> list[SuspiciousRow]:
    """The `top` rows of `ranking`, each with its text, finding and reasons."""
    ranked = []
    for row in ranking.rows[:top].tolist():
        detectors, reasons = ranking.why(row)
        finding = ranking.finding_of[row]
        ranked.append(
            SuspiciousRow(
                row=row,
                id=dataset.ids[row],
                text=dataset.texts[row],
                label=dataset.classes[int(dataset.labels[row])],
                score=float(ranking.combined[row]),
                detectors=detectors,
                reasons=reasons,
                finding=finding.kind,
                level=finding.level,
            )
        )
    return ranked


def _findings(
    dataset: Dataset,
    triggers: Sequence[SuspectedTrigger],
    floods: Sequence[FloodSummary],
    label_issues: Sequence[int],
    alarm_rate: float,
) -> tuple[list[Finding], FloatArray]:
    """Typed findings (see `poisonlab.experiments.findings`): triggers, contradicted floods
    (named a dictionary attack when their messages are word lists) and label flipping by
    direction, each row named by the first finding that claims it; and the floods' null
    (per-word log-odds against their label of the messages outside floods; empty when no flood
    was contradicted)."""
    from poisonlab.detectors.nb_influence import best_other, leave_one_out_joint
    from poisonlab.detectors.word_counts import word_counts

    null = np.zeros(0)
    if not (triggers or any(f.contradicted for f in floods) or label_issues):
        return [], null
    counted = word_counts(dataset)
    matrix = counted.rows()
    labels = dataset.labels
    joint = leave_one_out_joint(matrix, labels, len(dataset.classes))
    reads_as = best_other(joint, labels)  # each row's most likely class other than its label
    found: list[Finding] = []
    for trigger in triggers:
        explained = np.asarray(trigger.explained_rows or trigger.rows, dtype=np.int64)
        source = (
            dataset.classes[int(np.bincount(reads_as[explained], minlength=len(dataset.classes)).argmax())]
            if explained.size
            else None
        )
        finding = trigger_finding(trigger, source)
        if finding is not None:
            found.append(finding)
    if floods:
        in_flood = np.zeros(labels.size, dtype=bool)
        for flood in floods:
            in_flood[list(flood.rows)] = True
        alone = np.flatnonzero(~in_flood)
        _, first = np.unique(counted.text_of_row[alone], return_index=True)  # one row per distinct text
        length = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1.0)
        others = alone[first]
        null = contradiction_per_word(joint[others], labels[others], length[others])
        flooded = sum(len(flood.rows) for flood in floods)
        contradicted = [flood for flood in floods if flood.contradicted]
        if contradicted:
            binary = (matrix > 0).astype(np.float64).tocsr()
            sample = np.random.default_rng(0).permutation(others)[:_COMMONNESS_SAMPLE]
            rank = word_ranks(binary)  # once: every share below counts against the same ranks
            usual = float(word_list_share(binary, np.sort(sample), rank).max()) if sample.size else np.inf
        for flood in contradicted:
            share = float(np.median(word_list_share(binary, np.asarray(flood.rows, dtype=np.int64), rank)))
            finding = flood_finding(flood, null, flooded / len(flood.rows), share > usual)
            if finding is not None:
                found.append(finding)
    claimed = {row for finding in found for row in finding.rows}
    rest = [row for row in label_issues if row not in claimed]
    found.extend(label_flip_findings(rest, reads_as, labels, dataset.classes, alarm_rate, MIN_ALARM_ROWS))
    return found, null if any(f.contradicted for f in floods) else np.zeros(0)


__all__ = [
    "LEVELS",
    "DetectionQuality",
    "DetectorRun",
    "Finding",
    "FloodSummary",
    "ScanReport",
    "SuspectedTrigger",
    "SuspiciousRow",
    "corroborated_flags",
    "default_detectors",
    "outlier_flags",
    "scan",
]
