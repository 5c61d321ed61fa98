"""Validation helpers for component parameters, all producing one message shape.

The shape follows scikit-learn: ``The 'rate' parameter of LabelFlip must be a float in (0, 1].
Got 1.5 instead.``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from poisonlab._errors import ParameterError


def fail(owner: str, name: str, expected: str, value: object) -> ParameterError:
    """Build the standard error for parameter `name` of `owner`.

    Examples
    --------
    >>> str(fail("LabelFlip", "rate", "a float in (0, 1]", 1.5))
    "The 'rate' parameter of LabelFlip must be a float in (0, 1]. Got 1.5 instead."
    """
    return ParameterError(f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead.")


def check_choice(owner: str, name: str, value: object, choices: Collection[object]) -> None:
    """Raise unless `value` is one of `choices`."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise fail(owner, name, f"one of {listed}", value)


def check_budget(owner: str, rate: float | None, n: int | None) -> None:
    """Check a poison budget: exactly one of `rate` (a fraction in (0, 1]) or `n` (a count >= 1)."""
    if (rate is None) == (n is None):
        raise ParameterError(
            f"{owner} takes exactly one budget: 'rate' (a fraction) or 'n' (a count). "
            f"Got rate={rate!r} and n={n!r}."
        )
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 < rate <= 1.0
    ):
        raise fail(owner, "rate", "a float in (0, 1]", rate)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise fail(owner, "n", "an int >= 1", n)


def check_positive_int(owner: str, name: str, value: object) -> None:
    """Raise unless `value` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise fail(owner, name, "an int >= 1", value)


def freeze_sequences(component: Any) -> None:
    """Turn list fields of a frozen dataclass into tuples and NumPy scalars into Python numbers,
    so parameters compare equal after a JSON round trip."""
    for field in dataclasses.fields(component):
        value = getattr(component, field.name)
        if isinstance(value, list):
            object.__setattr__(component, field.name, tuple(value))
        elif hasattr(value, "item") and type(value).__module__ == "numpy":
            object.__setattr__(component, field.name, value.item())
