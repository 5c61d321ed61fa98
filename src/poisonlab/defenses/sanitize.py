"""`Sanitize`: remove (or down-weight) the rows detectors flag, then train."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import ParameterError
from poisonlab._params import check_choice, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses._training import fit_rows
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimLike, as_factory

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

RULES = ("own", "contamination", "count", "quantile")
ACTIONS = ("remove", "weight")


def parse_detector(spec: str) -> tuple[str, dict[str, Any]]:
    """A detector given as ``name`` or ``name:key=value,key=value``: its name and parameters.

    Values are read as JSON where they parse (``10``, ``0.5``, ``true``, ``null``, ``"x"``) and
    as text otherwise; hyphens in the name read as underscores.

    Examples
    --------
    >>> parse_detector("knn_labels:n_neighbors=10,weights=uniform")
    ('knn_labels', {'n_neighbors': 10, 'weights': 'uniform'})
    >>> parse_detector("trigger-mining")
    ('trigger_mining', {})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise fail("Sanitize", "detectors", "detector names, each 'name' or 'name:key=value,...'", spec)
    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise ParameterError(
                f"Detector {spec!r}: parameters are written key=value, separated by commas; got {item!r}."
            )
        try:
            params[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            params[key.strip()] = text.strip()
    return name.strip().replace("-", "_"), params


def build_detector(spec: str) -> Any:
    """The registered detector a `parse_detector` spec names, constructed (so validated)."""
    from poisonlab.detectors import DETECTORS

    name, params = parse_detector(spec)
    cls = DETECTORS.get(name)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ParameterError(
            f"Detector {name!r} has no parameter {unknown[0]!r}; "
            f"its parameters are: {', '.join(sorted(known))}."
        )
    return cls(**params)


def flag_rows(scores: npt.ArrayLike, rule: str, threshold: float) -> tuple[BoolArray, float]:
    """Flag rows by their suspicion scores; returns the flags and the lowest flagged score.

    ``contamination``: the ``round(threshold * rows)`` highest scores; ``count``: the
    `threshold` highest; ``quantile``: the scores above that quantile of all scores. A row
    with the lowest score of all is never flagged (detectors give it to rows they have
    nothing against); ties at the cut go to the earlier row.

    Examples
    --------
    >>> flags, cut = flag_rows([0.0, 0.9, 0.5, 0.0, 0.7], "count", 2)
    >>> flags.tolist(), cut
    ([False, True, False, False, True], 0.7)
    >>> flag_rows([0.0, 0.9, 0.5, 0.0, 0.7], "contamination", 0.8)[0].tolist()
    [False, True, True, False, True]
    """
    values = np.asarray(scores, dtype=np.float64)
    flags = np.zeros(values.size, dtype=bool)
    if values.size == 0:
        return flags, float("nan")
    eligible = values > values.min()
    if rule == "quantile":
        flags = eligible & (values > np.quantile(values, threshold))
    else:
        count = round(threshold * values.size) if rule == "contamination" else int(threshold)
        order = np.argsort(-values, kind="stable")
        flags[order[:count]] = True
        flags &= eligible
    cut = float(values[flags].min()) if flags.any() else float("nan")
    return flags, cut


def own_flags(detector: Any, dataset: Dataset) -> BoolArray:
    """The rows a detector flags by its own decision rule (its ``findings`` or ``flag``)."""
    if hasattr(detector, "findings"):
        return np.asarray(detector.findings(dataset).flags, dtype=bool)
    return np.asarray(detector.flag(dataset), dtype=bool)


@DEFENSES.register("sanitize")
@dataclasses.dataclass(frozen=True, kw_only=True)
class Sanitize(Defense):
    """Sanitize and retrain: drop (or down-weight) the rows any named detector flags, then train.

    Each detector flags training rows: by default with its own decision rule (``rule="own"``:
    trigger mining's significant triggers, tested against the data's own null rate;
    iterative relabelling's confident-learning flags), or by a share, count or quantile of
    its scores (`flag_rows`). A row flagged by any detector is removed, or, with
    ``action="weight"``, trained with weight `flagged_weight` (victims whose classifier takes
    ``sample_weight``; a Pipeline's is passed as ``classifier__sample_weight``). The defaults,
    ``trigger_mining`` and ``iterative_relabel`` by their own rules, remove what the data shows
    of a backdoor and of flipped labels, however much of it there is, and little of clean data;
    ``duplicate_flood`` adds floods of near-copies, ``spectral_signature`` and
    ``activation_clustering`` outliers (with a share: they have no rule of their own).

    Parameters
    ----------
    detectors : tuple of str
        Registered detectors, each ``name`` or ``name:key=value,...`` with its parameters
        (e.g. ``knn_labels:n_neighbors=10``).
    rule : {"own", "contamination", "count", "quantile"}
        How each detector's flags are chosen: its own decision rule, its top `threshold` share
        of rows (the expected contamination), its top `threshold` rows, or its scores above the
        `threshold` quantile.
    threshold : float
        The rule's value (unused with ``"own"``): a rate in (0, 1), a whole number of rows >= 0,
        or a quantile in (0, 1).
    action : {"remove", "weight"}
        Drop flagged rows, or train on them with weight `flagged_weight`.
    flagged_weight : float
        Weight of a flagged row with ``action="weight"``, in [0, 1).

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_train_test
    >>> train, _ = load_train_test("sms_spam")
    >>> poisoned = Backdoor(trigger="zqx", n=15).apply(train.take(range(1500)), random_state=0)
    >>> defense = Sanitize(detectors=("trigger_mining",), rule="count", threshold=20)
    >>> defended = defense.fit(poisoned.poisoned, "nb")
    >>> int(defended.removed.sum()), int((defended.removed & poisoned.is_poison).sum())
    (20, 15)
    """

    name: ClassVar[str] = "sanitize"
    paper: ClassVar[str] = (
        "Cretu, Stavrou, Locasto, Stolfo & Keromytis (2008), Casting out Demons: Sanitizing "
        "Training Data for Anomaly Sensors, IEEE S&P; Steinhardt, Koh & Liang (2017), Certified "
        "Defenses for Data Poisoning Attacks, NeurIPS (data sanitization defenses)."
    )

    detectors: tuple[str, ...] = ("trigger_mining", "iterative_relabel")
    rule: str = "own"
    threshold: float = 0.01
    action: str = "remove"
    flagged_weight: float = 0.1

    def __post_init__(self) -> None:
        freeze_sequences(self)
        if isinstance(self.detectors, str) or not isinstance(self.detectors, tuple) or not self.detectors:
            raise fail("Sanitize", "detectors", "a non-empty sequence of detector names", self.detectors)
        for spec in self.detectors:
            detector = build_detector(spec)
            if self.rule == "own" and not (hasattr(detector, "findings") or hasattr(detector, "flag")):
                raise ParameterError(
                    f"Detector {spec!r} has no decision rule of its own; give Sanitize a rule "
                    "('contamination', 'count' or 'quantile') and a threshold."
                )
        check_choice("Sanitize", "rule", self.rule, RULES)
        check_choice("Sanitize", "action", self.action, ACTIONS)
        value = self.threshold
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.rule == "own":
            pass
        elif self.rule == "count":
            if not is_number or value < 0 or float(value) != int(value):
                raise fail("Sanitize", "threshold", "a whole number of rows >= 0 with rule='count'", value)
        elif not is_number or not 0 < value < 1:
            raise fail("Sanitize", "threshold", f"a float in (0, 1) with rule={self.rule!r}", value)
        weight = self.flagged_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1:
            raise fail("Sanitize", "flagged_weight", "a float in [0, 1)", weight)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default, a share, a row count with two detectors, and quantile down-weighting."""
        return [
            cls(),
            cls(detectors=("trigger_mining",), rule="contamination", threshold=0.01),
            cls(detectors=("trigger_mining", "duplicate_flood"), rule="count", threshold=3),
            cls(detectors=("knn_labels:n_neighbors=5",), rule="quantile", threshold=0.9, action="weight"),
        ]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Score `dataset` with every detector, flag, drop or down-weight, and train `victim`."""
        factory = as_factory(victim, random_state=random_state)
        flagged = np.zeros(len(dataset), dtype=bool)
        report: dict[str, Any] = {}
        for spec in self.detectors:
            detector = build_detector(spec)
            if self.rule == "own":
                flags = own_flags(detector, dataset)
                report[spec] = {"flagged": int(flags.sum())}
            else:
                scores = np.asarray(detector.score(dataset), dtype=np.float64)
                flags, cut = flag_rows(scores, self.rule, float(self.threshold))
                report[spec] = {
                    "flagged": int(flags.sum()),
                    "lowest_flagged_score": None if np.isnan(cut) else cut,
                }
            flagged |= flags
        info: dict[str, Any] = {"flagged": int(flagged.sum()), "detectors": report, "action": self.action}
        if self.action == "remove":
            model = fit_rows(factory, dataset, ~flagged, owner="Sanitize")
            return Defended(model, self.name, self.get_params(), removed=flagged, info=info)
        weights = np.where(flagged, float(self.flagged_weight), 1.0)
        keep = weights > 0
        model = fit_rows(factory, dataset, keep, weights, owner="Sanitize")
        return Defended(
            model,
            self.name,
            self.get_params(),
            removed=None if keep.all() else ~keep,
            weights=weights,
            info=info,
        )
