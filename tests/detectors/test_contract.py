"""The detector contract suite: runs on every registered detector, on each of its `examples()`.

A newly registered detector is covered with no edit here: one finite score per row, input
never mutated, same parameters and seed give the same scores, parameters round-trip through
JSON, a paper and a numpydoc docstring with a runnable example, and a consistent `Findings`,
`flag` or `suspected_triggers` where the detector offers them.
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

from poisonlab._errors import DataError
from poisonlab.data import Dataset
from poisonlab.detectors import DETECTORS, Detector, Findings
from poisonlab.detectors.out_of_fold import clear_cache

Snapshot = Callable[[Dataset], tuple[object, ...]]

CASES = [(name, example) for name in DETECTORS for example in DETECTORS.get(name).examples()]
CASE_IDS = [f"{name}-{i}" for name in DETECTORS for i in range(len(DETECTORS.get(name).examples()))]


def cases() -> pytest.MarkDecorator:
    return pytest.mark.parametrize(("name", "detector"), CASES, ids=CASE_IDS)


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


def scores_of(detector: Detector, dataset: Dataset) -> np.ndarray:
    clear_cache()  # shared out-of-fold probabilities would hide a nondeterministic model
    return detector.score(dataset)


# --- the class-level contract -------------------------------------------------------------------


def test_registry_holds_the_label_issue_and_flood_detectors() -> None:
    assert {"confident_learning", "knn_labels", "nb_influence", "duplicate_flood"} <= set(DETECTORS)
    assert len(CASES) >= len(DETECTORS.names())


@pytest.mark.parametrize("name", DETECTORS.names())
def test_registered_class(name: str) -> None:
    cls = DETECTORS.get(name)
    assert inspect.isclass(cls) and issubclass(cls, Detector)
    assert cls.name == name
    assert isinstance(cls.paper, str) and cls.paper.strip()
    assert isinstance(cls.targets, tuple) and cls.targets and all(isinstance(t, str) for t in cls.targets)
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    assert all(f.kw_only for f in dataclasses.fields(cls)), "parameters are keyword-only"
    cls()  # every parameter has a default: `poisonlab scan` builds each detector bare
    examples = cls.examples()
    assert examples, "examples() must give at least one instance"
    assert all(type(e) is cls for e in examples)
    assert len({json.dumps(e.get_params(), sort_keys=True) for e in examples}) == len(examples)


@pytest.mark.parametrize("name", DETECTORS.names())
def test_numpydoc_docstring(name: str) -> None:
    cls = DETECTORS.get(name)
    assert cls.__doc__, f"{cls.__name__} has no docstring"
    sections = numpydoc_sections(cls.__doc__)
    summary = [line for line in sections[""] if line.strip()]
    assert summary and summary[0].endswith("."), "a one-line summary ending in a period"
    assert "Examples" in sections
    assert any(line.lstrip().startswith(">>>") for line in sections["Examples"])
    fields = {f.name for f in dataclasses.fields(cls)}
    documented: set[str] = set()
    for line in sections.get("Parameters", []):
        if line and not line[0].isspace():
            documented |= {part.strip() for part in line.split(" : ")[0].split(",")}
    assert fields <= documented, f"undocumented parameters: {sorted(fields - documented)}"
    assert documented <= fields, f"documented but not parameters: {sorted(documented - fields)}"


def test_every_detector_class_is_registered() -> None:
    """A detector module that `poisonlab.detectors` forgets to import would escape this suite."""
    import poisonlab.detectors as package

    found = set()
    for module in pkgutil.iter_modules(package.__path__):
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        for _, obj in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(obj, Detector) and not inspect.isabstract(obj):
                found.add(obj)
    assert {DETECTORS.get(name) for name in DETECTORS} == found


# --- the instance-level contract ----------------------------------------------------------------


@cases()
def test_frozen_and_hashable(name: str, detector: Detector) -> None:
    field = dataclasses.fields(detector)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(detector, field, getattr(detector, field))
    assert hash(detector) == hash(dataclasses.replace(detector))  # type: ignore[type-var]


@cases()
def test_params_round_trip_through_json(name: str, detector: Detector) -> None:
    params = detector.get_params()
    assert set(params) == {f.name for f in dataclasses.fields(detector)}  # type: ignore[arg-type]
    rebuilt = DETECTORS.get(name)(**json.loads(json.dumps(params)))
    assert rebuilt == detector
    assert rebuilt.get_params() == params


@cases()
def test_scores_on_real_data(name: str, detector: Detector, sms_sample: Dataset, snapshot: Snapshot) -> None:
    """One finite float per row; the input untouched; a rebuilt detector gives the same bytes."""
    before = snapshot(sms_sample)
    scores = scores_of(detector, sms_sample)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    assert scores.shape == (len(sms_sample),)
    assert np.all(np.isfinite(scores))
    assert snapshot(sms_sample) == before
    again = scores_of(type(detector)(**detector.get_params()), sms_sample)
    assert again.tobytes() == scores.tobytes(), "same parameters and seed must give the same scores"


@cases()
def test_tiny_data_scores_or_says_why(
    name: str, detector: Detector, small_dataset: Dataset, snapshot: Snapshot
) -> None:
    """On 15 rows a detector either scores every row or refuses with a clear DataError."""
    before = snapshot(small_dataset)
    try:
        scores = scores_of(detector, small_dataset)
    except DataError as error:
        assert str(error).strip() and "\n" not in str(error)
    else:
        assert scores.shape == (len(small_dataset),) and np.all(np.isfinite(scores))
    assert snapshot(small_dataset) == before


@cases()
def test_optional_outputs_agree_with_scores(name: str, detector: Detector, sms_sample: Dataset) -> None:
    """`findings`, `flag` and `suspected_triggers`, where offered, fit the scores and the rows."""
    scores = scores_of(detector, sms_sample)
    n = len(sms_sample)
    if hasattr(detector, "findings"):
        found = detector.findings(sms_sample)
        assert isinstance(found, Findings)
        assert found.scores.tobytes() == scores.tobytes()
        assert found.flags.dtype == np.bool_ and found.flags.shape == (n,)
        assert all(bool(reason) == bool(flag) for reason, flag in zip(found.reasons, found.flags.tolist()))
    if hasattr(detector, "flag"):
        flags = np.asarray(detector.flag(sms_sample))
        assert flags.dtype == np.bool_ and flags.shape == (n,)
        if hasattr(detector, "findings"):
            assert flags.tolist() == detector.findings(sms_sample).flags.tolist()
    if hasattr(detector, "suspected_triggers"):
        for trigger in detector.suspected_triggers(sms_sample):
            assert trigger is not None


def test_detector_scores_are_not_all_equal(sms_flip: object) -> None:
    """A detector whose scores cannot rank rows would pass every check above; none may."""
    poisoned = sms_flip.poisoned  # type: ignore[attr-defined]
    sample = poisoned.take(np.arange(800))
    for name in DETECTORS:
        scores = scores_of(DETECTORS.get(name)(), sample)
        assert np.unique(scores).size > 1, name
