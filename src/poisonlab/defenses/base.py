"""The defense contract: `Defense.fit(dataset, victim) -> Defended`."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._component import Component
from poisonlab.data.dataset import Dataset
from poisonlab.victims.factory import VictimLike

BoolArray = npt.NDArray[np.bool_]


@dataclasses.dataclass(frozen=True, eq=False)
class Defended:
    """A model trained under a defense, and what the defense did.

    Attributes
    ----------
    model : object
        Fitted; has ``predict`` (and ``predict_proba`` where the defense can give it).
    defense : str
        The defense's registry name.
    params : dict
        The defense's parameters (JSON-ready).
    removed : ndarray of bool or None
        Per training row, True where the defense dropped it (None if it drops nothing).
    weights : ndarray of float or None
        Per training row, the weight the defense trained with (None if uniform).
    info : dict
        Everything else the defense reports (epsilon, certified radii, ...), JSON-ready.
    """

    model: Any
    defense: str
    params: dict[str, Any]
    removed: BoolArray | None = None
    weights: npt.NDArray[np.float64] | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def predict(self, texts: Any) -> npt.NDArray[np.int64]:
        """Class indices for `texts`."""
        return np.asarray(self.model.predict(list(texts)), dtype=np.int64)

    def predict_proba(self, texts: Any) -> npt.NDArray[np.float64]:
        """Class probabilities for `texts`, where the model has them."""
        return np.asarray(self.model.predict_proba(list(texts)), dtype=np.float64)


class Defense(Component, abc.ABC):
    """Base of every defense: a frozen, keyword-only dataclass whose fields are its parameters.

    Subclasses set `name` (registry name) and `paper`.
    """

    @classmethod
    @abc.abstractmethod
    def examples(cls) -> list[Defense]:
        """A few valid instances; the contract suite runs each of them."""

    @abc.abstractmethod
    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Train `victim` on `dataset` under this defense; never changes `dataset`."""
