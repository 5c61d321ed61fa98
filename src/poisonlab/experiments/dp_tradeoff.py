"""The price of differential privacy as a poisoning defense: epsilon vs CACC vs ASR vs label-flip damage."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks.backdoor import Backdoor
from poisonlab.attacks.base import Attack, Poisoned
from poisonlab.attacks.label_flip import LabelFlip
from poisonlab.data.dataset import Dataset
from poisonlab.defenses.base import Defense
from poisonlab.victims.factory import as_factory

DEFAULT_EPSILONS = (0.5, 1.0, 2.0, 5.0, 10.0, 50.0)
DEFAULT_BACKDOOR = Backdoor(trigger="PROMO2026", mode="insert", rate=0.01)
DEFAULT_LABEL_FLIP = LabelFlip(strategy="targeted", rate=0.1)


@dataclasses.dataclass(frozen=True)
class TradeoffPoint:
    """One privacy budget's figures on held-out data, for one seed or averaged over seeds.

    ``epsilon`` is ``inf`` for the undefended victim (no noise, no clipping: the reference).

    Attributes
    ----------
    epsilon : float
    seed : int or None
        None for an average over `n_seeds` seeds.
    n_seeds : int
    cacc, ham_loss, spam_leak : float
        The defended model trained on clean data.
    asr : float
        Attack success rate of the backdoor against the defended model trained on backdoored
        data (eligibility judged by the same defense trained on clean data, as everywhere).
    backdoor_cacc : float
        CACC of that backdoored model.
    flip_cacc, flip_spam_leak : float
        The defended model trained on label-flipped data.
    flip_damage : float
        ``cacc - flip_cacc``: accuracy the label flip costs under this defense.
    """

    epsilon: float
    seed: int | None
    n_seeds: int
    cacc: float
    ham_loss: float
    spam_leak: float
    asr: float
    backdoor_cacc: float
    flip_cacc: float
    flip_spam_leak: float
    flip_damage: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``inf`` epsilon as the string ``"inf"``)."""
        out = dataclasses.asdict(self)
        out["epsilon"] = "inf" if math.isinf(self.epsilon) else self.epsilon
        return out


def _fit_predict(defense: Defense | None, victim: str, train: Dataset, seed: int) -> Any:
    """A predict function: the defense's model, or the plain victim when `defense` is None."""
    if defense is None:
        model = as_factory(victim, random_state=seed)().fit(list(train.texts), train.labels)
        return lambda texts: np.asarray(model.predict(list(texts)), dtype=np.int64)
    return defense.fit(train, victim, random_state=seed).predict


def _point(
    defense: Defense | None,
    victim: str,
    epsilon: float,
    seed: int,
    train: Dataset,
    test: Dataset,
    backdoored: Poisoned,
    flipped: Poisoned,
) -> TradeoffPoint:
    clean_predict = _fit_predict(defense, victim, train, seed)
    clean_pred = clean_predict(test.texts)
    backdoor_predict = _fit_predict(defense, victim, backdoored.poisoned, seed)
    flip_pred = _fit_predict(defense, victim, flipped.poisoned, seed)(test.texts)
    source = backdoored.source_class if backdoored.source_class is not None else len(test.classes) - 1
    target = backdoored.target_class if backdoored.target_class is not None else 0
    members = np.flatnonzero(test.labels == source)
    asr = float("nan")
    if backdoored.trigger is not None and members.size:
        triggered = backdoored.trigger.apply([test.texts[i] for i in members])
        eligible = metrics.asr_eligible(test.labels[members], clean_predict(triggered), source=source)
        asr = metrics.attack_success_rate(backdoor_predict(triggered), eligible, target=target)
    cacc = metrics.accuracy(test.labels, clean_pred)
    flip_cacc = metrics.accuracy(test.labels, flip_pred)
    return TradeoffPoint(
        epsilon=epsilon,
        seed=seed,
        n_seeds=1,
        cacc=cacc,
        ham_loss=metrics.ham_loss(test.labels, clean_pred),
        spam_leak=metrics.spam_leak(test.labels, clean_pred),
        asr=asr,
        backdoor_cacc=metrics.accuracy(test.labels, backdoor_predict(test.texts)),
        flip_cacc=flip_cacc,
        flip_spam_leak=metrics.spam_leak(test.labels, flip_pred),
        flip_damage=cacc - flip_cacc,
    )


def dp_tradeoff(
    train: Dataset,
    test: Dataset,
    defense: Defense,
    *,
    epsilons: Sequence[float] = DEFAULT_EPSILONS,
    victim: str | None = None,
    backdoor: Attack = DEFAULT_BACKDOOR,
    label_flip: Attack = DEFAULT_LABEL_FLIP,
    seeds: Sequence[int] = (0,),
) -> list[TradeoffPoint]:
    """For each budget in `epsilons` and each seed, a differentially private `defense` (any
    defense with an ``epsilon`` parameter) against a `backdoor` and a `label_flip`.

    Per seed, the attacks are applied once and every budget sees the same poisoned data; the
    seed also seeds the defense (its noise: see the DP defenses' notes on seeded runs). A last
    point per seed, ``epsilon = inf``, is the undefended `victim` on the same data.

    Parameters
    ----------
    train, test : Dataset
    defense : Defense
        A template; its ``epsilon`` is replaced by each budget.
    epsilons : sequence of float
    victim : str, optional
        Victim name; defaults to the defense's first supported victim (else ``nb``).
    backdoor, label_flip : Attack
    seeds : sequence of int

    Returns
    -------
    list of TradeoffPoint
        Budgets in the order given, then ``inf``; seeds innermost.

    Examples
    --------
    >>> from poisonlab.data import load_dataset, split_train_test
    >>> from poisonlab.defenses.dp_naive_bayes import DPNaiveBayes
    >>> train, test = split_train_test(load_dataset("sms_spam").take(range(600)))
    >>> points = dp_tradeoff(train, test, DPNaiveBayes(), epsilons=(0.1, 20.0))
    >>> [p.epsilon for p in points]
    [0.1, 20.0, inf]
    >>> points[1].cacc > points[0].cacc
    True
    """
    if "epsilon" not in {f.name for f in dataclasses.fields(defense)}:  # type: ignore[arg-type]
        raise ParameterError(
            f"dp_tradeoff needs a defense with an 'epsilon' parameter, not {defense.name!r}."
        )
    chosen = victim or getattr(defense, "supported_victims", ("nb",))[0]
    attacked = {
        seed: (backdoor.apply(train, random_state=seed), label_flip.apply(train, random_state=seed))
        for seed in seeds
    }
    points: list[TradeoffPoint] = []
    for epsilon in [*epsilons, math.inf]:
        private = None if math.isinf(epsilon) else dataclasses.replace(defense, epsilon=epsilon)  # type: ignore[type-var]
        for seed in seeds:
            backdoored, flipped = attacked[seed]
            points.append(_point(private, chosen, epsilon, seed, train, test, backdoored, flipped))
    return points


def average_over_seeds(points: Sequence[TradeoffPoint]) -> list[TradeoffPoint]:
    """One point per budget, each figure the mean over that budget's seeds (NaNs ignored).

    Examples
    --------
    >>> a = TradeoffPoint(1.0, 0, 1, 0.9, 0.0, 0.1, 0.5, 0.9, 0.8, 0.3, 0.1)
    >>> b = dataclasses.replace(a, seed=1, cacc=0.8)
    >>> [(p.epsilon, p.n_seeds, round(p.cacc, 2)) for p in average_over_seeds([a, b])]
    [(1.0, 2, 0.85)]
    """
    figures = [f.name for f in dataclasses.fields(TradeoffPoint)][3:]
    out: list[TradeoffPoint] = []
    for epsilon in dict.fromkeys(p.epsilon for p in points):
        group = [p for p in points if p.epsilon == epsilon]
        means = {
            name: float(np.nanmean([getattr(p, name) for p in group]))
            if not all(math.isnan(getattr(p, name)) for p in group)
            else float("nan")
            for name in figures
        }
        out.append(TradeoffPoint(epsilon=epsilon, seed=None, n_seeds=len(group), **means))
    return out
