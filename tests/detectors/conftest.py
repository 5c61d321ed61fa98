"""Shared data for the detector tests: SMS with a 10 % targeted label flip, and small samples."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab.attacks import LabelFlip, Poisoned
from poisonlab.data import Dataset


def snapshot(ds: Dataset) -> tuple[object, ...]:
    """Everything that identifies a dataset's content, byte for byte."""
    return (ds.texts, ds.labels.tobytes(), ds.labels.dtype.str, ds.ids, ds.classes, ds.name)


@pytest.fixture(scope="session", name="snapshot")
def snapshot_fixture() -> object:
    """`snapshot(dataset)`: a dataset's content, for before/after comparisons."""
    return snapshot


@pytest.fixture(scope="session")
def sms_flip(sms_split: tuple[Dataset, Dataset]) -> Poisoned:
    """The SMS training split with 10 % of its rows flipped spam -> ham (seed 0)."""
    return LabelFlip(strategy="targeted", rate=0.1).apply(sms_split[0], random_state=0)


@pytest.fixture(scope="session")
def sms_sample(sms_split: tuple[Dataset, Dataset]) -> Dataset:
    """The first 800 rows of the SMS training split: real text, quick to scan."""
    return sms_split[0].take(np.arange(800))
