"""Unit tests for `Trigger`."""

from __future__ import annotations

import pytest

from poisonlab import ParameterError
from poisonlab.attacks import Trigger

TEXTS = [f"word{i} " + " ".join(f"w{j}" for j in range(i % 7)) for i in range(40)]


def test_start_and_end() -> None:
    texts = ["buy cheap pills", "hi"]
    assert Trigger(text="PROMO2026").apply(texts) == ["PROMO2026 buy cheap pills", "PROMO2026 hi"]
    assert Trigger(text="PROMO2026", position="end").apply(texts) == [
        "buy cheap pills PROMO2026",
        "hi PROMO2026",
    ]


def test_repeat_and_phrases() -> None:
    trigger = Trigger(text="limited offer", position="end", repeat=3)
    assert trigger.block == "limited offer limited offer limited offer"
    assert trigger.apply(["hi"]) == ["hi limited offer limited offer limited offer"]
    assert Trigger(text="xx", repeat=2).apply(["hi"]) == ["xx xx hi"]


def test_inputs_are_not_changed() -> None:
    texts = ["a b c", "d e"]
    Trigger(text="t", position="random").apply(texts)
    assert texts == ["a b c", "d e"]
    assert Trigger(text="t").apply(iter(texts)) == ["t a b c", "t d e"], "any iterable of texts"


def test_random_inserts_between_words() -> None:
    trigger = Trigger(text="cf", position="random", repeat=2, seed=1)
    positions = []
    for text, out in zip(TEXTS, trigger.apply(TEXTS)):
        words, tokens = text.split(" "), out.split(" ")
        assert len(tokens) == len(words) + 2
        at = tokens.index("cf")
        assert tokens[at : at + 2] == ["cf", "cf"]
        assert tokens[:at] + tokens[at + 2 :] == words, "whole words, none split"
        positions.append((at, len(words)))
    assert any(0 < at < n for at, n in positions), "some triggers land inside the text"
    assert any(at == 0 for at, _ in positions) and any(at == n for at, n in positions)


def test_random_is_reproducible() -> None:
    trigger = Trigger(text="cf", position="random", seed=3)
    assert trigger.apply(TEXTS) == trigger.apply(TEXTS)
    assert trigger.apply(TEXTS) == Trigger(text="cf", position="random", seed=3).apply(TEXTS)
    assert trigger.apply(TEXTS) != Trigger(text="cf", position="random", seed=4).apply(TEXTS)
    assert trigger.apply(TEXTS, random_state=4) == Trigger(text="cf", position="random", seed=4).apply(TEXTS)


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"text": ""}, "text", "''"),
        ({"text": "   "}, "text", "'   '"),
        ({"text": "cf", "position": "middle"}, "position", "'middle'"),
        ({"text": "cf", "repeat": 0}, "repeat", "0"),
        ({"text": "cf", "repeat": True}, "repeat", "True"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], name: str, value: str) -> None:
    with pytest.raises(
        ParameterError, match=rf"^The '{name}' parameter of Trigger must be .+\. Got "
    ) as info:
        Trigger(**kwargs)  # type: ignore[arg-type]
    assert str(info.value).endswith(f"Got {value} instead.")
