"""The attack contract: `Attack.apply(dataset, *, random_state) -> Poisoned`."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._component import Component
from poisonlab._errors import ParameterError
from poisonlab._params import fail
from poisonlab.attacks.trigger import Trigger
from poisonlab.data.dataset import Dataset, IntArray

BoolArray = npt.NDArray[np.bool_]
RandomState = int | np.random.Generator | None


@dataclasses.dataclass(frozen=True, eq=False)
class Poisoned:
    """What an attack did: the poisoned training set and exactly which rows are poison.

    Attributes
    ----------
    clean : Dataset
        The attack's input, unchanged.
    poisoned : Dataset
        The training set after the attack.
    is_poison : ndarray of bool
        One flag per row of `poisoned`: True where the attack changed or injected the row.
    source_row : ndarray of int
        Per row of `poisoned`, the row of `clean` it came from; -1 for injected rows.
    attack : str
        The attack's registry name.
    params : dict
        The attack's parameters (JSON-ready).
    trigger : Trigger or None
        For backdoors, the trigger to apply to held-out texts.
    source_class, target_class : int or None
        For targeted attacks, the class indices the attack moves rows from and to.
    """

    clean: Dataset
    poisoned: Dataset
    is_poison: BoolArray
    source_row: IntArray
    attack: str
    params: dict[str, Any]
    trigger: Trigger | None = None
    source_class: int | None = None
    target_class: int | None = None

    @property
    def n_poison(self) -> int:
        """Number of poison rows in the poisoned set."""
        return int(self.is_poison.sum())

    @property
    def poison_share(self) -> float:
        """Poison rows as a share of the poisoned training set."""
        return self.n_poison / len(self.poisoned)

    @property
    def poison_rows(self) -> IntArray:
        """Positions of the poison rows in `poisoned`."""
        return np.flatnonzero(self.is_poison).astype(np.int64)


class Attack(Component, abc.ABC):
    """Base of every attack: a frozen, keyword-only dataclass whose fields are its parameters.

    Subclasses set `name` (the registry name) and `paper` (what the technique comes from).
    """

    @classmethod
    @abc.abstractmethod
    def examples(cls) -> list[Attack]:
        """A few valid instances spanning the parameters; the contract suite runs each of them."""

    @abc.abstractmethod
    def apply(self, dataset: Dataset, *, random_state: RandomState = None) -> Poisoned:
        """Poison `dataset` and record which rows were touched."""


def budget_rows(owner: str, rate: float | None, n: int | None, base: int, available: int, pool: str) -> int:
    """Rows an attack may touch: ``n``, or ``round(rate * base)``; at least 1, at most `available`.

    `base` is the clean training set's size (the poison rate is a fraction of it); `available`
    is how many rows the attack can draw from, described by `pool` in the error.
    """
    count = n if n is not None else round((rate or 0.0) * base)
    if count < 1:
        raise ParameterError(
            f"The budget of {owner} (rate={rate}) is less than one row of {base}; raise 'rate' or give 'n'."
        )
    if count > available:
        raise ParameterError(
            f"The budget of {owner} is {count} rows but only {available} {pool} are available."
        )
    return count


def rng_of(random_state: RandomState) -> np.random.Generator:
    """A NumPy Generator from an int seed, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def source_and_target(
    owner: str, dataset: Dataset, source: str | int | None, target: str | int | None
) -> tuple[int, int]:
    """Resolve a targeted attack's classes (names or indices); default last class -> first class."""
    resolved: list[int] = []
    for field, value, default in (("source", source, len(dataset.classes) - 1), ("target", target, 0)):
        if value is None:
            resolved.append(default)
            continue
        try:
            resolved.append(dataset.class_index(value))
        except ParameterError:
            names = ", ".join(repr(c) for c in dataset.classes)
            raise fail(owner, field, f"a class of the dataset ({names}) or its index", value) from None
    if resolved[0] == resolved[1]:
        shown = target if target is not None else dataset.classes[resolved[1]]
        raise fail(owner, "target", "a class other than the source", shown)
    return resolved[0], resolved[1]


def replace_rows(
    dataset: Dataset, rows: npt.ArrayLike, texts: list[str], label: int | None = None
) -> tuple[Dataset, BoolArray, IntArray]:
    """Poison in place: `rows` get `texts` (and `label`, if given); every other row is untouched.

    Returns the poisoned dataset, `is_poison` and `source_row` for a `Poisoned` record.
    """
    index = np.asarray(rows, dtype=np.int64)
    new_texts = list(dataset.texts)
    for row, text in zip(index.tolist(), texts):
        new_texts[row] = text
    labels = dataset.labels.copy()
    if label is not None:
        labels[index] = label
    is_poison = np.zeros(len(dataset), dtype=bool)
    is_poison[index] = True
    poisoned = Dataset(new_texts, labels, dataset.classes, dataset.ids, dataset.name)
    return poisoned, is_poison, np.arange(len(dataset), dtype=np.int64)


def inject_rows(dataset: Dataset, texts: list[str], label: int) -> tuple[Dataset, BoolArray, IntArray]:
    """Poison by injection: new rows with `texts`, all labelled `label`, appended after `dataset`.

    Returns the poisoned dataset, `is_poison` and `source_row` (-1 for the injected rows).
    """
    count = len(texts)
    injected = Dataset(
        texts, np.full(count, label), dataset.classes, fresh_ids(dataset.ids, count), dataset.name
    )
    poisoned = dataset.concat(injected)
    source_row = np.concatenate([np.arange(len(dataset)), np.full(count, -1)]).astype(np.int64)
    return poisoned, np.arange(len(poisoned)) >= len(dataset), source_row


def fresh_ids(taken: tuple[str, ...], count: int, prefix: str = "poison") -> list[str]:
    """`count` ids ``prefix-0, prefix-1, ...`` for injected rows, skipping ids already in `taken`."""
    used = set(taken)
    out: list[str] = []
    k = 0
    while len(out) < count:
        if (candidate := f"{prefix}-{k}") not in used:
            out.append(candidate)
        k += 1
    return out
