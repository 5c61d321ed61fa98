"""What the monitor alarms on and what the deploy gate fails on: thresholds with their defaults.

Kept apart from the statistics (no NumPy or SciPy here) so the command line can show the
defaults in ``--help`` without importing them.
"""

from __future__ import annotations

import dataclasses

from poisonlab._params import check_positive_int, fail

DEFAULT_WINDOW = 500
"""Messages per monitoring window."""


def _check_fraction(owner: str, name: str, value: object, *, closed_low: bool) -> None:
    """Raise unless `value` is a number in [0, 1) (`closed_low`) or (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(owner, name, f"a float in {'[' if closed_low else '('}0, 1)", value)
    if not (value >= 0 if closed_low else value > 0) or not value < 1:
        raise fail(owner, name, f"a float in {'[' if closed_low else '('}0, 1)", value)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DriftThresholds:
    """When a monitoring window alarms.

    Parameters
    ----------
    psi : float
        Alarm above this population stability index (class shares or scores). 0.25 is the
        usual "significant shift" line of credit-scoring practice (Siddiqi 2006).
    alpha : float
        Alarm when the chi-square or KS p-value is below this. Small by default because a
        stream is tested window after window: 0.001 keeps false alarms rare.
    min_scores : int
        Fewest scored messages in a window for the score tests to run.
    bins : int
        Score bins for the PSI, cut at the baseline's quantiles.

    Examples
    --------
    >>> DriftThresholds(alpha=2.0)
    Traceback (most recent call last):
    ...
    poisonlab._errors.ParameterError: The 'alpha' parameter of DriftThresholds must be ... Got 2.0 instead.
    """

    psi: float = 0.25
    alpha: float = 0.001
    min_scores: int = 30
    bins: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.psi, bool) or not isinstance(self.psi, (int, float)) or not self.psi > 0:
            raise fail("DriftThresholds", "psi", "a float > 0", self.psi)
        _check_fraction("DriftThresholds", "alpha", self.alpha, closed_low=False)
        check_positive_int("DriftThresholds", "min_scores", self.min_scores)
        if isinstance(self.bins, bool) or not isinstance(self.bins, int) or self.bins < 2:
            raise fail("DriftThresholds", "bins", "an int >= 2", self.bins)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GateThresholds:
    """What a candidate model must meet to pass the deploy gate.

    Parameters
    ----------
    max_drop : float
        Largest tolerated drop of accuracy or of any per-class precision, recall or F1 (0.02:
        two percentage points), counted only when significant.
    confidence : float
        Confidence level of the bootstrap intervals and of the canary tests.
    min_agreement : float
        Least share of holdout messages both models must classify alike.
    max_canary_drop : float
        Largest tolerated share of canaries the candidate lets through beyond the reference.
    n_resamples : int
        Bootstrap resamples.
    max_triggers : int
        Most mined triggers probed.

    Examples
    --------
    >>> GateThresholds(max_drop=0.05).min_agreement
    0.97
    """

    max_drop: float = 0.02
    confidence: float = 0.95
    min_agreement: float = 0.97
    max_canary_drop: float = 0.05
    n_resamples: int = 1000
    max_triggers: int = 5

    def __post_init__(self) -> None:
        _check_fraction("GateThresholds", "max_drop", self.max_drop, closed_low=True)
        _check_fraction("GateThresholds", "max_canary_drop", self.max_canary_drop, closed_low=True)
        _check_fraction("GateThresholds", "confidence", self.confidence, closed_low=False)
        _check_fraction("GateThresholds", "min_agreement", self.min_agreement, closed_low=False)
        check_positive_int("GateThresholds", "n_resamples", self.n_resamples)
        check_positive_int("GateThresholds", "max_triggers", self.max_triggers)
