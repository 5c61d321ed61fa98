"""The attack contract suite: runs on every registered attack, on each of its `examples()`.

A newly registered attack is covered with no edit here. Like scikit-learn's ``check_estimator``:
input never mutated, a consistent `Poisoned` record, budget respected, untouched rows identical,
same seed gives the same bytes, parameters round-trip through JSON.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable

import numpy as np
import pytest

from poisonlab.attacks import ATTACKS, Attack, Poisoned
from poisonlab.data import Dataset

Snapshot = Callable[[Dataset], tuple[object, ...]]
OutputOf = Callable[[Poisoned], tuple[object, ...]]
CheckPoisoned = Callable[[Attack, Dataset, Poisoned], None]

CASES = [(name, example) for name in ATTACKS for example in ATTACKS.get(name).examples()]
CASE_IDS = [f"{name}-{i}" for name in ATTACKS for i in range(len(ATTACKS.get(name).examples()))]


def cases() -> pytest.MarkDecorator:
    return pytest.mark.parametrize(("name", "attack"), CASES, ids=CASE_IDS)


@pytest.fixture(params=["small", "sms"])
def dataset(request: pytest.FixtureRequest) -> Dataset:
    """The contract runs on a tiny dataset and on the SMS training split."""
    if request.param == "small":
        small: Dataset = request.getfixturevalue("small_dataset")
        return small
    train: Dataset = request.getfixturevalue("sms_split")[0]
    return train


def expected_budget(attack: Attack, clean: Dataset) -> int:
    n: int | None = getattr(attack, "n", None)
    rate: float | None = getattr(attack, "rate", None)
    if n is not None:
        assert rate is None, "exactly one budget"
        return n
    assert rate is not None, "exactly one budget"
    return round(rate * len(clean))


# --- the class-level contract -------------------------------------------------------------------


def numpydoc_sections(doc: str) -> dict[str, list[str]]:
    """Split a numpydoc docstring into {section title: lines}; the summary is under ''."""
    lines = inspect.cleandoc(doc).splitlines()
    sections: dict[str, list[str]] = {"": []}
    current = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and underline.strip() and set(underline.strip()) == {"-"}:
            assert len(underline.strip()) == len(line.strip()), f"underline of {line!r} has the wrong length"
            current = line.strip()
            assert current not in sections, f"section {current!r} appears twice"
            sections[current] = []
            i += 2
            continue
        sections[current].append(line)
        i += 1
    return sections


def test_registry_is_not_empty() -> None:
    assert {"label_flip", "backdoor"} <= set(ATTACKS)
    assert len(CASES) >= len(ATTACKS.names())


@pytest.mark.parametrize("name", ATTACKS.names())
def test_registered_class(name: str) -> None:
    cls = ATTACKS.get(name)
    assert inspect.isclass(cls) and issubclass(cls, Attack)
    assert cls.name == name
    assert isinstance(cls.paper, str) and cls.paper.strip()
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    assert all(f.kw_only for f in dataclasses.fields(cls)), "parameters are keyword-only"
    examples = cls.examples()
    assert examples, "examples() must give at least one instance"
    assert all(type(e) is cls for e in examples)


@pytest.mark.parametrize("name", ATTACKS.names())
def test_numpydoc_docstring(name: str) -> None:
    cls = ATTACKS.get(name)
    assert cls.__doc__, f"{cls.__name__} has no docstring"
    sections = numpydoc_sections(cls.__doc__)
    summary = [line for line in sections[""] if line.strip()]
    assert summary and summary[0].endswith("."), "a one-line summary ending in a period"
    assert "Examples" in sections
    assert any(line.lstrip().startswith(">>>") for line in sections["Examples"])
    assert "Parameters" in sections
    documented = set()
    for line in sections["Parameters"]:
        if line and not line[0].isspace():
            names = line.split(" : ")[0]
            documented |= {part.strip() for part in names.split(",")}
    fields = {f.name for f in dataclasses.fields(cls)}
    assert fields <= documented, f"undocumented parameters: {sorted(fields - documented)}"
    assert documented <= fields, f"documented but not parameters: {sorted(documented - fields)}"


# --- the instance-level contract ----------------------------------------------------------------


@cases()
def test_frozen_and_hashable(name: str, attack: Attack) -> None:
    field = dataclasses.fields(attack)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(attack, field, getattr(attack, field))
    assert hash(attack) == hash(dataclasses.replace(attack))  # type: ignore[type-var]


@cases()
def test_params_round_trip_through_json(name: str, attack: Attack) -> None:
    params = attack.get_params()
    assert set(params) == {f.name for f in dataclasses.fields(attack)}  # type: ignore[arg-type]
    rebuilt = type(attack)(**json.loads(json.dumps(params)))
    assert rebuilt == attack
    assert rebuilt.get_params() == params
    assert ATTACKS.get(name)(**json.loads(json.dumps(params))) == attack


@cases()
def test_input_never_mutated(name: str, attack: Attack, dataset: Dataset, snapshot: Snapshot) -> None:
    before = snapshot(dataset)
    attack.apply(dataset, random_state=0)
    assert snapshot(dataset) == before
    assert not dataset.labels.flags.writeable


@cases()
def test_consistent_record(
    name: str, attack: Attack, dataset: Dataset, check_poisoned: CheckPoisoned
) -> None:
    check_poisoned(attack, dataset, attack.apply(dataset, random_state=0))


@cases()
def test_budget_respected(name: str, attack: Attack, dataset: Dataset) -> None:
    for seed in (0, 1):
        out = attack.apply(dataset, random_state=seed)
        assert out.n_poison == expected_budget(attack, dataset)
        assert out.n_poison == len(out.poison_rows)
        assert out.poison_share == out.n_poison / len(out.poisoned)


@cases()
def test_same_seed_same_output(name: str, attack: Attack, dataset: Dataset, output_of: OutputOf) -> None:
    first = attack.apply(dataset, random_state=123)
    assert output_of(attack.apply(dataset, random_state=123)) == output_of(first)
    others = [output_of(attack.apply(dataset, random_state=seed)) for seed in (1, 2, 3, 4)]
    assert any(other != output_of(first) for other in others), "different seeds never differ"


@cases()
def test_random_state_kinds(
    name: str, attack: Attack, dataset: Dataset, check_poisoned: CheckPoisoned, output_of: OutputOf
) -> None:
    for random_state in (7, None, np.random.default_rng(7)):
        check_poisoned(attack, dataset, attack.apply(dataset, random_state=random_state))
    a = attack.apply(dataset, random_state=np.random.default_rng(11))
    b = attack.apply(dataset, random_state=np.random.default_rng(11))
    assert output_of(a) == output_of(b)


def test_every_attack_class_is_registered() -> None:
    """An attack module that `poisonlab.attacks` forgets to import would escape this suite."""
    import poisonlab.attacks as package

    registered = set(ATTACKS.names())
    found = set()
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        for _, obj in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(obj, Attack) and not inspect.isabstract(obj):
                found.add(obj)
    assert found, "no attack classes found"
    assert {ATTACKS.get(name) for name in registered} == found
    assert set(ATTACKS.names()) == registered == {name for name, _ in CASES}
