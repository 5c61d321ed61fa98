"""Checks shared by the attack tests, offered as fixtures (test modules are not importable)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from poisonlab.attacks import Attack, Poisoned, Trigger
from poisonlab.data import Dataset

# Hypothesis caches (constants, unicode data) go to the tests' sandbox, not ./.hypothesis.
# TMPDIR points into the sandbox: tests/conftest.py sets it before this file is loaded.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "hypothesis"))


def snapshot(ds: Dataset) -> tuple[object, ...]:
    """Everything that identifies a dataset's content, byte for byte."""
    return (ds.texts, ds.labels.tobytes(), ds.labels.dtype.str, ds.ids, ds.classes, ds.name)


def output_of(out: Poisoned) -> tuple[object, ...]:
    """Everything an attack produced, for comparing runs."""
    return (
        out.poisoned.texts,
        out.poisoned.labels.tobytes(),
        out.poisoned.ids,
        out.is_poison.tobytes(),
        out.source_row.tobytes(),
        out.trigger,
    )


def check_consistent(attack: Attack, clean: Dataset, out: Poisoned) -> None:
    """The invariants every `Poisoned` record satisfies."""
    poisoned = out.poisoned
    assert isinstance(out, Poisoned)
    assert isinstance(poisoned, Dataset)
    assert out.is_poison.dtype == np.bool_
    assert np.issubdtype(out.source_row.dtype, np.integer)
    assert out.is_poison.shape == out.source_row.shape == (len(poisoned),)
    assert poisoned.classes == clean.classes
    assert not poisoned.labels.flags.writeable
    assert snapshot(out.clean) == snapshot(clean)
    assert out.attack == attack.name
    assert out.params == attack.get_params()
    json.dumps(out.params)

    injected = out.source_row == -1
    assert out.is_poison[injected].all(), "injected rows must be poison"
    kept = out.source_row[~injected]
    assert ((kept >= 0) & (kept < len(clean))).all(), "source_row must point at a clean row"
    assert len(np.unique(kept)) == kept.size, "a clean row appears at most once"
    if len(set(clean.ids)) == len(clean):
        assert len(set(poisoned.ids)) == len(poisoned), "ids stay unique"

    for row in np.flatnonzero(~out.is_poison):
        src = int(out.source_row[row])
        assert poisoned.texts[row] == clean.texts[src]
        assert poisoned.labels[row] == clean.labels[src]
        assert poisoned.ids[row] == clean.ids[src]

    for row in np.flatnonzero(out.is_poison):
        src = int(out.source_row[row])
        if src == -1:
            continue
        changed = poisoned.texts[row] != clean.texts[src] or poisoned.labels[row] != clean.labels[src]
        assert changed, f"poison row {row} is identical to its source row {src}"
        assert poisoned.ids[row] == clean.ids[src]

    if out.target_class is not None:
        assert (poisoned.labels[out.is_poison] == out.target_class).all()
    if out.source_class is not None:  # relabelled rows come from the source class; clean-label
        changed = out.is_poison & ~injected  # poison keeps target-class rows' labels (checked above)
        touched = out.source_row[changed]
        relabelled = poisoned.labels[changed] != clean.labels[touched]
        assert (clean.labels[touched[relabelled]] == out.source_class).all()
    if out.trigger is not None:
        assert isinstance(out.trigger, Trigger)
        assert all(out.trigger.text in poisoned.texts[row] for row in np.flatnonzero(out.is_poison))
        assert all(out.trigger.text in t for t in out.trigger.apply(["see you at lunch", ""]))


@pytest.fixture(scope="session", name="snapshot")
def snapshot_fixture() -> Callable[[Dataset], tuple[object, ...]]:
    """`snapshot(dataset)`: a dataset's content, byte for byte, for before/after comparisons."""
    return snapshot


@pytest.fixture(scope="session", name="output_of")
def output_of_fixture() -> Callable[[Poisoned], tuple[object, ...]]:
    """`output_of(poisoned)`: everything an attack produced, for comparing runs."""
    return output_of


@pytest.fixture(scope="session", name="check_poisoned")
def check_poisoned_fixture() -> Callable[[Attack, Dataset, Poisoned], None]:
    """`check_poisoned(attack, clean, out)`: assert the invariants of a `Poisoned` record."""
    return check_consistent
