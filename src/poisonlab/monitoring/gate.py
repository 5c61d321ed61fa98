"""The deploy gate: A/B test a candidate model against the deployed reference before it ships.

Three checks on clean data, each with a threshold (`GateThresholds`):

1. **Holdout metrics.** Accuracy (CACC) and per-class precision, recall and F1 of both models on
   a clean holdout, with paired bootstrap confidence intervals (`compare_models`). The
   candidate fails when a metric drops by more than `max_drop` and the whole interval of the
   drop lies below zero.
2. **Prediction agreement.** The share of holdout messages both models classify alike must be
   at least `min_agreement`.
3. **Canary probes.** Messages that must stay in the protected class (spam): the holdout's spam
   the reference catches, or the user's own. They are probed as they are and with each
   candidate trigger mined from the candidate's training data (`mine_gate_triggers`), once and
   repeated. The candidate fails a probe when it lets through more than `max_canary_drop` of
   the canaries beyond what the reference lets through, and McNemar's exact test puts that
   below ``1 - confidence``.

A targeted label flip shows up in the metrics and the agreement; a backdoor barely moves
them and shows up in the trigger probes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from poisonlab._errors import DataError
from poisonlab._params import fail
from poisonlab.data.dataset import Dataset
from poisonlab.monitoring.canaries import ProbeResult, default_canaries, probe_all
from poisonlab.monitoring.compare import MetricComparison, compare_models
from poisonlab.monitoring.thresholds import GateThresholds

if TYPE_CHECKING:
    from poisonlab.detectors.trigger_mining import SuspectedTrigger

__all__ = ["Check", "GateReport", "GateThresholds", "mine_gate_triggers", "run_gate"]


@dataclasses.dataclass(frozen=True)
class Check:
    """One check of the gate and how it went."""

    name: str
    passed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class GateReport:
    """The gate's verdict, with the reasons and every figure behind it."""

    passed: bool
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    comparisons: tuple[MetricComparison, ...]
    agreement: float
    probes: tuple[ProbeResult, ...]
    triggers: tuple[SuspectedTrigger, ...]
    trigger_source: str
    canary_source: str
    n_holdout: int
    protected: str
    thresholds: GateThresholds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "verdict": "pass" if self.passed else "fail",
            "passed": self.passed,
            "reasons": list(self.reasons),
            "checks": [dataclasses.asdict(c) for c in self.checks],
            "n_holdout": self.n_holdout,
            "protected": self.protected,
            "agreement": self.agreement,
            "metrics": [c.to_dict() for c in self.comparisons],
            "canary_source": self.canary_source,
            "trigger_source": self.trigger_source,
            "triggers": [
                {
                    "token": t.token,
                    "target": t.target,
                    "rows": len(t.rows),
                    "explained_rows": len(t.explained_rows),
                    "p_value": t.p_value,
                }
                for t in self.triggers
            ],
            "probes": [p.to_dict() for p in self.probes],
            "thresholds": dataclasses.asdict(self.thresholds),
        }


def mine_gate_triggers(training_data: Dataset, protected: int, limit: int) -> tuple[SuspectedTrigger, ...]:
    """The significant suspected triggers of `training_data` that steer rows out of `protected`.

    Uses the `trigger_mining` detector (`poisonlab.detectors.TriggerMining`): tokens whose rows
    are labelled against the rest of their text, Bonferroni-adjusted p <= 0.01.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_train_test
    >>> train = load_train_test("sms_spam")[0].take(range(1500))
    >>> poisoned = Backdoor(trigger="PROMO2026", n=15).apply(train, random_state=0).poisoned
    >>> [t.token for t in mine_gate_triggers(poisoned, protected=1, limit=5)]
    ['promo2026']
    """
    from poisonlab.detectors.trigger_mining import TriggerMining

    found = TriggerMining().suspected_triggers(training_data)
    protected_name = training_data.classes[protected]
    return tuple(t for t in found if t.target != protected_name)[:limit]


def _pts(value: float) -> str:
    return f"{value * 100:+.1f} pts"


def run_gate(
    candidate: Any,
    reference: Any,
    holdout: Dataset,
    *,
    training_data: Dataset | None = None,
    canaries: Sequence[str] | None = None,
    protected: int | None = None,
    thresholds: GateThresholds | None = None,
    random_state: int = 0,
) -> GateReport:
    """Compare `candidate` with `reference` on clean data and decide whether it may ship.

    Parameters
    ----------
    candidate, reference : fitted victims
        Both predict class indices into ``holdout.classes``.
    holdout : Dataset
        Clean held-out messages neither model trained on.
    training_data : Dataset, optional
        The candidate's training data; candidate triggers are mined from it.
    canaries : sequence of str, optional
        Messages that must stay in the `protected` class; default: the holdout's messages of
        that class the reference classifies correctly.
    protected : int, optional
        The class canaries belong to; default the last (spam).
    thresholds : GateThresholds, optional
    random_state : int
        Seeds the bootstrap.

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.victims import make_victim
    >>> train, test = load_train_test("sms_spam")
    >>> reference = make_victim("nb").fit(list(train.texts), train.labels)
    >>> candidate = make_victim("nb").fit(list(train.texts[:4000]), train.labels[:4000])
    >>> run_gate(candidate, reference, test, thresholds=GateThresholds(n_resamples=200)).passed
    True
    """
    thresholds = thresholds or GateThresholds()
    classes = holdout.classes
    protected = len(classes) - 1 if protected is None else protected
    if not 0 <= protected < len(classes):
        raise fail("run_gate", "protected", f"a class index in [0, {len(classes) - 1}]", protected)
    if len(holdout) < 2:
        raise DataError("The gate needs a holdout of at least two messages.")
    if training_data is not None and training_data.classes != classes:
        raise DataError(
            f"The candidate's training data has classes {training_data.classes!r}, the holdout {classes!r}."
        )
    texts = list(holdout.texts)
    reference_pred = np.asarray(reference.predict(texts), dtype=np.int64)
    candidate_pred = np.asarray(candidate.predict(texts), dtype=np.int64)
    comparisons = compare_models(
        holdout.labels,
        reference_pred,
        candidate_pred,
        classes,
        confidence=float(thresholds.confidence),
        n_resamples=thresholds.n_resamples,
        random_state=random_state,
    )
    agreement = float(np.mean(reference_pred == candidate_pred))
    if canaries is None:
        canary_texts = default_canaries(holdout, reference_pred, protected)
        canary_source = f"holdout {classes[protected]} messages the reference catches"
    else:
        canary_texts = tuple(canaries)
        canary_source = "given"
    if not canary_texts:
        raise DataError(f"The gate has no canaries: no {classes[protected]!r} message to probe with.")
    if training_data is not None:
        triggers = mine_gate_triggers(training_data, protected, thresholds.max_triggers)
        trigger_source = "mined from the candidate's training data (trigger_mining detector)"
    else:
        triggers = ()
        trigger_source = "none: no candidate training data given"
    probes = probe_all(reference, candidate, canary_texts, [t.token for t in triggers], protected=protected)
    outcomes = [
        _metrics_check(comparisons, thresholds),
        _agreement_check(agreement, len(holdout), thresholds),
        _canary_check(probes, len(triggers), classes[protected], thresholds),
    ]
    checks = tuple(check for check, _ in outcomes)
    reasons = tuple(reason for _, found in outcomes for reason in found)
    return GateReport(
        passed=not reasons,
        reasons=reasons,
        checks=checks,
        comparisons=tuple(comparisons),
        agreement=agreement,
        probes=tuple(probes),
        triggers=triggers,
        trigger_source=trigger_source,
        canary_source=canary_source,
        n_holdout=len(holdout),
        protected=classes[protected],
        thresholds=thresholds,
    )


def _metrics_check(
    comparisons: list[MetricComparison], thresholds: GateThresholds
) -> tuple[Check, list[str]]:
    """Fail on every metric that dropped beyond `max_drop` with its whole interval below zero."""
    level = f"{thresholds.confidence:.0%} CI"
    losses = sorted(
        (c for c in comparisons if c.delta < -thresholds.max_drop and c.delta_ci[1] < 0),
        key=lambda c: c.delta,
    )
    reasons = [
        f"{c.label} fell from {c.reference:.1%} to {c.candidate:.1%} ({_pts(c.delta)}, {level} "
        f"[{_pts(c.delta_ci[0])}, {_pts(c.delta_ci[1])}]; limit -{thresholds.max_drop * 100:.1f} pts)"
        for c in losses
    ]
    worst = min(comparisons, key=lambda c: c.delta)
    detail = (
        f"{len(losses)} of {len(comparisons)} metrics dropped significantly; largest change: "
        f"{worst.label} {_pts(worst.delta)}"
    )
    return Check("holdout metrics", not losses, detail), reasons


def _agreement_check(agreement: float, n: int, thresholds: GateThresholds) -> tuple[Check, list[str]]:
    """Fail when the models classify fewer than `min_agreement` of the holdout alike."""
    agrees = agreement >= thresholds.min_agreement
    minimum = thresholds.min_agreement
    detail = f"the models agree on {agreement:.1%} of {n} holdout messages (minimum {minimum:.1%})"
    return Check("prediction agreement", agrees, detail), [] if agrees else [detail]


def _canary_check(
    probes: list[ProbeResult], n_triggers: int, protected: str, thresholds: GateThresholds
) -> tuple[Check, list[str]]:
    """Fail on every probe set the candidate loses beyond `max_canary_drop`, significantly."""
    alpha = 1 - thresholds.confidence
    failed = sorted(
        (p for p in probes if p.drop > thresholds.max_canary_drop and p.p_value < alpha),
        key=lambda p: -p.drop,
    )
    reasons = [
        f"{p.label}: the candidate keeps {p.candidate_kept:.1%} of {p.n} as {protected}, "
        f"the reference {p.reference_kept:.1%} ({_pts(-p.drop)}; "
        f"limit -{thresholds.max_canary_drop * 100:.1f} pts; McNemar p = {p.p_value:.2g})"
        for p in failed
    ]
    weakest = max(probes, key=lambda p: p.drop)
    detail = (
        f"{len(failed)} of {len(probes)} probe sets failed ({probes[0].n} canaries, "
        f"{n_triggers} candidate triggers); largest loss: {weakest.label} {_pts(-weakest.drop)}"
    )
    return Check("canary probes", not failed, detail), reasons
