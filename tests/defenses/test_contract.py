"""The defense contract suite: runs on every registered defense, on each of its `examples()`.

A newly registered defense is covered with no edit here. Like scikit-learn's ``check_estimator``:
input never mutated, ``fit`` returns a `Defended` whose ``predict`` gives one class index per
text, same seed gives the same predictions, parameters round-trip through JSON, a numpydoc
docstring with runnable examples and a cited paper.

A defense that works only with some victims lists their names in a ``supported_victims``
class attribute; the suite fits it with the first of them (``nb`` otherwise).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.data import Dataset
from poisonlab.defenses import DEFENSES, Defended, Defense

CASES = [(name, example) for name in DEFENSES for example in DEFENSES.get(name).examples()]
CASE_IDS = [f"{name}-{i}" for name in DEFENSES for i in range(len(DEFENSES.get(name).examples()))]
UNSEEN = ["WINNER!! claim your free prize now", "are we still on for lunch", "", "zzqx unseenword"]


def cases() -> pytest.MarkDecorator:
    return pytest.mark.parametrize(("name", "defense"), CASES, ids=CASE_IDS)


def victim_for(defense: Defense) -> str:
    supported: tuple[str, ...] | None = getattr(type(defense), "supported_victims", None)
    return supported[0] if supported else "nb"


def snapshot(ds: Dataset) -> tuple[object, ...]:
    return (ds.texts, ds.labels.tobytes(), ds.labels.dtype.str, ds.ids, ds.classes, ds.name)


SMS_ROWS = 1500
"""The contract checks invariants, not quality: real SMS rows, few enough to keep CI fast
however many defenses are registered."""


@pytest.fixture(params=["small", "sms"])
def data(request: pytest.FixtureRequest) -> tuple[Dataset, list[str]]:
    """A training set and texts to predict: a tiny set, and SMS training rows (test texts + odd ones)."""
    if request.param == "small":
        small: Dataset = request.getfixturevalue("small_dataset")
        return small, [*small.texts, *UNSEEN]
    train, test = request.getfixturevalue("sms_split")
    return _sms_sample(train), [*test.texts[:300], *UNSEEN]


_SAMPLES: dict[int, Dataset] = {}


def _sms_sample(train: Dataset) -> Dataset:
    """The first `SMS_ROWS` training rows, one object per session (the fit cache keys on it)."""
    if id(train) not in _SAMPLES:
        _SAMPLES[id(train)] = train.take(range(min(SMS_ROWS, len(train))))
    return _SAMPLES[id(train)]


_FITS: dict[tuple[str, int, str], tuple[tuple[object, ...], Defended]] = {}


def fitted(defense: Defense, train: Dataset) -> tuple[tuple[object, ...], Defended]:
    """Fit once per (example, training set) for the tests that only inspect the result."""
    key = (defense.name, id(defense), train.name + str(len(train)))
    if key not in _FITS:
        before = snapshot(train)
        _FITS[key] = (before, defense.fit(train, victim_for(defense), random_state=0))
    return _FITS[key]


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


# --- the class-level contract -------------------------------------------------------------------


def test_registry_holds_the_defenses() -> None:
    assert {"dp_naive_bayes", "dp_logistic", "partition_aggregation"} <= set(DEFENSES)
    assert len(CASES) >= len(DEFENSES.names())


@pytest.mark.parametrize("name", DEFENSES.names())
def test_registered_class(name: str) -> None:
    cls = DEFENSES.get(name)
    assert inspect.isclass(cls) and issubclass(cls, Defense)
    assert cls.name == name
    assert isinstance(cls.paper, str) and cls.paper.strip()
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    assert all(f.kw_only for f in dataclasses.fields(cls)), "parameters are keyword-only"
    examples = cls.examples()
    assert examples, "examples() must give at least one instance"
    assert all(type(e) is cls for e in examples)
    supported = getattr(cls, "supported_victims", None)
    assert supported is None or (isinstance(supported, tuple) and supported)


@pytest.mark.parametrize("name", DEFENSES.names())
def test_numpydoc_docstring(name: str) -> None:
    cls = DEFENSES.get(name)
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


def test_every_defense_class_is_registered() -> None:
    """A defense module that `poisonlab.defenses` forgets to import would escape this suite."""
    import poisonlab.defenses as package

    found = set()
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        for _, obj in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(obj, Defense) and not inspect.isabstract(obj):
                found.add(obj)
    assert found, "no defense classes found"
    assert {DEFENSES.get(name) for name in DEFENSES.names()} == found


# --- the instance-level contract ----------------------------------------------------------------


@cases()
def test_frozen_and_hashable(name: str, defense: Defense) -> None:
    field = dataclasses.fields(defense)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(defense, field, getattr(defense, field))
    assert hash(defense) == hash(dataclasses.replace(defense))  # type: ignore[type-var]


@cases()
def test_params_round_trip_through_json(name: str, defense: Defense) -> None:
    params = defense.get_params()
    assert set(params) == {f.name for f in dataclasses.fields(defense)}  # type: ignore[arg-type]
    rebuilt = type(defense)(**json.loads(json.dumps(params)))
    assert rebuilt == defense
    assert rebuilt.get_params() == params
    assert DEFENSES.get(name)(**json.loads(json.dumps(params))) == defense


@cases()
def test_input_never_mutated(name: str, defense: Defense, data: tuple[Dataset, list[str]]) -> None:
    train, _ = data
    before, _ = fitted(defense, train)
    assert snapshot(train) == before
    assert not train.labels.flags.writeable


@cases()
def test_defended_record(name: str, defense: Defense, data: tuple[Dataset, list[str]]) -> None:
    train, _ = data
    _, out = fitted(defense, train)
    assert isinstance(out, Defended)
    assert out.defense == name
    assert out.params == defense.get_params()
    json.dumps(out.params)
    json.dumps(out.info)
    if out.removed is not None:
        assert out.removed.dtype == np.bool_ and out.removed.shape == (len(train),)
    if out.weights is not None:
        assert out.weights.shape == (len(train),)
        assert np.all(np.isfinite(out.weights)) and np.all(out.weights >= 0)


@cases()
def test_predictions_are_class_indices(name: str, defense: Defense, data: tuple[Dataset, list[str]]) -> None:
    train, texts = data
    _, out = fitted(defense, train)
    for given in (texts, tuple(texts), texts[:1]):
        predictions = out.predict(given)
        assert predictions.dtype == np.int64
        assert predictions.shape == (len(given),)
        assert ((predictions >= 0) & (predictions < len(train.classes))).all()
    if hasattr(out.model, "predict_proba"):
        proba = out.predict_proba(texts)
        assert proba.shape == (len(texts), len(train.classes))
        assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1.0)
        assert (np.argmax(proba, axis=1) == out.predict(texts)).all(), "predict is the most probable class"


@cases()
def test_same_seed_same_predictions(name: str, defense: Defense, data: tuple[Dataset, list[str]]) -> None:
    train, texts = data
    first = defense.fit(train, victim_for(defense), random_state=123)
    second = defense.fit(train, victim_for(defense), random_state=123)
    assert first.predict(texts).tobytes() == second.predict(texts).tobytes()
    if hasattr(first.model, "predict_proba"):
        assert first.predict_proba(texts).tobytes() == second.predict_proba(texts).tobytes()
    assert json.dumps(first.info, sort_keys=True) == json.dumps(second.info, sort_keys=True)
    for a, b in ((first.removed, second.removed), (first.weights, second.weights)):
        assert (a is None and b is None) or (a is not None and b is not None and a.tobytes() == b.tobytes())


@cases()
def test_unknown_victim_is_a_parameter_error(name: str, defense: Defense, small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError):
        defense.fit(small_dataset, "no-such-victim", random_state=0)
