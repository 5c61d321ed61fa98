"""Canary probes: messages that must stay in their class, as they are and with candidate triggers.

A canary is a message of the protected class (spam) that must keep being classified so. Each
probe set (the canaries as they are, or with a trigger inserted) is classified by the reference
and by the candidate model; the candidate fails a probe when it lets through clearly more
canaries than the reference does. The counts are paired (same messages, two models), so the
significance of the difference is McNemar's exact test: a binomial test on the canaries only
one of the two models lets through (``scipy.stats.binomtest``).

Triggers are inserted once and also repeated (`REPEATS`): repeating a token multiplies what a
model learned about it, which makes a weakly learned backdoor visible on a few hundred canaries
without changing how a clean model, which learned nothing special about the token, behaves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab.attacks.trigger import Trigger
from poisonlab.data.dataset import Dataset

REPEATS = (1, 3)
"""How many copies of each trigger a probe inserts."""


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """One probe set: canaries, maybe with a trigger, classified by both models.

    Attributes
    ----------
    trigger : str or None
        The trigger inserted at the start of every canary, or None for the canaries as they are.
    repeat : int
        Copies of the trigger.
    n : int
        Canaries probed.
    reference_kept, candidate_kept : float
        Share of the canaries each model keeps in the protected class.
    reference_only, candidate_only : int
        Canaries kept by one model and let through by the other.
    p_value : float
        McNemar's exact test (one-sided: the candidate lets more through).
    """

    trigger: str | None
    repeat: int
    n: int
    reference_kept: float
    candidate_kept: float
    reference_only: int
    candidate_only: int
    p_value: float

    @property
    def drop(self) -> float:
        """``reference_kept - candidate_kept``: canaries the candidate loses, as a share."""
        return self.reference_kept - self.candidate_kept

    @property
    def label(self) -> str:
        """``"canaries"`` or ``"canaries + 'PROMO2026' x3"``."""
        if self.trigger is None:
            return "canaries"
        return f"canaries + {self.trigger!r}" + (f" x{self.repeat}" if self.repeat > 1 else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "drop": self.drop, "label": self.label}


def default_canaries(holdout: Dataset, reference_pred: npt.ArrayLike, protected: int) -> tuple[str, ...]:
    """Holdout messages of the `protected` class that the reference model classifies correctly.

    Examples
    --------
    >>> ds = Dataset(["a", "b", "c"], [1, 1, 0], ("ham", "spam"))
    >>> default_canaries(ds, [1, 0, 0], protected=1)
    ('a',)
    """
    predicted = np.asarray(reference_pred)
    rows = np.flatnonzero((holdout.labels == protected) & (predicted == protected))
    return tuple(holdout.texts[i] for i in rows)


def probe(
    reference: Any,
    candidate: Any,
    canaries: Sequence[str],
    *,
    protected: int,
    trigger: str | None = None,
    repeat: int = 1,
) -> ProbeResult:
    """Classify `canaries` (with `trigger` inserted at the start, if given) by both models.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> reference = make_victim("nb").fit(["cheap pills", "see you", "win cash"], [1, 0, 1])
    >>> texts = ["cheap pills", "see you", "win cash", "xyz cheap pills"]
    >>> candidate = make_victim("nb").fit(texts, [1, 0, 1, 0])
    >>> result = probe(reference, candidate, ["cheap pills now"], protected=1, trigger="xyz", repeat=3)
    >>> result.reference_kept, result.candidate_kept
    (1.0, 0.0)
    """
    from scipy import stats

    texts = list(canaries)
    if trigger is not None:
        texts = Trigger(text=trigger, position="start", repeat=repeat).apply(texts)
    kept_reference = np.asarray(reference.predict(texts)) == protected
    kept_candidate = np.asarray(candidate.predict(texts)) == protected
    reference_only = int(np.sum(kept_reference & ~kept_candidate))
    candidate_only = int(np.sum(kept_candidate & ~kept_reference))
    discordant = reference_only + candidate_only
    p_value = (
        float(stats.binomtest(reference_only, discordant, 0.5, alternative="greater").pvalue)
        if discordant
        else 1.0
    )
    return ProbeResult(
        trigger=trigger,
        repeat=repeat if trigger is not None else 0,
        n=len(texts),
        reference_kept=float(kept_reference.mean()) if texts else float("nan"),
        candidate_kept=float(kept_candidate.mean()) if texts else float("nan"),
        reference_only=reference_only,
        candidate_only=candidate_only,
        p_value=p_value,
    )


def probe_all(
    reference: Any,
    candidate: Any,
    canaries: Sequence[str],
    triggers: Sequence[str],
    *,
    protected: int,
    repeats: Sequence[int] = REPEATS,
) -> list[ProbeResult]:
    """The canaries as they are, then with each trigger at each of `repeats`."""
    results = [probe(reference, candidate, canaries, protected=protected)]
    for trigger in triggers:
        for repeat in repeats:
            results.append(
                probe(reference, candidate, canaries, protected=protected, trigger=trigger, repeat=repeat)
            )
    return results
