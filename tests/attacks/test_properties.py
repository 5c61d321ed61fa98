"""Hypothesis property tests: on random small datasets and budgets, attacks touch exactly the
budget, never change rows they report untouched, and fail only with `ParameterError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poisonlab import ParameterError
from poisonlab.attacks import Attack, Backdoor, LabelFlip, Poisoned
from poisonlab.data import Dataset

CheckPoisoned = Callable[[Attack, Dataset, Poisoned], None]
Snapshot = Callable[[Dataset], tuple[object, ...]]

CLASS_NAMES = ("ham", "spam", "promo")
WORDS = ("win", "cash", "free", "lunch", "meeting", "ok", "PROMO2026", "cf", "", "héllo", "🙂")
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, database=None)

texts = st.one_of(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join), st.text(max_size=20))


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    """2 or 3 classes, 1-25 rows, random texts and labels (a class may be empty)."""
    n_classes = draw(st.integers(2, 3))
    size = draw(st.integers(1, 25))
    labels = draw(st.lists(st.integers(0, n_classes - 1), min_size=size, max_size=size))
    rows = draw(st.lists(texts, min_size=size, max_size=size))
    return Dataset(rows, labels, CLASS_NAMES[:n_classes], name="random")


budgets = st.one_of(
    st.builds(lambda n: {"n": n}, st.integers(1, 30)),
    st.builds(lambda r: {"rate": r}, st.floats(0.0, 1.0, exclude_min=True)),
)


def class_specs(ds: Dataset) -> st.SearchStrategy[str | int | None]:
    """None (the default), an index, or a class name of `ds`."""
    return st.one_of(st.none(), st.integers(0, len(ds.classes) - 1), st.sampled_from(ds.classes))


def resolve(ds: Dataset, spec: str | int | None, default: int) -> int:
    return default if spec is None else ds.class_index(spec)


def budget_of(budget: dict[str, Any], ds: Dataset) -> int:
    return int(budget["n"]) if "n" in budget else round(budget["rate"] * len(ds))


def run(
    attack: Attack,
    ds: Dataset,
    seed: int,
    expect_error: bool,
    check_poisoned: CheckPoisoned,
    snapshot: Snapshot,
) -> Poisoned | None:
    before = snapshot(ds)
    if expect_error:
        with pytest.raises(ParameterError):
            attack.apply(ds, random_state=seed)
        assert snapshot(ds) == before
        return None
    out = attack.apply(ds, random_state=seed)
    assert snapshot(ds) == before
    check_poisoned(attack, ds, out)  # untouched rows identical, poison rows really changed
    return out


@PROPERTY_SETTINGS
@given(data=st.data())
def test_label_flip_properties(
    data: st.DataObject, check_poisoned: CheckPoisoned, snapshot: Snapshot
) -> None:
    ds = data.draw(datasets(), label="dataset")
    strategy = data.draw(st.sampled_from(["random", "targeted"]), label="strategy")
    budget = data.draw(budgets, label="budget")
    source = target = None
    if strategy == "targeted":
        source, target = (
            data.draw(class_specs(ds), label="source"),
            data.draw(class_specs(ds), label="target"),
        )
    attack = LabelFlip(strategy=strategy, source=source, target=target, **budget)
    count = budget_of(budget, ds)
    src, tgt = resolve(ds, source, len(ds.classes) - 1), resolve(ds, target, 0)
    pool = len(ds) if strategy == "random" else int((ds.labels == src).sum())
    expect_error = count < 1 or count > pool or (strategy == "targeted" and src == tgt)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")

    out = run(attack, ds, seed, expect_error, check_poisoned, snapshot)
    if out is None:
        return
    assert out.n_poison == count
    assert out.poisoned.texts == ds.texts and out.poisoned.ids == ds.ids
    changed = out.poisoned.labels != ds.labels
    assert np.array_equal(changed, out.is_poison), "exactly the flagged rows changed label"
    if strategy == "targeted":
        assert (ds.labels[out.is_poison] == src).all()
        assert (out.poisoned.labels[out.is_poison] == tgt).all()


@PROPERTY_SETTINGS
@given(data=st.data())
def test_backdoor_properties(data: st.DataObject, check_poisoned: CheckPoisoned, snapshot: Snapshot) -> None:
    ds = data.draw(datasets(), label="dataset")
    mode = data.draw(st.sampled_from(["insert", "inject"]), label="mode")
    carriers = None
    if mode == "inject":
        carriers = data.draw(st.none() | st.lists(texts, min_size=1, max_size=3).map(tuple), label="carriers")
    budget = data.draw(budgets, label="budget")
    source, target = data.draw(class_specs(ds), label="source"), data.draw(class_specs(ds), label="target")
    attack = Backdoor(
        trigger=data.draw(st.sampled_from(["PROMO2026", "cf", "limited offer", "🙂"]), label="trigger"),
        position=data.draw(st.sampled_from(["start", "end", "random"]), label="position"),
        repeat=data.draw(st.integers(1, 3), label="repeat"),
        mode=mode,
        source=source,
        target=target,
        carriers=carriers,
        **budget,
    )
    count = budget_of(budget, ds)
    src, tgt = resolve(ds, source, len(ds.classes) - 1), resolve(ds, target, 0)
    pool = 10**9 if carriers is not None else int((ds.labels == src).sum())
    expect_error = count < 1 or count > pool or src == tgt
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")

    out = run(attack, ds, seed, expect_error, check_poisoned, snapshot)
    if out is None:
        return
    assert out.n_poison == count
    assert (out.poisoned.labels[out.is_poison] == tgt).all()
    block = out.trigger.block if out.trigger is not None else None
    assert block is not None
    assert all(block in out.poisoned.texts[row] for row in out.poison_rows)
    if mode == "insert":
        assert len(out.poisoned) == len(ds)
        assert (ds.labels[out.is_poison] == src).all()
    else:
        assert len(out.poisoned) == len(ds) + count
        assert (out.source_row[len(ds) :] == -1).all()
        assert not out.is_poison[: len(ds)].any()
