"""Attack, then train undefended and defended, and score both on the same held-out messages."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab import metrics
from poisonlab.attacks.base import Attack, Poisoned
from poisonlab.data.dataset import Dataset
from poisonlab.defenses.base import Defended, Defense
from poisonlab.experiments.evaluate import AttackEvaluation, ModelScores, evaluate_attack, score_predictions
from poisonlab.victims.factory import VictimLike, as_factory, make_victim

REPORTED_RADII = (1, 5, 10, 25)
"""Radii at which certified accuracy is reported (Levine & Feizi 2021 plot the whole curve)."""


@dataclasses.dataclass(frozen=True)
class RowScores:
    """The rows a defense dropped (or down-weighted), scored against the attack's `is_poison` truth.

    `precision` is the share of those rows that are poison, `recall` the share of poison rows
    among them (NaN when there are none, or no poison).
    """

    rows: int
    poison: int
    poison_total: int
    precision: float
    recall: float

    @classmethod
    def of(cls, flags: npt.NDArray[np.bool_], is_poison: npt.NDArray[np.bool_]) -> RowScores:
        """Score `flags` (one per training row) against `is_poison`."""
        return cls(
            rows=int(flags.sum()),
            poison=int((flags & is_poison).sum()),
            poison_total=int(is_poison.sum()),
            precision=metrics.detection_precision(is_poison, flags),
            recall=metrics.detection_recall(is_poison, flags),
        )


@dataclasses.dataclass(frozen=True)
class DefenseEvaluation:
    """One attack against one victim, undefended and defended, on the same held-out data.

    Attributes
    ----------
    attack : AttackEvaluation
        The clean and the undefended (poisoned) models' scores, with the `Poisoned` record.
    defended : Defended
        The defended model and the defense's own record.
    scores : ModelScores
        The defended model's held-out scores.
    asr, undefended_asr : float or None
        Backdoor attack success rate of the defended and the undefended models (None without a
        trigger), over the same eligible messages (`metrics.asr_eligible`).
    removed, downweighted : RowScores or None
        Rows dropped, and rows trained with weight below 1, against the poison truth.
    filtered : dict or None
        For an input filter: its false-alarm rate on the clean held-out messages, the share of
        triggered messages it flags, and the words it flags most.
    certified : dict or None
        For an ensemble with certificates: certified accuracy at `REPORTED_RADII`, the median
        radius and the share of disputed predictions.
    seconds : float
        Time to fit the defense.
    """

    attack: AttackEvaluation
    defended: Defended
    scores: ModelScores
    asr: float | None
    undefended_asr: float | None
    removed: RowScores | None
    downweighted: RowScores | None
    filtered: dict[str, Any] | None
    certified: dict[str, Any] | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        poisoned = self.attack.poisoned
        undefended = self.attack.attacked.to_dict()
        defended = self.scores.to_dict()
        if self.asr is not None:
            undefended["asr"] = self.undefended_asr
            defended["asr"] = self.asr
        return {
            "attack": poisoned.attack,
            "attack_params": poisoned.params,
            "n_train": len(poisoned.clean),
            "n_poison": poisoned.n_poison,
            "poison_share": poisoned.poison_share,
            "defense": self.defended.defense,
            "defense_params": self.defended.params,
            "clean": self.attack.clean.to_dict(),
            "undefended": undefended,
            "defended": defended,
            "removed": None if self.removed is None else dataclasses.asdict(self.removed),
            "downweighted": None if self.downweighted is None else dataclasses.asdict(self.downweighted),
            "filtered": self.filtered,
            "certified": self.certified,
            "defense_info": self.defended.info,
            "seconds": {"attack_and_undefended": self.attack.seconds, "defense": self.seconds},
        }


def _triggered(poisoned: Poisoned, test: Dataset) -> tuple[list[str], int, int] | None:
    """The held-out source-class messages with the trigger, and the source and target classes."""
    if poisoned.trigger is None:
        return None
    source = poisoned.source_class if poisoned.source_class is not None else len(test.classes) - 1
    target = poisoned.target_class if poisoned.target_class is not None else 0
    members = np.flatnonzero(test.labels == source)
    return poisoned.trigger.apply([test.texts[i] for i in members]), source, target


def _filter_report(model: Any, test: Dataset, triggered: list[str] | None) -> dict[str, Any]:
    from poisonlab.defenses.trigger_filter import false_alarm_rate, flagged_share

    flagged = model.suspicious_words(triggered) if triggered else []
    words = Counter(word for found in flagged for word in found)
    return {
        "false_alarm_rate": false_alarm_rate(model, test.texts),
        "n_clean": len(test),
        "triggered_flagged": flagged_share(model, triggered) if triggered else None,
        "n_triggered": len(triggered) if triggered else 0,
        "top_words": [{"word": word, "messages": count} for word, count in words.most_common(5)],
    }


def _certified_report(model: Any, test: Dataset) -> dict[str, Any]:
    from poisonlab.defenses.partition_aggregation import certified_accuracy_curve

    certificates = model.certify(test.texts)
    top = max(REPORTED_RADII)
    curve = certified_accuracy_curve(
        test.labels, certificates.predictions, certificates.radii, max_radius=top
    )
    return {
        "certified_accuracy": {str(r): float(curve[r]) for r in REPORTED_RADII},
        "median_radius": float(np.median(certificates.radii)) if len(test) else None,
        "disputed_share": float(np.mean(certificates.is_disputed)) if len(test) else None,
    }


def evaluate_defense(
    defense: Defense,
    attack: Attack,
    train: Dataset,
    test: Dataset,
    victim: VictimLike = "nb",
    *,
    random_state: int = 0,
    features: str = "count",
) -> DefenseEvaluation:
    """Poison `train` with `attack`, train `victim` undefended and under `defense`, score on `test`.

    The defense sees only the poisoned training set; the attack's `is_poison` truth scores what
    it removed. `random_state` seeds the attack, the victims and the defense alike.

    Examples
    --------
    >>> from poisonlab.attacks import DictionaryAttack
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.defenses import RONI
    >>> train, test = load_train_test("sms_spam")
    >>> result = evaluate_defense(RONI(), DictionaryAttack(n=10), train.take(range(800)), test, "nb")
    >>> result.removed.poison, result.scores.ham_loss < result.attack.attacked.ham_loss
    (10, True)
    """
    evaluation = evaluate_attack(attack, train, test, victim, random_state=random_state, features=features)
    return defend_evaluated(defense, evaluation, test, victim, random_state=random_state, features=features)


def defend_evaluated(
    defense: Defense,
    evaluation: AttackEvaluation,
    test: Dataset,
    victim: VictimLike = "nb",
    *,
    random_state: int = 0,
    features: str = "count",
) -> DefenseEvaluation:
    """`evaluate_defense` for an attack already evaluated (`evaluate_attack` on the same `test`):
    several defenses against one poisoned training set share its undefended models."""
    poisoned = evaluation.poisoned
    model_victim: VictimLike = victim
    if isinstance(victim, str) and features != "count":
        model_victim = make_victim(victim, features=features, random_state=random_state)
    started = time.perf_counter()
    defended = defense.fit(poisoned.poisoned, model_victim, random_state=random_state)
    seconds = time.perf_counter() - started
    predictions = defended.predict(test.texts)
    trigger = _triggered(poisoned, test)
    asr = undefended_asr = None
    if trigger is not None:
        texts, source, target = trigger
        truth = np.full(len(texts), source)
        eligible = metrics.asr_eligible(truth, evaluation.clean_model.predict(texts), source=source)
        asr = metrics.attack_success_rate(defended.predict(texts), eligible, target=target)
        undefended_asr = evaluation.backdoor.asr if evaluation.backdoor is not None else None
    removed = None if defended.removed is None else RowScores.of(defended.removed, poisoned.is_poison)
    downweighted = None
    if defended.weights is not None:
        downweighted = RowScores.of(np.asarray(defended.weights) < 1.0, poisoned.is_poison)
    from poisonlab.defenses.trigger_filter import FilteredModel

    filtered = None
    if isinstance(defended.model, FilteredModel):
        filtered = _filter_report(defended.model, test, None if trigger is None else trigger[0])
    certified = _certified_report(defended.model, test) if hasattr(defended.model, "certify") else None
    return DefenseEvaluation(
        attack=evaluation,
        defended=defended,
        scores=score_predictions(test.labels, predictions, test.classes),
        asr=asr,
        undefended_asr=undefended_asr,
        removed=removed,
        downweighted=downweighted,
        filtered=filtered,
        certified=certified,
        seconds=seconds,
    )


@dataclasses.dataclass(frozen=True)
class DataDefenseEvaluation:
    """A defense on a user's own training set, as it is (no attack planted), against the same
    victim trained on it undefended, on the same held-out messages.

    Attributes
    ----------
    n_train : int
        Training rows.
    defended : Defended
        The defended model and the defense's own record.
    undefended, scores : ModelScores
        Held-out scores of the undefended and the defended model.
    removed_ids : tuple of str
        Ids of the training rows the defense dropped (or trained with weight below 1).
    removed : RowScores or None
        Those rows against the data's own ``is_poison`` column, when it has one.
    filtered, certified : dict or None
        As in `DefenseEvaluation`.
    seconds : float
        Time to fit the defense.
    """

    n_train: int
    defended: Defended
    undefended: ModelScores
    scores: ModelScores
    removed_ids: tuple[str, ...]
    removed: RowScores | None
    n_poison: int | None
    filtered: dict[str, Any] | None
    certified: dict[str, Any] | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "attack": None,
            "n_train": self.n_train,
            "n_poison": self.n_poison,
            "defense": self.defended.defense,
            "defense_params": self.defended.params,
            "undefended": self.undefended.to_dict(),
            "defended": self.scores.to_dict(),
            "removed_ids": list(self.removed_ids),
            "removed": None if self.removed is None else dataclasses.asdict(self.removed),
            "filtered": self.filtered,
            "certified": self.certified,
            "defense_info": self.defended.info,
            "seconds": {"defense": self.seconds},
        }


def defend_data(
    defense: Defense,
    train: Dataset,
    test: Dataset,
    victim: VictimLike = "nb",
    *,
    is_poison: npt.ArrayLike | None = None,
    random_state: int = 0,
    features: str = "count",
) -> DataDefenseEvaluation:
    """Train `victim` on `train` as it is, undefended and under `defense`, and score both on `test`.

    For a training set that may already be poisoned: nothing is planted. When the data says
    which rows are poison (`is_poison`, one flag per training row), the rows the defense drops
    are scored against it.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.defenses import Sanitize
    >>> train, test = load_train_test("sms_spam")
    >>> planted = Backdoor(trigger="zqx", rate=0.01).apply(train, random_state=0)
    >>> result = defend_data(Sanitize(), planted.poisoned, test, "nb", is_poison=planted.is_poison)
    >>> result.removed.poison == planted.n_poison, result.removed.precision > 0.5
    (True, True)
    """
    truth = None
    if is_poison is not None:
        truth = np.asarray(is_poison, dtype=bool)
        if truth.shape != (len(train),):
            raise ValueError(f"is_poison needs one flag per training row: {truth.size} for {len(train)}.")
    model_victim: VictimLike = victim
    if isinstance(victim, str) and features != "count":
        model_victim = make_victim(victim, features=features, random_state=random_state)
    baseline = as_factory(victim, features=features, random_state=random_state)()
    baseline.fit(list(train.texts), train.labels)
    started = time.perf_counter()
    defended = defense.fit(train, model_victim, random_state=random_state)
    seconds = time.perf_counter() - started
    dropped = np.zeros(len(train), dtype=bool)
    if defended.removed is not None:
        dropped |= np.asarray(defended.removed, dtype=bool)
    if defended.weights is not None:
        dropped |= np.asarray(defended.weights) < 1.0
    from poisonlab.defenses.trigger_filter import FilteredModel

    filtered = (
        _filter_report(defended.model, test, None) if isinstance(defended.model, FilteredModel) else None
    )
    certified = _certified_report(defended.model, test) if hasattr(defended.model, "certify") else None
    return DataDefenseEvaluation(
        n_train=len(train),
        defended=defended,
        undefended=score_predictions(test.labels, baseline.predict(list(test.texts)), test.classes),
        scores=score_predictions(test.labels, defended.predict(test.texts), test.classes),
        removed_ids=tuple(train.ids[i] for i in np.flatnonzero(dropped).tolist()),
        removed=None if truth is None else RowScores.of(dropped, truth),
        n_poison=None if truth is None else int(truth.sum()),
        filtered=filtered,
        certified=certified,
        seconds=seconds,
    )
