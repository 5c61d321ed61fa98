"""Aggregating a sweep over seeds: mean and 95 % confidence interval for every metric."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


def flatten_metrics(measured: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a nested metrics dict, keyed by its dotted path; lists are skipped.

    Examples
    --------
    >>> flatten_metrics({"clean": {"accuracy": 0.9}, "n_poison": 3, "roc": {"fpr": [0, 1]}})
    {'clean.accuracy': 0.9, 'n_poison': 3.0}
    """
    flat: dict[str, float] = {}
    for key, value in measured.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, prefix=f"{path}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[path] = float(value)
        elif value is None:
            flat[path] = float("nan")
    return flat


@dataclasses.dataclass(frozen=True)
class Summary:
    """One metric over seeds: mean, a 95 % t-interval half-width (NaN for one seed), and n."""

    mean: float
    ci95: float
    n: int

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.ci95


def summarize(values: Iterable[float]) -> Summary:
    """Mean and 95 % Student-t confidence half-width of the finite values.

    Examples
    --------
    >>> s = summarize([0.8, 0.9, 1.0])
    >>> round(s.mean, 3), round(s.ci95, 3), s.n
    (0.9, 0.248, 3)
    """
    from scipy.stats import t

    finite = np.array([v for v in values if math.isfinite(v)], dtype=np.float64)
    if finite.size == 0:
        return Summary(float("nan"), float("nan"), 0)
    if finite.size == 1:
        return Summary(float(finite[0]), float("nan"), 1)
    half = t.ppf(0.975, finite.size - 1) * finite.std(ddof=1) / math.sqrt(finite.size)
    return Summary(float(finite.mean()), float(half), int(finite.size))


def group_key(cell: Mapping[str, Any]) -> str:
    """The cell without its seed, as canonical JSON: rows with equal keys are seeds of one setting."""
    return json.dumps({k: v for k, v in cell.items() if k != "seed"}, sort_keys=True)


def aggregate(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per setting (a cell without its seed): the cell, seeds, and a `Summary` per metric.

    `rows` are `ResultStore.rows()`. Entries come in a stable order (by their group key).
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group_key(row["cell"]), []).append(row)
    entries = []
    for key in sorted(groups):
        members = groups[key]
        flats = [flatten_metrics(row["metrics"]) for row in members]
        names = sorted({name for flat in flats for name in flat})
        entries.append(
            {
                "cell": {k: v for k, v in members[0]["cell"].items() if k != "seed"},
                "seeds": sorted(row["cell"]["seed"] for row in members),
                "metrics": {
                    name: summarize(flat.get(name, float("nan")) for flat in flats) for name in names
                },
            }
        )
    return entries
