"""The detector contract: `Detector.score(dataset) -> one suspicion score per row`.

Scores are public and thresholds are separate (`flag_top`, `flag_above`), so a detector is
scored against an attack's `is_poison` truth at every threshold at once.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._component import Component
from poisonlab._params import fail
from poisonlab.data.dataset import Dataset

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class Detector(Component, abc.ABC):
    """Base of every detector: a frozen, keyword-only dataclass whose fields are its parameters.

    Subclasses set `name` (the registry name), `paper` (what the technique comes from) and
    `targets` (the attack kinds it is meant for, e.g. ``("label_flip",)``). Detectors that
    need a model take a victim name and use out-of-fold predictions.
    """

    targets: ClassVar[tuple[str, ...]]

    @classmethod
    @abc.abstractmethod
    def examples(cls) -> list[Detector]:
        """A few valid instances; the contract suite runs each of them."""

    @abc.abstractmethod
    def score(self, dataset: Dataset) -> FloatArray:
        """One finite suspicion score per row of `dataset`; higher means more suspicious."""


def flag_top(scores: npt.ArrayLike, *, n: int | None = None, rate: float | None = None) -> BoolArray:
    """Flag the `n` (or ``round(rate * len)``) highest scores; ties broken by row order.

    Examples
    --------
    >>> flag_top([0.1, 0.9, 0.5], n=2).tolist()
    [False, True, True]
    """
    values = np.asarray(scores, dtype=np.float64)
    if (n is None) == (rate is None):
        raise fail("flag_top", "n", "given, or 'rate' given, but not both", n)
    count = n if n is not None else round((rate or 0.0) * values.size)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 0 <= count <= values.size:
        raise fail("flag_top", "n", f"an int in [0, {values.size}]", count)
    order = np.argsort(-values, kind="stable")
    flags = np.zeros(values.size, dtype=bool)
    flags[order[:count]] = True
    return flags


def flag_above(scores: npt.ArrayLike, threshold: float) -> BoolArray:
    """Flag the scores strictly above `threshold`.

    Examples
    --------
    >>> flag_above([0.1, 0.9, 0.5], 0.5).tolist()
    [False, True, False]
    """
    return np.asarray(scores, dtype=np.float64) > threshold


def check_scores(scores: npt.ArrayLike, dataset: Dataset) -> FloatArray:
    """Validate a detector's output: a finite float per row."""
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (len(dataset),) or not np.all(np.isfinite(values)):
        raise ValueError(f"a detector must return {len(dataset)} finite scores, got shape {values.shape}")
    return values


__all__ = ["Detector", "check_scores", "flag_above", "flag_top"]
