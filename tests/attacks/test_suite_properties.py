"""Hypothesis property tests for the clean-label and spam-filter attacks.

On random small datasets (2 or 3 classes, empty classes, texts without a single word, unicode)
each attack either returns a consistent record of exactly its budget, with every label kept
where it promises clean labels, or fails with a `PoisonlabError`, and never changes its input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poisonlab import ParameterError, PoisonlabError
from poisonlab.attacks import (
    Attack,
    BoundaryShift,
    CleanLabelBackdoor,
    DictionaryAttack,
    FocusedAttack,
    Poisoned,
)
from poisonlab.data import Dataset

CheckPoisoned = Callable[[Attack, Dataset, Poisoned], None]
Snapshot = Callable[[Dataset], tuple[object, ...]]

CLASS_NAMES = ("ham", "spam", "promo")
WORDS = ("win", "cash", "free", "lunch", "meeting", "ok", "PROMO2026", "cf", "", "héllo", "🙂", "a")
SETTINGS = settings(max_examples=40, deadline=None, database=None)

texts = st.one_of(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join), st.text(max_size=15))
budgets = st.one_of(
    st.builds(lambda n: {"n": n}, st.integers(1, 12)),
    st.builds(lambda r: {"rate": r}, st.floats(0.0, 1.0, exclude_min=True)),
)


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    n_classes = draw(st.integers(2, 3))
    size = draw(st.integers(1, 20))
    labels = draw(st.lists(st.integers(0, n_classes - 1), min_size=size, max_size=size))
    return Dataset(draw(st.lists(texts, min_size=size, max_size=size)), labels, CLASS_NAMES[:n_classes])


def budget_of(budget: dict[str, Any], ds: Dataset) -> int:
    return int(budget["n"]) if "n" in budget else round(budget["rate"] * len(ds))


def outcome(
    attack: Attack, ds: Dataset, seed: int, must_fail: bool, check: CheckPoisoned, snapshot: Snapshot
) -> Poisoned | None:
    """Apply; a consistent record, or a PoisonlabError (a ParameterError when `must_fail`)."""
    before = snapshot(ds)
    try:
        out = attack.apply(ds, random_state=seed)
    except PoisonlabError as error:
        assert snapshot(ds) == before
        assert not must_fail or isinstance(error, ParameterError)
        return None
    assert not must_fail, "an impossible budget or equal classes must fail"
    assert snapshot(ds) == before
    check(attack, ds, out)
    return out


def classes_of(draw: Any, ds: Dataset) -> tuple[int | None, int | None]:
    pick = st.none() | st.integers(0, len(ds.classes) - 1)
    return draw(pick, label="source"), draw(pick, label="target")


@SETTINGS
@given(data=st.data())
def test_clean_label_backdoor(data: st.DataObject, check_poisoned: CheckPoisoned, snapshot: Snapshot) -> None:
    ds = data.draw(datasets(), label="dataset")
    source, target = classes_of(data.draw, ds)
    budget = data.draw(budgets, label="budget")
    attack = CleanLabelBackdoor(
        trigger=data.draw(st.sampled_from(["PROMO2026", "limited offer", "🙂"]), label="trigger"),
        position=data.draw(st.sampled_from(["start", "end", "random"]), label="position"),
        mode=data.draw(st.sampled_from(["insert", "inject"]), label="mode"),
        select=data.draw(st.sampled_from(["random", "hardest"]), label="select"),
        source=source,
        target=target,
        **budget,
    )
    src = len(ds.classes) - 1 if source is None else source
    tgt = 0 if target is None else target
    count = budget_of(budget, ds)
    must_fail = src == tgt or not 1 <= count <= int((ds.labels == tgt).sum())
    out = outcome(attack, ds, data.draw(st.integers(0, 2**32 - 1)), must_fail, check_poisoned, snapshot)
    if out is not None:
        assert out.n_poison == count
        kept = out.source_row >= 0
        assert np.array_equal(out.poisoned.labels[kept], ds.labels[out.source_row[kept]]), "no label changes"
        assert (out.poisoned.labels[out.is_poison] == tgt).all()


@SETTINGS
@given(data=st.data())
def test_boundary_shift(data: st.DataObject, check_poisoned: CheckPoisoned, snapshot: Snapshot) -> None:
    ds = data.draw(datasets(), label="dataset")
    source, target = classes_of(data.draw, ds)
    budget = data.draw(budgets, label="budget")
    words = data.draw(
        st.none() | st.lists(st.sampled_from(["free", "prize", "🙂 win"]), min_size=1).map(tuple)
    )
    attack = BoundaryShift(
        words=words,
        n_words=data.draw(st.integers(1, 5), label="n_words"),
        per_row=data.draw(st.none() | st.integers(1, 3), label="per_row"),
        select=data.draw(st.sampled_from(["random", "confident"]), label="select"),
        mode=data.draw(st.sampled_from(["insert", "inject"]), label="mode"),
        source=source,
        target=target,
        **budget,
    )
    src = len(ds.classes) - 1 if source is None else source
    tgt = 0 if target is None else target
    count = budget_of(budget, ds)
    must_fail = src == tgt or not 1 <= count <= int((ds.labels == tgt).sum())
    out = outcome(attack, ds, data.draw(st.integers(0, 2**32 - 1)), must_fail, check_poisoned, snapshot)
    if out is not None:
        assert out.n_poison == count
        planted = attack.campaign_words(ds)
        for row in out.poison_rows:
            base = ds.texts[out.source_row[row]] if out.source_row[row] >= 0 else None
            if base is not None:
                assert out.poisoned.texts[row].startswith(base)
            assert any(word in out.poisoned.texts[row] for word in planted)


@SETTINGS
@given(data=st.data())
def test_dictionary(data: st.DataObject, check_poisoned: CheckPoisoned, snapshot: Snapshot) -> None:
    ds = data.draw(datasets(), label="dataset")
    source, target = classes_of(data.draw, ds)
    budget = data.draw(budgets, label="budget")
    attack = DictionaryAttack(
        n_words=data.draw(st.none() | st.integers(1, 10), label="n_words"),
        per_message=data.draw(st.none() | st.integers(1, 2), label="per_message"),
        source=source,
        target=target,
        **budget,
    )
    src = 0 if source is None else source
    tgt = len(ds.classes) - 1 if target is None else target
    count = budget_of(budget, ds)
    out = outcome(
        attack, ds, data.draw(st.integers(0, 2**32 - 1)), src == tgt or count < 1, check_poisoned, snapshot
    )
    if out is not None:
        assert out.n_poison == count == len(out.poisoned) - len(ds)
        dictionary = set(attack.dictionary(ds))
        assert all(set(t.split(" ")) <= dictionary for t in out.poisoned.texts[len(ds) :])


@SETTINGS
@given(data=st.data())
def test_focused(data: st.DataObject, check_poisoned: CheckPoisoned, snapshot: Snapshot) -> None:
    ds = data.draw(datasets(), label="dataset")
    source, target = classes_of(data.draw, ds)
    budget = data.draw(budgets, label="budget")
    message = data.draw(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join), label="message"
    )
    knowledge = data.draw(st.floats(0.0, 1.0, exclude_min=True), label="knowledge")
    if not any(len(w) >= 2 for w in message.split(" ")):
        with pytest.raises(ParameterError, match="'message'"):
            FocusedAttack(message=message, knowledge=knowledge, **budget)
        return
    attack = FocusedAttack(message=message, knowledge=knowledge, source=source, target=target, **budget)
    src = 0 if source is None else source
    tgt = len(ds.classes) - 1 if target is None else target
    count = budget_of(budget, ds)
    out = outcome(
        attack, ds, data.draw(st.integers(0, 2**32 - 1)), src == tgt or count < 1, check_poisoned, snapshot
    )
    if out is not None:
        assert out.n_poison == count
        assert (out.poisoned.labels[len(ds) :] == tgt).all()
