"""Typed findings: what kind of poisoning a scan found, on which rows, how sure, and why.

A scan's detectors give scores, flags, suspected triggers and near-duplicate floods. A
`Finding` turns that into something a person can act on: its kind (a backdoor trigger, label
flipping from one class to another, a near-duplicate flood, a dictionary attack), the rows it
names, its evidence in plain words, and an estimate of how often clean data like this would
produce a finding this strong (`false_alarm`), computed from the data itself:

- backdoor trigger: the trigger test's p-value, Bonferroni-adjusted over every word, n-gram and
  target class tested, with the rows where the trigger stands among the same words (a
  template, a footer) counted once (see `poisonlab.detectors.trigger_mining`); the larger of the
  per-row and per-context values;
- near-duplicate flood: a flood is one template, so it is as surprising as one message labelled
  against the rest of the data as strongly: the share of the data's other distinct messages
  whose leave-one-out Naive Bayes contradicts their label at least as strongly (log-odds per
  word), counted as ``(1 + k) / (1 + n)``; adjusted for the floods tested by weighted
  Bonferroni, each flood weighted by its rows (a flood's weight is fixed by its texts, not its
  labels, and a large flood moves a model most): times ``flooded rows / the flood's rows``.
  A contradicted flood whose messages are lists of the data's commonest words (`word_list_share`
  above that of every other message) is named a dictionary attack;
- label flipping: no null distribution separates planted flips from a corpus's natural label
  noise (both are rows a model reads as another class), so its level follows a stated rule
  instead: corroborated label issues in one direction of at least ``alarm_rate`` of the rows
  (default 2 %) make poisoning likely; fewer ask for review. Its `false_alarm` is NaN.

Levels follow one stated rule for every estimate: at most `LIKELY_FALSE_ALARM` (1 %) makes
poisoning likely, at most `REVIEW_FALSE_ALARM` (10 %) suggests review, and a weaker finding is
not reported.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KINDS = {
    "backdoor_trigger": "backdoor trigger",
    "label_flip": "label flipping",
    "flood": "near-duplicate flood",
    "dictionary": "dictionary attack",
}
"""Finding kinds and how people read them."""
LEVELS = ("no evidence of poisoning", "review suggested", "poisoning likely")
LIKELY_FALSE_ALARM = 0.01
REVIEW_FALSE_ALARM = 0.1


@dataclasses.dataclass(frozen=True)
class Finding:
    """One kind of poisoning a scan found.

    Attributes
    ----------
    kind : str
        A key of `KINDS`.
    level : str
        ``"poisoning likely"`` or ``"review suggested"``.
    summary : str
        One line for people.
    rows : tuple of int
        The rows it names (positions in the scanned data), most telling first.
    false_alarm : float
        Estimated chance that clean data like this gives a finding at least this strong
        (NaN where the level follows a stated rule instead; see the module docstring).
    evidence : tuple of str
        Why, in plain words, most informative first.
    source, target : str or None
        The class the rows read as, and the label they carry.
    trigger : str or None
        For a backdoor trigger, the token or phrase.
    row_reason : str
        What each of its rows is told: one short sentence (the evidence's first line when empty).

    Examples
    --------
    >>> f = Finding("backdoor_trigger", LEVELS[2], "trigger 'cf'", (3, 7), 1e-9, ("45 of 45 rows",))
    >>> round(f.confidence, 6), f.to_dict()["kind"]
    (1.0, 'backdoor_trigger')
    """

    kind: str
    level: str
    summary: str
    rows: tuple[int, ...]
    false_alarm: float
    evidence: tuple[str, ...]
    source: str | None = None
    target: str | None = None
    trigger: str | None = None
    row_reason: str = ""

    @property
    def confidence(self) -> float:
        """``1 - false_alarm`` (NaN where the level follows a stated rule)."""
        return 1.0 - self.false_alarm

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN becomes None)."""
        out = dataclasses.asdict(self) | {"rows": list(self.rows), "evidence": list(self.evidence)}
        if math.isnan(self.false_alarm):
            out["false_alarm"] = None
        out["confidence"] = None if out["false_alarm"] is None else self.confidence
        return out


def level_of(false_alarm: float) -> str | None:
    """The level a false-alarm estimate earns, or None when it is too weak to report.

    Examples
    --------
    >>> level_of(1e-5), level_of(0.05), level_of(0.5)
    ('poisoning likely', 'review suggested', None)
    """
    if false_alarm <= LIKELY_FALSE_ALARM:
        return LEVELS[2]
    if false_alarm <= REVIEW_FALSE_ALARM:
        return LEVELS[1]
    return None


def empirical_false_alarm(strength: float, null: FloatArray, tests: float) -> float:
    """``tests * (1 + k) / (1 + n)``, capped at 1: `k` of the `n` null strengths are at least
    `strength` (the permutation-test estimate, Bonferroni over `tests`, which may be a weighted
    share of tests).

    Examples
    --------
    >>> empirical_false_alarm(5.0, np.array([0.0, 1.0, 6.0]), 2)
    1.0
    >>> empirical_false_alarm(5.0, np.zeros(999), 2)
    0.002
    """
    values = np.asarray(null, dtype=np.float64)
    at_least = int(np.count_nonzero(values >= strength))
    return float(min(1.0, tests * (1 + at_least) / (1 + values.size)))


def trigger_finding(trigger: Any, source: str | None) -> Finding | None:
    """A backdoor-trigger finding from a scan's suspected trigger, or None if too weak."""
    false_alarm = float(np.fmax(trigger.p_value, trigger.context_p_value))  # NaN only where both are
    if math.isnan(false_alarm):
        return None
    level = level_of(false_alarm)
    if level is None:
        return None
    explained = tuple(getattr(trigger, "explained_rows", ()) or trigger.rows)
    rows = trigger.rows if len(explained) * 2 > len(trigger.rows) else explained
    reads = (
        f" though the rest of their text reads {source!r}" if source else " against the rest of their text"
    )
    return Finding(
        kind="backdoor_trigger",
        level=level,
        summary=f"backdoor trigger {trigger.text!r}: {len(explained)} rows labelled {trigger.label!r}{reads}",
        rows=tuple(rows),
        false_alarm=false_alarm,
        evidence=(
            f"carries {trigger.text!r}: {len(explained)} of the {len(trigger.rows)} rows carrying it are "
            f"labelled {trigger.label!r}{reads}; chance in clean data ≤ {false_alarm:.1g}",
        ),
        source=source,
        target=trigger.label,
        trigger=trigger.text,
        row_reason=f"carries {trigger.text!r}, a suspected trigger (chance if clean ≤ {false_alarm:.1g})",
    )


def flood_finding(flood: Any, null: FloatArray, tests: float, word_list: bool) -> Finding | None:
    """A flood or dictionary-attack finding from a contradicted flood, or None if too weak.

    `tests` is the flood's Bonferroni multiplier; `word_list` whether its messages are made of
    the data's commonest words (see the module docstring)."""
    if not flood.contradicted:
        return None
    false_alarm = empirical_false_alarm(flood.contradiction, null, tests)
    level = level_of(false_alarm)
    if level is None:
        return None
    rows = tuple(flood.rows)
    kind = "dictionary" if word_list else "flood"
    what = "word-list messages" if word_list else "near-copies of one message"
    contradicting = len(rows) - flood.rest_agrees
    return Finding(
        kind=kind,
        level=level,
        summary=(
            f"{KINDS[kind]}: {len(rows)} {what} labelled {flood.label!r}; the rest of the data reads "
            f"{contradicting} of them as {flood.rest_label!r}"
        ),
        rows=rows,
        false_alarm=false_alarm,
        evidence=(
            f"one of {len(rows)} {what} labelled {flood.label!r} that a model trained on the rest of the "
            f"data reads as {flood.rest_label!r} (log-odds {flood.contradiction:.2f} a word); chance in "
            f"clean data ≤ {false_alarm:.1g}",
        ),
        source=flood.rest_label,
        target=flood.label,
        row_reason=(
            f"one of {len(rows)} {what} labelled {flood.label!r} that the rest of the data reads as "
            f"{flood.rest_label!r} (chance if clean ≤ {false_alarm:.1g})"
        ),
    )


def word_ranks(binary: Any) -> FloatArray:
    """Each word's rank by the rows carrying it, 0 for the commonest (ties in column order)."""
    frequency = np.asarray(binary.sum(axis=0), dtype=np.float64).ravel()
    rank = np.empty(frequency.size)
    rank[np.argsort(-frequency, kind="stable")] = np.arange(frequency.size)
    return rank


def word_list_share(binary: Any, rows: IntArray, rank: FloatArray | None = None) -> FloatArray:
    """Per row, the share of its distinct words that are among the data's commonest words,
    counting twice as many of those (by the rows carrying them) as the row holds: near 1 for a
    list of a vocabulary's top words (Nelson et al.'s dictionary messages), well under it for
    written text, which mixes common and rare words.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> binary = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [1, 0, 0, 0, 1], [1, 1, 0, 0, 0], [0, 1, 1, 1, 0]]))
    >>> word_list_share(binary, np.array([0, 1])).tolist()
    [1.0, 0.5]
    """
    rank = word_ranks(binary) if rank is None else rank
    out = np.zeros(rows.size)
    for i, row in enumerate(rows.tolist()):
        words = binary.indices[binary.indptr[row] : binary.indptr[row + 1]]
        out[i] = float(np.mean(rank[words] < 2 * words.size)) if words.size else 0.0
    return out


def label_flip_findings(
    rows: Sequence[int],
    reads_as: IntArray,
    labels: IntArray,
    classes: Sequence[str],
    alarm_rate: float,
    min_rows: int,
) -> list[Finding]:
    """Label-flipping findings, one per direction (reads as -> labelled), biggest first."""
    n = labels.size
    chosen = np.asarray(rows, dtype=np.int64)
    found = []
    for source in range(len(classes)):
        for target in range(len(classes)):
            if source == target:
                continue
            mine = chosen[(reads_as[chosen] == source) & (labels[chosen] == target)]
            if not mine.size:
                continue
            likely = mine.size >= max(min_rows, alarm_rate * n)
            found.append(
                Finding(
                    kind="label_flip",
                    level=LEVELS[2] if likely else LEVELS[1],
                    summary=(
                        f"label flipping {classes[source]!r} -> {classes[target]!r}: {mine.size} rows "
                        f"({mine.size / n:.1%}) labelled {classes[target]!r} read as {classes[source]!r}"
                    ),
                    rows=tuple(mine.tolist()),
                    false_alarm=math.nan,
                    evidence=(
                        f"labelled {classes[target]!r}, reads as {classes[source]!r} to two or more "
                        f"label-issue detectors, as {mine.size / n:.1%} of rows do ("
                        + ("over" if likely else "under")
                        + f" the {alarm_rate:.0%} of rows that natural label noise is allowed)",
                    ),
                    source=classes[source],
                    target=classes[target],
                )
            )
    return sorted(found, key=lambda f: -len(f.rows))


def verdict_of(findings: Sequence[Finding], n_detectors: int) -> tuple[str, str]:
    """The scan's level and one-line verdict from its findings.

    Examples
    --------
    >>> verdict_of([], 7)[1]
    'no evidence of poisoning: 7 detectors found no trigger, contradicted flood or label issue'
    """
    if not n_detectors:
        return LEVELS[0], f"{LEVELS[0]}: no detector could run on this data"
    if not findings:
        return LEVELS[0], (
            f"{LEVELS[0]}: {n_detectors} detectors found no trigger, contradicted flood or label issue"
        )
    level = max((f.level for f in findings), key=LEVELS.index)
    ordered = sorted(findings, key=lambda f: (-LEVELS.index(f.level), -len(f.rows)))
    return level, f"{level}: " + "; ".join(f.summary for f in ordered[:4]) + (
        f"; and {len(ordered) - 4} more findings" if len(ordered) > 4 else ""
    )


__all__ = [
    "KINDS",
    "LEVELS",
    "LIKELY_FALSE_ALARM",
    "REVIEW_FALSE_ALARM",
    "Finding",
    "empirical_false_alarm",
    "flood_finding",
    "label_flip_findings",
    "level_of",
    "trigger_finding",
    "verdict_of",
    "word_list_share",
    "word_ranks",
]
