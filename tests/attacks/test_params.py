"""Parameter validation: every bad parameter is a `ParameterError` (a `ValueError`) in one shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from poisonlab import ParameterError, PoisonlabError
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset

SHAPE = re.compile(r"^The '(\w+)' parameter of (\w+) must be .+\. Got .+ instead\.$", re.DOTALL)


def check_shape(error: BaseException, owner: str, name: str, got: str) -> None:
    assert isinstance(error, ValueError) and isinstance(error, PoisonlabError)
    message = str(error)
    match = SHAPE.match(message)
    assert match, f"message not in the standard shape: {message!r}"
    assert match.groups() == (name, owner)
    assert message.endswith(f" Got {got} instead.")


def test_the_documented_message() -> None:
    with pytest.raises(ParameterError) as info:
        LabelFlip(rate=1.5)
    assert str(info.value) == "The 'rate' parameter of LabelFlip must be a float in (0, 1]. Got 1.5 instead."
    assert isinstance(info.value, ValueError)


BUDGETS = [
    ({"rate": 0}, "rate", "0"),
    ({"rate": 0.0}, "rate", "0.0"),
    ({"rate": 1.5}, "rate", "1.5"),
    ({"rate": -0.1}, "rate", "-0.1"),
    ({"rate": True}, "rate", "True"),
    ({"rate": float("nan")}, "rate", "nan"),
    ({"rate": "0.1"}, "rate", "'0.1'"),
    ({"n": 0}, "n", "0"),
    ({"n": -3}, "n", "-3"),
    ({"n": True}, "n", "True"),
    ({"n": 2.5}, "n", "2.5"),
]


@pytest.mark.parametrize("cls", [LabelFlip, Backdoor])
@pytest.mark.parametrize(("budget", "name", "got"), BUDGETS)
def test_bad_budget(cls: Any, budget: dict[str, Any], name: str, got: str) -> None:
    with pytest.raises(ParameterError) as info:
        cls(**budget)
    check_shape(info.value, cls.__name__, name, got)


@pytest.mark.parametrize("cls", [LabelFlip, Backdoor])
@pytest.mark.parametrize("budget", [{}, {"rate": 0.1, "n": 2}])
def test_exactly_one_budget(cls: Any, budget: dict[str, Any]) -> None:
    with pytest.raises(ParameterError, match=rf"^{cls.__name__} takes exactly one budget: 'rate' .* or 'n'"):
        cls(**budget)


CONSTRUCTION = [
    (LabelFlip, {"strategy": "sideways", "n": 1}, "strategy", "'sideways'"),
    (LabelFlip, {"strategy": "random", "n": 1, "source": 1}, "source", "1"),
    (LabelFlip, {"strategy": "random", "n": 1, "target": "ham"}, "target", "'ham'"),
    (Backdoor, {"mode": "both", "n": 1}, "mode", "'both'"),
    (Backdoor, {"position": "middle", "n": 1}, "position", "'middle'"),
    (Backdoor, {"repeat": 0, "n": 1}, "repeat", "0"),
    (Backdoor, {"repeat": 1.0, "n": 1}, "repeat", "1.0"),
    (Backdoor, {"trigger": "", "n": 1}, "trigger", "''"),
    (Backdoor, {"trigger": " \t", "n": 1}, "trigger", "' \\t'"),
    (Backdoor, {"trigger": None, "n": 1}, "trigger", "None"),
    (Backdoor, {"mode": "insert", "n": 1, "carriers": ("free prize",)}, "carriers", "('free prize',)"),
    (Backdoor, {"mode": "inject", "n": 1, "carriers": ()}, "carriers", "()"),
    (Backdoor, {"mode": "inject", "n": 1, "carriers": "free prize"}, "carriers", "'free prize'"),
    (Backdoor, {"mode": "inject", "n": 1, "carriers": ("ok", 3)}, "carriers", "('ok', 3)"),
]


@pytest.mark.parametrize(("cls", "kwargs", "name", "got"), CONSTRUCTION)
def test_bad_parameter_on_construction(cls: Any, kwargs: dict[str, Any], name: str, got: str) -> None:
    with pytest.raises(ParameterError) as info:
        cls(**kwargs)
    check_shape(info.value, cls.__name__, name, got)


def test_lists_of_carriers_are_accepted_as_tuples() -> None:
    attack = Backdoor(mode="inject", n=1, carriers=["free prize"])  # type: ignore[arg-type]
    assert attack.carriers == ("free prize",)


APPLY = [
    ({"source": "spam", "target": "spam"}, "target", "'spam'"),
    ({"source": 0}, "target", "'ham'"),  # the default target is the first class
    ({"target": 1}, "target", "1"),  # the default source is the last class
    ({"source": "eggs"}, "source", "'eggs'"),
    ({"target": "Spam"}, "target", "'Spam'"),
    ({"source": 2}, "source", "2"),
    ({"target": -1}, "target", "-1"),
]


@pytest.mark.parametrize("cls", [LabelFlip, Backdoor])
@pytest.mark.parametrize(("classes", "name", "got"), APPLY)
def test_bad_class_on_apply(
    cls: Any, classes: dict[str, Any], name: str, got: str, small_dataset: Dataset
) -> None:
    attack = cls(n=1, **classes)
    with pytest.raises(ParameterError) as info:
        attack.apply(small_dataset, random_state=0)
    check_shape(info.value, cls.__name__, name, got)


def test_unknown_class_lists_the_classes(small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match=r"a class of the dataset \('ham', 'spam'\)"):
        LabelFlip(n=1, source="eggs").apply(small_dataset, random_state=0)


@pytest.mark.parametrize(
    "attack",
    [
        LabelFlip(strategy="random", rate=0.01),
        LabelFlip(rate=0.03),
        Backdoor(rate=0.01),
        Backdoor(mode="inject", rate=0.01, carriers=("x",)),
    ],
)
def test_budget_that_rounds_to_zero_rows(attack: Any, small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match=r"is less than one row of 15; raise 'rate' or give 'n'\.$"):
        attack.apply(small_dataset, random_state=0)


@pytest.mark.parametrize(
    ("attack", "available"),
    [
        (LabelFlip(strategy="random", n=16), "15 rows"),
        (LabelFlip(n=6), "5 rows of class 'spam'"),
        (LabelFlip(n=11, source="ham", target="spam"), "10 rows of class 'ham'"),
        (Backdoor(n=6), "5 rows of class 'spam'"),
        (Backdoor(mode="inject", n=6), "5 rows of class 'spam'"),
    ],
)
def test_budget_larger_than_the_pool(attack: Any, available: str, small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match=rf"but only {re.escape(available)} are available\.$"):
        attack.apply(small_dataset, random_state=0)
