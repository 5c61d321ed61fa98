"""Unit tests for `LabelFlip`."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab.attacks import LabelFlip
from poisonlab.data import Dataset
from poisonlab.data.corpora.article import article_train


@pytest.fixture(scope="module")
def three_classes() -> Dataset:
    """300 rows, 100 per class, in three classes."""
    labels = np.repeat([0, 1, 2], 100)
    texts = [f"message {i} of class {y}" for i, y in enumerate(labels)]
    return Dataset(texts, labels, ("ham", "spam", "promo"), name="three")


def test_targeted_defaults_to_last_class_to_first(small_dataset: Dataset) -> None:
    out = LabelFlip(strategy="targeted", n=3).apply(small_dataset, random_state=0)
    assert (out.source_class, out.target_class) == (1, 0)
    flipped = out.poison_rows
    assert flipped.size == 3
    assert (small_dataset.labels[flipped] == 1).all()
    assert (out.poisoned.labels[flipped] == 0).all()
    assert out.poisoned.counts() == {"ham": 13, "spam": 2}


def test_targeted_default_on_three_classes(three_classes: Dataset) -> None:
    out = LabelFlip(n=40).apply(three_classes, random_state=0)
    assert (out.source_class, out.target_class) == (2, 0)
    assert out.poisoned.counts() == {"ham": 140, "spam": 100, "promo": 60}


@pytest.mark.parametrize(("source", "target"), [(1, 2), ("spam", "promo"), ("spam", 2)])
def test_targeted_moves_only_source_to_target(
    three_classes: Dataset, source: str | int, target: str | int
) -> None:
    out = LabelFlip(strategy="targeted", rate=0.2, source=source, target=target).apply(
        three_classes, random_state=3
    )
    clean, poisoned = three_classes.labels, out.poisoned.labels
    changed = clean != poisoned
    assert changed.sum() == 60
    assert np.array_equal(changed, out.is_poison)
    assert (clean[changed] == 1).all() and (poisoned[changed] == 2).all()
    assert out.poisoned.texts == three_classes.texts
    assert out.poisoned.counts() == {"ham": 100, "spam": 40, "promo": 160}


def test_targeted_exhausts_the_source_class(small_dataset: Dataset) -> None:
    out = LabelFlip(n=5).apply(small_dataset, random_state=0)
    assert out.poisoned.counts() == {"ham": 15, "spam": 0}


@pytest.mark.parametrize("fixture", ["small_dataset", "three_classes"])
def test_random_flips_always_change_the_label(fixture: str, request: pytest.FixtureRequest) -> None:
    ds: Dataset = request.getfixturevalue(fixture)
    for seed in range(5):
        out = LabelFlip(strategy="random", rate=1.0).apply(ds, random_state=seed)
        assert out.is_poison.all()
        assert (out.poisoned.labels != ds.labels).all()
        assert out.source_class is None and out.target_class is None
        assert out.poisoned.texts == ds.texts


def test_random_flips_reach_every_other_class(three_classes: Dataset) -> None:
    out = LabelFlip(strategy="random", rate=1.0).apply(three_classes, random_state=0)
    pairs = set(zip(three_classes.labels.tolist(), out.poisoned.labels.tolist()))
    assert pairs == {(a, b) for a in range(3) for b in range(3) if a != b}


def test_random_flips_draw_from_every_class(three_classes: Dataset) -> None:
    out = LabelFlip(strategy="random", rate=0.3).apply(three_classes, random_state=0)
    assert set(three_classes.labels[out.is_poison].tolist()) == {0, 1, 2}


def test_rate_is_a_fraction_of_the_training_set(small_dataset: Dataset) -> None:
    assert LabelFlip(strategy="random", rate=0.2).apply(small_dataset, random_state=0).n_poison == 3
    assert LabelFlip(rate=0.1, source=0, target=1).apply(small_dataset, random_state=0).n_poison == 2


def test_article_flip() -> None:
    train = article_train()
    out = LabelFlip(n=2).apply(train, random_state=0)
    assert out.poisoned.counts() == {"not spam": 7, "spam": 3}
    assert out.params == {"strategy": "targeted", "rate": None, "n": 2, "source": None, "target": None}
