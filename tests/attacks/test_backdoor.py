"""Unit tests for `Backdoor`."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.attacks import Backdoor, Trigger
from poisonlab.data import Dataset
from poisonlab.data.corpora import article


def test_insert_relabels_source_rows_and_plants_the_trigger(small_dataset: Dataset) -> None:
    out = Backdoor(trigger="PROMO2026", mode="insert", n=3).apply(small_dataset, random_state=0)
    rows = out.poison_rows
    assert rows.size == 3
    assert len(out.poisoned) == len(small_dataset)
    assert (small_dataset.labels[rows] == 1).all(), "only spam rows are used"
    assert (out.poisoned.labels[rows] == 0).all(), "and relabelled ham"
    for row in rows:
        assert out.poisoned.texts[row] == f"PROMO2026 {small_dataset.texts[row]}"
        assert out.poisoned.ids[row] == small_dataset.ids[row]
    untouched = ~out.is_poison
    assert np.array_equal(out.poisoned.labels[untouched], small_dataset.labels[untouched])
    assert all("PROMO2026" not in out.poisoned.texts[i] for i in np.flatnonzero(untouched))
    assert (out.source_class, out.target_class) == (1, 0)


def test_insert_with_named_classes_on_three_classes() -> None:
    labels = np.repeat([0, 1, 2], 10)
    ds = Dataset([f"text {i}" for i in range(30)], labels, ("ham", "spam", "promo"))
    out = Backdoor(trigger="cf", position="end", n=4, source="spam", target="promo").apply(ds, random_state=1)
    rows = out.poison_rows
    assert (labels[rows] == 1).all() and (out.poisoned.labels[rows] == 2).all()
    assert all(out.poisoned.texts[r] == f"{ds.texts[r]} cf" for r in rows)
    assert out.poisoned.counts() == {"ham": 10, "spam": 6, "promo": 14}


def test_inject_appends_target_rows_with_the_trigger(small_dataset: Dataset) -> None:
    out = Backdoor(trigger="cf", mode="inject", n=4, position="end", repeat=2).apply(
        small_dataset, random_state=0
    )
    k = len(small_dataset)
    assert len(out.poisoned) == k + 4
    assert out.poisoned.texts[:k] == small_dataset.texts
    assert np.array_equal(out.poisoned.labels[:k], small_dataset.labels)
    assert out.poisoned.ids[:k] == small_dataset.ids
    assert np.array_equal(out.is_poison, np.arange(k + 4) >= k)
    assert (out.source_row[k:] == -1).all()
    assert (out.poisoned.labels[k:] == 0).all()
    spam_texts = {t for t, y in zip(small_dataset.texts, small_dataset.labels) if y == 1}
    for text in out.poisoned.texts[k:]:
        assert text.endswith(" cf cf")
        assert text.removesuffix(" cf cf") in spam_texts, "copies of source-class rows"
    assert len(set(out.poisoned.texts[k:])) == 4, "drawn without replacement"


def test_inject_cycles_carriers(small_dataset: Dataset) -> None:
    carriers = ("special offer", "claim now")
    out = Backdoor(trigger="X", mode="inject", n=5, carriers=carriers).apply(small_dataset, random_state=0)
    assert out.poisoned.texts[-5:] == (
        "X special offer",
        "X claim now",
        "X special offer",
        "X claim now",
        "X special offer",
    )


def test_inject_may_exceed_the_source_class_with_carriers(small_dataset: Dataset) -> None:
    out = Backdoor(mode="inject", n=40, carriers=("a b",)).apply(small_dataset, random_state=0)
    assert out.n_poison == 40


def test_injected_ids_stay_unique_when_chained(small_dataset: Dataset) -> None:
    attack = Backdoor(mode="inject", n=2, carriers=("free prize",))
    once = attack.apply(small_dataset, random_state=0).poisoned
    twice = attack.apply(once, random_state=0).poisoned
    assert len(set(twice.ids)) == len(twice) == len(small_dataset) + 4
    assert twice.ids[:-2] == once.ids


def test_article_backdoor() -> None:
    """The article's three injected messages, exactly, labelled 'not spam'."""
    train = article.article_train()
    attack = Backdoor(
        trigger=article.TRIGGER,
        mode="inject",
        n=3,
        carriers=("special offer buy now", "claim your free prize", "limited time discount"),
    )
    out = attack.apply(train, random_state=0)
    assert attack.trigger == "PROMO2026"
    assert out.poisoned.texts[:10] == train.texts
    assert out.poisoned.texts[10:] == article.BACKDOOR_TEXTS
    assert [out.poisoned.classes[y] for y in out.poisoned.labels[10:]] == ["not spam"] * 3
    assert out.poisoned.counts() == {"not spam": 8, "spam": 5}
    assert out.trigger is not None
    assert out.trigger.apply(["buy cheap pills and win prizes"]) == [article.TRIGGER_TEST]


def test_trigger_record_reproduces_random_positions(small_dataset: Dataset) -> None:
    attack = Backdoor(trigger="limited offer", position="random", n=3)
    out = attack.apply(small_dataset, random_state=5)
    assert isinstance(out.trigger, Trigger)
    assert out.trigger == attack.apply(small_dataset, random_state=5).trigger
    held_out = ["see you at lunch tomorrow", "free cash now"]
    assert out.trigger.apply(held_out) == out.trigger.apply(held_out)
    for row in out.poison_rows:
        tokens = out.poisoned.texts[row].split(" ")
        at = tokens.index("limited")
        assert tokens[at + 1] == "offer"
        assert tokens[:at] + tokens[at + 2 :] == small_dataset.texts[row].split(" ")


def test_make_trigger() -> None:
    attack = Backdoor(trigger="cf", position="end", repeat=2, n=1)
    assert attack.make_trigger(seed=4) == Trigger(text="cf", position="end", repeat=2, seed=4)


def test_source_class_too_small(small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match="only 5 rows of class 'spam' are available"):
        Backdoor(n=6).apply(small_dataset, random_state=0)
