"""Sweep specs: a TOML file naming components by registry name, with parameter grids and seeds.

A spec looks like this (``examples/quick.toml`` is a complete one)::

    name = "quick"
    data = "sms_spam"            # a bundled corpus (or "spamassassin", "article"), or a file path
                                 # relative to the spec
    seeds = [0, 1, 2]
    split_seed = 2026            # optional; the shared train/test split

    [[victim]]
    name = "nb"
    features = "count"

    [[attack]]
    name = "label_flip"
    strategy = "targeted"
    rate = [0.01, 0.05, 0.1]     # a list is a grid axis: one cell per value

    [[defense]]
    name = "none"                # train on the poisoned data as it is

    [[detector]]                 # optional: each is scored on every poisoned training set
    name = "knn_labels"

Every ``[[victim]]``, ``[[attack]]`` and ``[[defense]]`` table expands into the cartesian
product of its list-valued parameters; the cells are every victim x attack x defense x seed.
A parameter whose value is itself a list is written as a list of one list
(``carriers = [["special offer", "free prize"]]``). The whole spec is checked before anything
runs: unknown keys, unknown components, bad parameters and empty grids are errors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from poisonlab._errors import ParameterError
from poisonlab.data.split import DEFAULT_SPLIT_SEED

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOP_LEVEL_KEYS = frozenset({"name", "data", "seeds", "split_seed", "victim", "attack", "defense", "detector"})
NO_DEFENSE = "none"


@dataclasses.dataclass(frozen=True)
class Cell:
    """One experiment: a victim trained on data poisoned by an attack, under a defense, with a seed.

    Every field is JSON-ready, so a cell travels to a worker process or a Dask cluster as is.
    """

    data: str
    split_seed: int
    victim: dict[str, Any]
    attack: dict[str, Any]
    defense: dict[str, Any]
    detectors: tuple[dict[str, Any], ...]
    seed: int

    def describe(self) -> dict[str, Any]:
        """The cell as a JSON-ready dict (the identity of the cell)."""
        return {
            "data": self.data,
            "split_seed": self.split_seed,
            "victim": self.victim,
            "attack": self.attack,
            "defense": self.defense,
            "detectors": list(self.detectors),
            "seed": self.seed,
        }

    def key(self, data_fingerprint: str) -> str:
        """A stable id: SHA-256 of the canonical cell description and the data fingerprint."""
        canonical = json.dumps({**self.describe(), "fingerprint": data_fingerprint}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def label(self) -> str:
        """A short human label, e.g. ``nb | label_flip rate=0.1 | none | seed 0``."""

        def short(component: Mapping[str, Any]) -> str:
            params = " ".join(f"{k}={v}" for k, v in component.items() if k != "name")
            return f"{component['name']} {params}".strip()

        return f"{short(self.victim)} | {short(self.attack)} | {short(self.defense)} | seed {self.seed}"


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: where the data is, and every cell to run."""

    name: str
    data: str
    split_seed: int
    seeds: tuple[int, ...]
    victims: tuple[dict[str, Any], ...]
    attacks: tuple[dict[str, Any], ...]
    defenses: tuple[dict[str, Any], ...]
    detectors: tuple[dict[str, Any], ...]

    def cells(self) -> list[Cell]:
        """Every cell, in a fixed order: victim, attack, defense, then seed.

        A defense made for some victims only (its ``supported_victims``, e.g. DP logistic
        regression) is paired with those victims only.
        """
        return [
            Cell(self.data, self.split_seed, victim, attack, defense, self.detectors, seed)
            for victim, attack, defense, seed in itertools.product(
                self.victims, self.attacks, self.defenses, self.seeds
            )
            if _supports(defense, victim)
        ]


def _supports(defense: Mapping[str, Any], victim: Mapping[str, Any]) -> bool:
    if defense["name"] == NO_DEFENSE:
        return True
    supported = getattr(_registry("defense").get(defense["name"]), "supported_victims", None)
    return supported is None or victim["name"] in supported


def _expand(table: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """The grid points of one component table: the product of its list-valued parameters."""
    names = table.get("name")
    if not isinstance(names, (str, list)) or not names:
        raise ParameterError(f"Each {where} table needs a 'name' (a registry name, or a list of them).")
    axes: list[list[tuple[str, Any]]] = []
    for key, value in table.items():
        if isinstance(value, list):
            if not value:
                raise ParameterError(f"The grid for {where} {names!r} parameter {key!r} is empty.")
            axes.append([(key, v) for v in value])
        else:
            axes.append([(key, value)])
    points = [dict(point) for point in itertools.product(*axes)]
    for point in points:
        if not isinstance(point["name"], str):
            raise ParameterError(f"A {where} name must be a string, got {point['name']!r}.")
    return points


def _check_component(kind: str, point: dict[str, Any]) -> None:
    """Build the component once, so a bad name or parameter fails before anything runs."""
    params = {k: v for k, v in point.items() if k != "name"}
    if kind == "victim":
        from poisonlab.victims.factory import make_victim

        unknown = set(params) - {"features"}
        if unknown:
            raise ParameterError(
                f"A victim takes only 'name' and 'features'; got {', '.join(sorted(unknown))}."
            )
        make_victim(point["name"], **params)
        return
    if kind == "defense" and point["name"] == NO_DEFENSE:
        if params:
            raise ParameterError("The 'none' defense takes no parameters.")
        return
    registry = _registry(kind)
    component = registry.get(point["name"])
    try:
        component(**params)
    except TypeError as error:
        raise ParameterError(f"Bad parameters for {kind} {point['name']!r}: {error}.") from None


def _registry(kind: str) -> Any:
    if kind == "attack":
        from poisonlab.attacks import ATTACKS

        return ATTACKS
    if kind == "defense":
        from poisonlab.defenses import DEFENSES

        return DEFENSES
    from poisonlab.detectors import DETECTORS

    return DETECTORS


def _points(raw: Mapping[str, Any], kind: str, *, required: bool) -> tuple[dict[str, Any], ...]:
    tables = raw.get(kind, [])
    if isinstance(tables, dict):
        tables = [tables]
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ParameterError(f"'{kind}' must be a table or an array of tables ([[{kind}]]).")
    if required and not tables:
        raise ParameterError(f"The spec needs at least one [[{kind}]] table.")
    points = [point for table in tables for point in _expand(table, kind)]
    for point in points:
        _check_component(kind, point)
    return tuple(points)


def parse_spec(raw: Mapping[str, Any], *, base: Path | None = None) -> SweepSpec:
    """Validate a spec already read from TOML; relative data paths resolve against `base`.

    Examples
    --------
    >>> spec = parse_spec({
    ...     "data": "article", "seeds": [0, 1],
    ...     "victim": [{"name": "nb"}],
    ...     "attack": [{"name": "label_flip", "strategy": "targeted", "n": [1, 2]}],
    ... })
    >>> len(spec.cells())
    4
    >>> parse_spec({"data": "article", "seeds": [0], "victim": [{"name": "nb"}], "atack": []})
    Traceback (most recent call last):
    ...
    poisonlab._errors.ParameterError: Unknown key(s) in the spec: atack. Known: attack, data, ...
    """
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        known = ", ".join(sorted(TOP_LEVEL_KEYS))
        raise ParameterError(f"Unknown key(s) in the spec: {', '.join(unknown)}. Known: {known}.")
    data = raw.get("data")
    if not isinstance(data, str) or not data:
        raise ParameterError("The spec needs 'data': a bundled corpus name or a file path.")
    from poisonlab.data import CORPORA

    if data not in CORPORA:
        path = Path(data)
        if not path.is_absolute() and base is not None:
            path = base / path
        data = os.fspath(path)
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds:
        raise ParameterError("'seeds' must be a non-empty list of integers.")
    if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**32 for s in seeds):
        raise ParameterError(f"Every seed must be an integer in [0, 2**32 - 1]; got {seeds!r}.")
    split_seed = raw.get("split_seed", DEFAULT_SPLIT_SEED)
    if not isinstance(split_seed, int) or isinstance(split_seed, bool) or not 0 <= split_seed < 2**32:
        raise ParameterError(f"'split_seed' must be an integer in [0, 2**32 - 1]; got {split_seed!r}.")
    defenses = _points(raw, "defense", required=False) or ({"name": NO_DEFENSE},)
    return SweepSpec(
        name=str(raw.get("name", "sweep")),
        data=data,
        split_seed=split_seed,
        seeds=tuple(dict.fromkeys(seeds)),
        victims=_points(raw, "victim", required=True),
        attacks=_points(raw, "attack", required=True),
        defenses=defenses,
        detectors=_points(raw, "detector", required=False),
    )


def load_spec(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and validate a TOML spec file."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"No such spec file: {file}.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError(f"Cannot read the spec {file}: {error}.") from None
    except tomllib.TOMLDecodeError as error:
        raise ParameterError(f"{file} is not valid TOML: {error}.") from None
    return parse_spec(raw, base=file.parent)
