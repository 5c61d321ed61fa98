"""Models for the gate tests: a deployed reference and candidates, clean and poisoned, per victim."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset
from poisonlab.victims import make_victim

Candidates = dict[str, tuple[Any, Dataset]]


@pytest.fixture(scope="session")
def candidates(sms_split) -> Callable[[str], Candidates]:
    """``candidates(victim)``: the reference (seed 0, clean data) and candidates (seed 1) with their data.

    ``clean``: the same clean data; ``resampled``: a clean 90 % subsample (a routine retrain on
    refreshed data); ``backdoor``: a 1 % PROMO2026 backdoor; ``label_flip``: a 10 % targeted flip.
    Each victim's models are trained once per session.
    """
    train, _ = sms_split
    keep = np.random.default_rng(1).random(len(train)) < 0.9
    data = {
        "clean": train,
        "resampled": train.take(keep),
        "backdoor": Backdoor(trigger="PROMO2026", rate=0.01).apply(train, random_state=1).poisoned,
        "label_flip": LabelFlip(strategy="targeted", rate=0.1).apply(train, random_state=1).poisoned,
    }

    def fit(victim: str, d: Dataset, seed: int) -> Any:
        return make_victim(victim, random_state=seed).fit(list(d.texts), d.labels)

    @functools.cache
    def build(victim: str) -> Candidates:
        out: Candidates = {"reference": (fit(victim, train, 0), train)}
        out.update({name: (fit(victim, d, 1), d) for name, d in data.items()})
        return out

    return build
