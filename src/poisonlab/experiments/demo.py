"""``poisonlab demo``: the article replayed, then the same three experiments on real SMS data."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from poisonlab.attacks.backdoor import Backdoor
from poisonlab.attacks.base import Poisoned
from poisonlab.attacks.label_flip import LabelFlip
from poisonlab.data import DEFAULT_SPLIT_SEED, load_train_test
from poisonlab.data.dataset import Dataset
from poisonlab.experiments.article import ArticleReplay, Claim, replay_article
from poisonlab.experiments.evaluate import AttackEvaluation, FitCache, evaluate_poisoned
from poisonlab.victims.scores import log_odds

DEMO_VICTIMS = ("nb", "logreg")
FLIP = LabelFlip(strategy="targeted", rate=0.10)
BACKDOOR = Backdoor(trigger="PROMO2026", mode="inject", position="start", rate=0.01)
"""The real-data experiments: a 10 % spam -> ham flip, and a 1 % PROMO2026 backdoor injected
as copies of training spam labelled ham, as the article injects new messages."""


@dataclasses.dataclass(frozen=True)
class RealResult:
    """One victim's three experiments on the SMS corpus."""

    victim: str
    flip: AttackEvaluation
    backdoor: AttackEvaluation
    trigger_shift: float
    spam_margin: float

    def to_dict(self) -> dict[str, Any]:
        """The per-victim object of ``demo --json``'s ``real``."""
        assert self.backdoor.backdoor is not None
        return {
            "clean_accuracy": self.flip.clean.accuracy,
            "clean_spam_leak": self.flip.clean.spam_leak,
            "flip_accuracy": self.flip.attacked.accuracy,
            "flip_spam_leak": self.flip.attacked.spam_leak,
            "flip_rows": self.flip.poisoned.n_poison,
            "backdoor_cacc": self.backdoor.attacked.accuracy,
            "backdoor_asr": self.backdoor.backdoor.asr,
            "backdoor_rows": self.backdoor.poisoned.n_poison,
            "asr_eligible": self.backdoor.backdoor.eligible,
            "asr_excluded": self.backdoor.backdoor.excluded,
            "trigger_shift": self.trigger_shift,
            "spam_margin": self.spam_margin,
        }


@dataclasses.dataclass(frozen=True)
class DemoResult:
    """Everything ``poisonlab demo`` shows."""

    replay: ArticleReplay
    real: dict[str, RealResult]
    lesson: str
    n_train: int
    n_test: int
    seed: int
    split_seed: int
    seconds: float

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The article's claims beside what happened."""
        return self.replay.claims

    def to_dict(self) -> dict[str, Any]:
        """The ``demo --json`` object."""
        return {
            "walkthrough": self.replay.to_dict(),
            "claims": [claim.to_dict() for claim in self.claims],
            "real": {name: result.to_dict() for name, result in self.real.items()},
            "lesson": self.lesson,
            "data": {"corpus": "sms_spam", "train": self.n_train, "test": self.n_test},
            "seed": self.seed,
            "split_seed": self.split_seed,
            "seconds": self.seconds,
        }


def _trigger_effect(result: AttackEvaluation, test: Dataset) -> tuple[float, float]:
    """Median log-odds shift toward the target that the trigger causes on test spam, and the
    median log-odds margin those messages have without it, both under the poisoned model."""
    assert result.poisoned.trigger is not None and result.poisoned.source_class is not None
    spam = [test.texts[i] for i in np.flatnonzero(test.labels == result.poisoned.source_class)]
    plain = log_odds(result.attacked_model, spam)
    triggered = log_odds(result.attacked_model, result.poisoned.trigger.apply(spam))
    return float(np.median(plain - triggered)), float(np.median(plain))


def lesson(real: dict[str, RealResult]) -> str:
    """One sentence, from the numbers, on why the victims differ in backdoor success."""
    ranked = sorted(real.values(), key=lambda r: r.to_dict()["backdoor_asr"])
    weak, strong = ranked[0], ranked[-1]

    def part(r: RealResult) -> str:
        asr = r.to_dict()["backdoor_asr"]
        return (
            f"{r.victim} (ASR {asr:.0%}) the trigger shifts a spam message's log-odds by "
            f"{r.trigger_shift:.1f} toward ham, against a median margin of {r.spam_margin:.1f}"
        )

    return (
        f"Same {weak.backdoor.poisoned.n_poison} poison rows, different victims: for "
        f"{part(weak)}; for {part(strong)}. "
        "Naive Bayes prices a token by its smoothed frequency in each class, so a rare trigger "
        "earns a bounded log-ratio while every other spam word still counts; a discriminative "
        "model fits the weight that separates the poison rows, so one token can outvote the rest."
    )


def _run_victim(
    victim: str, flipped: Poisoned, planted: Poisoned, test: Dataset, seed: int, cache: FitCache
) -> RealResult:
    flip = evaluate_poisoned(flipped, test, victim, random_state=seed, cache=cache)
    backdoor = evaluate_poisoned(planted, test, victim, random_state=seed, cache=cache)
    shift, margin = _trigger_effect(backdoor, test)
    return RealResult(victim, flip, backdoor, shift, margin)


def run_demo(*, seed: int = 0, split_seed: int = DEFAULT_SPLIT_SEED) -> DemoResult:
    """Replay the article, then run its three experiments on the SMS corpus for nb and logreg.

    Examples
    --------
    >>> result = run_demo(seed=0)
    >>> sorted(result.real)
    ['logreg', 'nb']
    >>> result.real["nb"].flip.attacked.spam_leak > result.real["nb"].flip.clean.spam_leak
    True
    """
    started = time.perf_counter()
    replay = replay_article()
    train, test = load_train_test("sms_spam", split_seed=split_seed)
    flipped = FLIP.apply(train, random_state=seed)
    planted = BACKDOOR.apply(train, random_state=seed)
    cache = FitCache()
    real = {victim: _run_victim(victim, flipped, planted, test, seed, cache) for victim in DEMO_VICTIMS}
    return DemoResult(
        replay=replay,
        real=real,
        lesson=lesson(real),
        n_train=len(train),
        n_test=len(test),
        seed=seed,
        split_seed=split_seed,
        seconds=time.perf_counter() - started,
    )
