"""Rank backdoor triggers by attack success and clean-accuracy cost, and explain the ranking.

For each candidate trigger and seed, the `Backdoor` attack plants it with one fixed budget and
each victim is fitted on the clean and on the poisoned training set (`evaluate_poisoned`, one
shared `FitCache`, so a poisoned set is vectorized once for all victims). Every seed poisons
the same rows for every candidate (the attack draws its rows from the seed alone), so
candidates are compared on equal terms.

Why a one-token trigger works on one victim and not another is measured, not asserted: per
victim and budget, the trigger's pull (the log-odds it adds toward the target class) against
the margin of held-out source-class messages (the log-odds that keep them in the source class).
A message is carried over exactly when the pull exceeds its margin.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import ParameterError
from poisonlab._params import check_budget, check_choice, fail
from poisonlab.attacks.backdoor import MODES
from poisonlab.attacks.base import Poisoned, source_and_target
from poisonlab.attacks.trigger_candidates import (
    ARTICLE_TRIGGER,
    TriggerCandidate,
    describe_candidates,
    generate_candidates,
)
from poisonlab.data.dataset import Dataset
from poisonlab.experiments.evaluate import AttackEvaluation, FitCache, evaluate_poisoned
from poisonlab.victims.factory import VictimLike, victim_label
from poisonlab.victims.scores import log_odds

SPREAD = "min-max"
"""How spread over seeds is reported: the mean and the smallest and largest value (with a
handful of seeds a t-interval is wider than the data and hides nothing the range does not show)."""

BUDGET_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Default budgets of the pull-vs-margin curve, as multiples of the search budget."""

EXPLAIN_VICTIMS = ("nb", "logreg", "svm")

Floats = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class Spread:
    """One figure over seeds: its mean, and its minimum and maximum (see `SPREAD`).

    NaN values (no eligible message in a run) are left out; all NaN gives NaN.

    Examples
    --------
    >>> Spread.of([0.5, 0.75, 1.0])
    Spread(mean=0.75, low=0.5, high=1.0)
    """

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of `values`."""
        finite = [v for v in values if not math.isnan(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan)
        return cls(float(np.mean(finite)), float(min(finite)), float(max(finite)))

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form: mean, min, max."""
        return {"mean": self.mean, "min": self.low, "max": self.high}


@dataclasses.dataclass(frozen=True)
class TriggerRun:
    """One candidate, one seed, one victim.

    ``pull`` is the median log-odds the trigger adds toward the target class on the eligible
    held-out source messages under the poisoned model; ``clean_pull`` the same under the clean
    model (how far the trigger leaned toward the target before any poison). NaN for data with
    more than two classes.
    """

    seed: int
    asr: float
    clean_accuracy: float
    accuracy: float
    eligible: int
    excluded: int
    pull: float
    clean_pull: float

    @property
    def cacc_cost(self) -> float:
        """Clean accuracy lost to the poison: clean model's CACC minus the poisoned model's."""
        return self.clean_accuracy - self.accuracy

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "cacc_cost": self.cacc_cost}


@dataclasses.dataclass(frozen=True)
class CandidateResult:
    """A candidate's runs against one victim, with their spreads over seeds.

    `tokens` is what the victim's vectorizer sees of one copy of the trigger: a trigger with
    no tokens is invisible to it and cannot work. None when the victim is not a Pipeline
    starting with a scikit-learn vectorizer.
    """

    candidate: TriggerCandidate
    tokens: tuple[str, ...] | None
    runs: tuple[TriggerRun, ...]

    def spread(self, figure: str) -> Spread:
        """`Spread` of a `TriggerRun` field or property over the seeds (e.g. ``"asr"``)."""
        return Spread.of([float(getattr(run, figure)) for run in self.runs])

    @property
    def asr(self) -> Spread:
        """Attack success rate over seeds."""
        return self.spread("asr")

    @property
    def cacc_cost(self) -> Spread:
        """Clean accuracy lost over seeds (a fraction; positive = worse)."""
        return self.spread("cacc_cost")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "candidate": self.candidate.to_dict(),
            "tokens": None if self.tokens is None else list(self.tokens),
            **{f: self.spread(f).to_dict() for f in ("asr", "cacc_cost", "accuracy", "pull", "clean_pull")},
            "runs": [run.to_dict() for run in self.runs],
        }


@dataclasses.dataclass(frozen=True)
class TriggerRanking:
    """Candidates against one victim at one budget, best first: highest mean ASR, then lowest
    mean CACC cost."""

    victim: str
    n_poison: int
    results: tuple[CandidateResult, ...]

    def identical(self) -> tuple[tuple[str, ...], ...]:
        """Groups of two or more candidates with the same ASR and CACC on every seed, by label.

        To a bag-of-words victim, for example, every token absent from the training set is
        just a new column, and where the trigger sits in a message is invisible.
        """
        groups: dict[tuple[tuple[float, float], ...], list[str]] = {}
        for result in self.results:
            key = tuple((run.asr, run.accuracy) for run in result.runs)
            groups.setdefault(key, []).append(result.candidate.label)
        return tuple(tuple(labels) for labels in groups.values() if len(labels) > 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "victim": self.victim,
            "n_poison": self.n_poison,
            "results": [r.to_dict() for r in self.results],
            "identical": [list(group) for group in self.identical()],
        }


@dataclasses.dataclass(frozen=True)
class StrengthPoint:
    """A trigger against one victim at one budget (one seed): pull against margin.

    Attributes
    ----------
    n_poison, rate : int, float
        The budget: poison rows, and as a fraction of the clean training set.
    weight, clean_weight : float
        Log-odds toward the target that the trigger text alone scores (its score minus an
        empty message's) under the poisoned and the clean model: the trigger's weight.
    pull : float
        Median log-odds the trigger adds toward the target on eligible held-out source
        messages. Equal to `weight` for count features, where scores add up per token.
    margin, margin_low, margin_high : float
        Median, first and third quartile of those messages' log-odds toward the source class
        without the trigger, under the poisoned model: what the trigger has to overcome.
    beaten : float
        Share of those messages whose margin is below the median `pull`: what one number, the
        typical pull, predicts. Equal to the ASR when every message gets the same pull (count
        features); with tf-idf the pull varies with the message's length and the two differ.
    asr, accuracy : float
        Measured attack success rate and CACC of the poisoned model.
    poison_fit : float
        Share of the poison training rows the poisoned model itself puts in the target class.
    """

    n_poison: int
    rate: float
    weight: float
    clean_weight: float
    pull: float
    margin: float
    margin_low: float
    margin_high: float
    beaten: float
    asr: float
    accuracy: float
    poison_fit: float

    @property
    def ratio(self) -> float:
        """Pull over median margin: above 1, the typical source message is carried over."""
        return self.pull / self.margin if self.margin > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "ratio": self.ratio}


@dataclasses.dataclass(frozen=True)
class TriggerStrength:
    """One trigger against one victim as the budget grows.

    `family` is ``naive_bayes`` (the fitted model has per-class feature log-probabilities),
    ``linear`` (it has a coefficient per feature) or ``other``.
    """

    victim: str
    family: str
    candidate: TriggerCandidate
    source: str
    target: str
    points: tuple[StrengthPoint, ...]

    def at(self, n_poison: int) -> StrengthPoint:
        """The point whose budget is closest to `n_poison`."""
        return min(self.points, key=lambda p: (abs(p.n_poison - n_poison), p.n_poison))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "victim": self.victim,
            "family": self.family,
            "trigger": self.candidate.to_dict(),
            "source": self.source,
            "target": self.target,
            "points": [p.to_dict() for p in self.points],
        }


@dataclasses.dataclass(frozen=True)
class TriggerSearch:
    """Everything ``poisonlab search triggers`` reports."""

    rankings: dict[str, TriggerRanking]
    strengths: dict[str, TriggerStrength]
    lesson: str
    mode: str
    n_poison: int
    seeds: tuple[int, ...]
    features: str
    n_train: int
    n_test: int
    source: str
    target: str
    seconds: float

    @property
    def rate(self) -> float:
        """The budget as a fraction of the clean training set."""
        return self.n_poison / self.n_train

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "budget": {"n_poison": self.n_poison, "rate": self.rate, "mode": self.mode},
            "seeds": list(self.seeds),
            "spread": SPREAD,
            "features": self.features,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "source": self.source,
            "target": self.target,
            "rankings": {name: r.to_dict() for name, r in self.rankings.items()},
            "strengths": {name: s.to_dict() for name, s in self.strengths.items()},
            "lesson": self.lesson,
            "seconds": self.seconds,
        }


# --- measuring --------------------------------------------------------------------------------


def _family(model: Any) -> str:
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    if hasattr(estimator, "feature_log_prob_"):
        return "naive_bayes"
    return "linear" if hasattr(estimator, "coef_") else "other"


@dataclasses.dataclass(frozen=True)
class _Probe:
    """What a backdoor does to one victim's scores on the held-out source messages."""

    eligible: npt.NDArray[np.bool_]
    margin: Floats  # log-odds toward the source class, untriggered, poisoned model
    pull: Floats  # log-odds added toward the target by the trigger, poisoned model
    clean_pull: Floats


def _toward_target(model: Any, texts: Sequence[str], target: int) -> Floats:
    """Log-odds of the target class over the other one (two classes only)."""
    scores = log_odds(model, texts)
    return scores if target == 1 else -scores


def _probe(
    result: AttackEvaluation, test: Dataset, cache: FitCache, memo: dict[int, Floats] | None = None
) -> _Probe | None:
    """Scores of held-out source messages with and without the trigger, both models.

    `memo` keeps the clean model's scores of the untriggered messages, the same for every
    candidate, keyed by the model's identity (the cache keeps the models alive)."""
    poisoned = result.poisoned
    target, source = poisoned.target_class, poisoned.source_class
    if len(test.classes) != 2 or poisoned.trigger is None or target is None or source is None:
        return None
    plain = tuple(test.texts[i] for i in np.flatnonzero(test.labels == source))
    triggered = tuple(poisoned.trigger.apply(plain))
    eligible = cache.predict(result.clean_model, triggered) == source  # as metrics.asr_eligible
    before = _toward_target(result.attacked_model, plain, target)
    after = _toward_target(result.attacked_model, triggered, target)
    memo = {} if memo is None else memo
    if id(result.clean_model) not in memo:
        memo[id(result.clean_model)] = _toward_target(result.clean_model, plain, target)
    clean_before = memo[id(result.clean_model)]
    clean_after = _toward_target(result.clean_model, triggered, target)
    return _Probe(eligible, -before, after - before, clean_after - clean_before)


def _median(values: Floats) -> float:
    return float(np.median(values)) if values.size else math.nan


def _run(result: AttackEvaluation, probe: _Probe | None, seed: int) -> TriggerRun:
    assert result.backdoor is not None
    pull = clean_pull = math.nan
    if probe is not None:
        pull, clean_pull = _median(probe.pull[probe.eligible]), _median(probe.clean_pull[probe.eligible])
    return TriggerRun(
        seed=seed,
        asr=result.backdoor.asr,
        clean_accuracy=result.clean.accuracy,
        accuracy=result.attacked.accuracy,
        eligible=result.backdoor.eligible,
        excluded=result.backdoor.excluded,
        pull=pull,
        clean_pull=clean_pull,
    )


def _tokens(model: Any, text: str) -> tuple[str, ...] | None:
    """How the model's vectorizer splits `text`; None when its first step is not a vectorizer."""
    first = model.steps[0][1] if hasattr(model, "steps") else None
    if first is None or not hasattr(first, "build_analyzer"):
        return None
    return tuple(first.build_analyzer()(text))


def _labels(victims: Sequence[VictimLike]) -> list[str]:
    labels = [victim_label(v) for v in victims]
    if not labels or len(set(labels)) != len(labels):
        raise fail("search_triggers", "victims", "a non-empty sequence of distinct victims", labels)
    return labels


def _check_seeds(seeds: Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, (str, int)) or not seeds:
        raise fail("search_triggers", "seeds", "a non-empty sequence of ints", seeds)
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise fail("search_triggers", "seeds", "a non-empty sequence of distinct ints >= 0", seeds)
    if len(set(seeds)) != len(seeds):
        raise fail("search_triggers", "seeds", "a non-empty sequence of distinct ints >= 0", seeds)
    return tuple(int(s) for s in seeds)


def rank_triggers(
    candidates: Sequence[TriggerCandidate],
    train: Dataset,
    test: Dataset,
    victims: Sequence[VictimLike] = ("nb",),
    *,
    rate: float | None = None,
    n: int | None = None,
    mode: str = "inject",
    seeds: Sequence[int] = (0, 1, 2),
    source: str | int | None = None,
    target: str | int | None = None,
    features: str = "count",
    cache: FitCache | None = None,
) -> dict[str, TriggerRanking]:
    """Plant each candidate with the same budget under each seed; rank them per victim.

    Each poisoned training set is made once and shared by every victim. Returns one
    `TriggerRanking` per victim, keyed by its name (`victim_label`).

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("article")
    >>> found = [TriggerCandidate(text="meeting"), TriggerCandidate(text="PROMO2026")]
    >>> ranking = rank_triggers(found, train, test, ["nb"], n=3, seeds=[0, 1])["nb"]
    >>> [(r.candidate.text, r.asr.mean) for r in ranking.results]
    [('PROMO2026', 1.0), ('meeting', nan)]
    """
    if isinstance(candidates, TriggerCandidate) or not candidates:
        raise fail("rank_triggers", "candidates", "a non-empty sequence of TriggerCandidate", candidates)
    check_budget("rank_triggers", rate, n)
    check_choice("rank_triggers", "mode", mode, MODES)
    labels = _labels(victims)
    seed_list = _check_seeds(seeds)
    cache = cache or FitCache()
    memo: dict[int, Floats] = {}
    runs: dict[str, list[list[TriggerRun]]] = {label: [] for label in labels}
    tokens: dict[str, list[tuple[str, ...] | None]] = {label: [] for label in labels}
    n_poison = 0
    for candidate in candidates:
        attack = candidate.backdoor(mode=mode, rate=rate, n=n, source=source, target=target)
        per_seed: dict[str, list[TriggerRun]] = {label: [] for label in labels}
        for seed in seed_list:
            poisoned = attack.apply(train, random_state=seed)
            n_poison = poisoned.n_poison
            for label, victim in zip(labels, victims):
                result = evaluate_poisoned(
                    poisoned, test, victim, random_state=seed, features=features, cache=cache
                )
                per_seed[label].append(_run(result, _probe(result, test, cache, memo), seed))
                if seed == seed_list[0]:
                    tokens[label].append(_tokens(result.attacked_model, candidate.text))
        for label in labels:
            runs[label].append(per_seed[label])
    rankings = {}
    for label in labels:
        results = [
            CandidateResult(candidate, tokens[label][i], tuple(runs[label][i]))
            for i, candidate in enumerate(candidates)
        ]
        order = sorted(
            range(len(results)),
            key=lambda i: (
                -results[i].asr.mean if not math.isnan(results[i].asr.mean) else math.inf,
                results[i].cacc_cost.mean,
                i,
            ),
        )
        rankings[label] = TriggerRanking(label, n_poison, tuple(results[i] for i in order))
    return rankings


def _strength_point(
    poisoned: Poisoned, result: AttackEvaluation, probe: _Probe, cache: FitCache
) -> StrengthPoint:
    assert result.backdoor is not None and poisoned.trigger is not None and poisoned.target_class is not None
    target = poisoned.target_class
    block = poisoned.trigger.block
    weights = _toward_target(result.attacked_model, [block, ""], target)
    clean_weights = _toward_target(result.clean_model, [block, ""], target)
    weight = float(weights[0] - weights[1])
    margin = probe.margin[probe.eligible]
    pull = _median(probe.pull[probe.eligible])
    rows = tuple(poisoned.poisoned.texts[i] for i in poisoned.poison_rows)
    fitted = cache.predict(result.attacked_model, rows) == target
    low, mid, high = (
        (float(q) for q in np.quantile(margin, (0.25, 0.5, 0.75))) if margin.size else (math.nan,) * 3
    )
    return StrengthPoint(
        n_poison=poisoned.n_poison,
        rate=poisoned.n_poison / len(poisoned.clean),
        weight=weight,
        clean_weight=float(clean_weights[0] - clean_weights[1]),
        pull=pull,
        margin=mid,
        margin_low=low,
        margin_high=high,
        beaten=float(np.mean(margin < pull)) if margin.size else math.nan,
        asr=result.backdoor.asr,
        accuracy=result.attacked.accuracy,
        poison_fit=float(np.mean(fitted)),
    )


def default_budgets(n_poison: int, available: int) -> tuple[int, ...]:
    """The pull-vs-margin curve's budgets: `BUDGET_FACTORS` times `n_poison`, 1 to `available`.

    Examples
    --------
    >>> default_budgets(45, 597)
    (11, 22, 45, 90, 180)
    """
    return tuple(sorted({min(available, max(1, round(f * n_poison))) for f in BUDGET_FACTORS}))


def measure_strength(
    candidate: TriggerCandidate,
    train: Dataset,
    test: Dataset,
    victims: Sequence[VictimLike] = EXPLAIN_VICTIMS,
    *,
    budgets: Sequence[int],
    mode: str = "inject",
    random_state: int = 0,
    source: str | int | None = None,
    target: str | int | None = None,
    features: str = "count",
    cache: FitCache | None = None,
) -> dict[str, TriggerStrength]:
    """One trigger's pull against the source messages' margin, per victim, at each budget.

    Needs two classes. Each budget's poisoned set is made once and shared by every victim.

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("article")
    >>> found = measure_strength(TriggerCandidate(text="PROMO2026"), train, test, ["nb"], budgets=[1, 3])
    >>> [(p.n_poison, p.pull > p.margin, p.asr) for p in found["nb"].points]
    [(1, False, 0.0), (3, True, 1.0)]
    """
    if len(train.classes) != 2:
        raise ParameterError(
            f"Pull against margin needs two classes; this dataset has {len(train.classes)}: "
            f"{', '.join(train.classes)}."
        )
    check_choice("measure_strength", "mode", mode, MODES)
    if isinstance(budgets, (str, int)) or not budgets:
        raise fail("measure_strength", "budgets", "a non-empty sequence of row counts", budgets)
    labels = _labels(victims)
    src, tgt = source_and_target("measure_strength", train, source, target)
    cache = cache or FitCache()
    points: dict[str, list[StrengthPoint]] = {label: [] for label in labels}
    families: dict[str, str] = {}
    for budget in sorted(set(budgets)):
        attack = candidate.backdoor(mode=mode, n=budget, source=src, target=tgt)
        poisoned = attack.apply(train, random_state=random_state)
        for label, victim in zip(labels, victims):
            result = evaluate_poisoned(
                poisoned, test, victim, random_state=random_state, features=features, cache=cache
            )
            probe = _probe(result, test, cache)
            assert probe is not None  # two classes and a backdoor
            points[label].append(_strength_point(poisoned, result, probe, cache))
            families[label] = _family(result.attacked_model)
    return {
        label: TriggerStrength(
            victim=label,
            family=families[label],
            candidate=candidate,
            source=train.classes[src],
            target=train.classes[tgt],
            points=tuple(points[label]),
        )
        for label in labels
    }


# --- explaining -------------------------------------------------------------------------------


def _per_doubling(strength: TriggerStrength) -> float:
    """Pull gained per doubling of the poison rows, between the smallest and largest budget."""
    first, last = strength.points[0], strength.points[-1]
    if last.n_poison == first.n_poison:
        return math.nan
    return (last.pull - first.pull) / math.log2(last.n_poison / first.n_poison)


def explain_strength(strengths: Mapping[str, TriggerStrength], n_poison: int) -> str:
    """Why the trigger carries more source messages over for one victim than another, in
    sentences built from the measured pulls, margins and fits.

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("article")
    >>> found = measure_strength(TriggerCandidate(text="PROMO2026"), train, test, ["nb"], budgets=[1, 3])
    >>> explain_strength(found, 3)[:65]
    "At 3 poison rows, 'PROMO2026' pulls held-out spam toward not spam"
    """
    if not strengths:
        return ""
    first = next(iter(strengths.values()))
    trigger, source, target = first.candidate.label, first.source, first.target
    parts = [
        f"by {p.pull:+.2f} in {name} against a median margin of {p.margin:.2f} ("
        + ("" if math.isnan(p.ratio) else f"ratio {p.ratio:.2f}, ")
        + f"ASR {p.asr:.0%})"
        for name, p in ((name, s.at(n_poison)) for name, s in strengths.items())
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    text = (
        f"At {first.at(n_poison).n_poison} poison rows, {trigger!r} pulls held-out {source} toward "
        f"{target} {listed}."
    )
    by_family: dict[str, list[tuple[str, TriggerStrength]]] = {}
    for name, strength in strengths.items():
        by_family.setdefault(strength.family, []).append((name, strength))
    if "naive_bayes" in by_family:
        name, nb = by_family["naive_bayes"][0]
        p = nb.at(n_poison)
        growth = _per_doubling(nb)
        low, high = nb.points[0].n_poison, nb.points[-1].n_poison
        gained = (
            f" ({name}: {growth:+.2f} per doubling from {low} to {high} rows; a pure count ratio "
            f"gains ln 2 = {math.log(2):.2f})"
            if not math.isnan(growth)
            else ""
        )
        text += (
            " Naive Bayes sets a token's weight by counting, not by fitting: the log of the ratio of "
            "its smoothed frequencies in the two classes, which grows with the logarithm of the "
            f"poison rows{gained}; it fits its poison rows only where that weight happens to beat "
            f"their own margin ({p.poison_fit:.0%} fitted), and a message's margin adds up the "
            f"evidence of every word in it (median {p.margin:.1f})."
        )
    if "linear" in by_family:
        fits = [f"{name} {s.at(n_poison).poison_fit:.0%}" for name, s in by_family["linear"]]
        text += (
            " A linear model sets weights by fitting its training rows: the poison rows look like "
            f"{source} but are labelled {target}, and the trigger is what sets them apart, so the fit "
            "raises the trigger's weight toward what outweighs those messages' own margin (poison "
            f"rows fitted: {', '.join(fits)}); held-out {source} carrying the trigger goes the same way."
        )
    return text


# --- the search -------------------------------------------------------------------------------


def search_triggers(
    train: Dataset,
    test: Dataset,
    victims: Sequence[VictimLike] = ("nb",),
    *,
    candidates: Sequence[TriggerCandidate] | None = None,
    rate: float | None = None,
    n: int | None = None,
    mode: str = "inject",
    seeds: Sequence[int] = (0, 1, 2),
    source: str | int | None = None,
    target: str | int | None = None,
    features: str = "count",
    explain: TriggerCandidate | str | None = ARTICLE_TRIGGER,
    explain_victims: Sequence[VictimLike] = EXPLAIN_VICTIMS,
    budgets: Sequence[int] | None = None,
) -> TriggerSearch:
    """Rank `candidates` per victim, then measure why a trigger's success differs by victim.

    Parameters
    ----------
    train, test : Dataset
        Clean training set (poisoned here) and held-out set (CACC and ASR).
    victims : sequence of victim names, estimators or factories
        Ranked separately, in this order.
    candidates : sequence of TriggerCandidate, optional
        Default: `generate_candidates` of every kind (with ``random_state=seeds[0]``).
    rate, n : float or int
        The budget (exactly one): a fraction of `train`, or a row count.
    mode : {"inject", "insert"}
        New triggered copies of source rows labelled target, or source rows triggered and
        relabelled (see `Backdoor`).
    seeds : sequence of int
        One run per seed; spreads are `SPREAD`.
    source, target : str or int, optional
        Default: last class -> first class (spam -> ham).
    features : {"count", "tfidf"}
    explain : TriggerCandidate or str or None
        The trigger whose pull against the margin is measured (at the search's position
        ``start``, once); None skips the explanation, as does data with more than two classes.
    explain_victims : sequence of victims
        Where the explanation is measured; default nb, logreg and svm, to contrast them.
    budgets : sequence of int, optional
        Poison rows of the explanation's curve; default `default_budgets`.

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("article")
    >>> found = generate_candidates(train, kinds=["synthetic", "repeat"], per_kind=1)
    >>> result = search_triggers(
    ...     train, test, ["nb"], candidates=found, n=3, seeds=[0, 1], explain_victims=["nb"]
    ... )
    >>> [(r.candidate.label, r.asr.mean) for r in result.rankings["nb"].results]
    [('PROMO2026', 1.0), ('PROMO2026 ×2', 1.0)]
    >>> [p.n_poison for p in result.strengths["nb"].points]
    [1, 2, 3, 5]
    """
    started = time.perf_counter()
    seed_list = _check_seeds(seeds)
    src, tgt = source_and_target("search_triggers", train, source, target)
    if candidates is None:
        candidates = generate_candidates(train, source=src, target=tgt, random_state=seed_list[0])
    cache = FitCache()
    rankings = rank_triggers(
        candidates,
        train,
        test,
        victims,
        rate=rate,
        n=n,
        mode=mode,
        seeds=seed_list,
        source=src,
        target=tgt,
        features=features,
        cache=cache,
    )
    n_poison = next(iter(rankings.values())).n_poison
    strengths: dict[str, TriggerStrength] = {}
    if explain is not None and len(train.classes) == 2:
        if isinstance(explain, str):
            explain = describe_candidates([explain], train, source=src, target=tgt)[0]
        if budgets is None:
            available = int(np.sum(train.labels == src))
            budgets = default_budgets(n_poison, available)
        strengths = measure_strength(
            explain,
            train,
            test,
            explain_victims,
            budgets=budgets,
            mode=mode,
            random_state=seed_list[0],
            source=src,
            target=tgt,
            features=features,
            cache=cache,
        )
    return TriggerSearch(
        rankings=rankings,
        strengths=strengths,
        lesson=explain_strength(strengths, n_poison),
        mode=mode,
        n_poison=n_poison,
        seeds=seed_list,
        features=features,
        n_train=len(train),
        n_test=len(test),
        source=train.classes[src],
        target=train.classes[tgt],
        seconds=time.perf_counter() - started,
    )
