"""`Trigger`: the token or phrase a backdoor plants, applicable to any texts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from poisonlab._params import check_choice, check_positive_int, fail

POSITIONS = ("start", "end", "random")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trigger:
    """A backdoor trigger: `text` placed at `position`, `repeat` times.

    Parameters
    ----------
    text : str
        A token (``"PROMO2026"``) or a phrase (``"limited offer"``).
    position : {"start", "end", "random"}
        Where it goes; ``random`` inserts it between two space-separated words.
    repeat : int
        How many copies, side by side.
    seed : int
        Seeds ``random`` positions, so applying the trigger is reproducible.

    Examples
    --------
    >>> Trigger(text="PROMO2026").apply(["buy cheap pills"])
    ['PROMO2026 buy cheap pills']
    >>> Trigger(text="xx", position="end", repeat=2).apply(["hi"])
    ['hi xx xx']
    """

    text: str
    position: str = "start"
    repeat: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise fail("Trigger", "text", "a non-blank string", self.text)
        check_choice("Trigger", "position", self.position, POSITIONS)
        check_positive_int("Trigger", "repeat", self.repeat)

    @property
    def block(self) -> str:
        """The text inserted: the trigger repeated `repeat` times."""
        return " ".join([self.text] * self.repeat)

    def apply(self, texts: Iterable[str], *, random_state: int | None = None) -> list[str]:
        """Return the texts with the trigger inserted; inputs are not changed.

        `random_state` overrides `seed` for ``random`` positions.
        """
        block = self.block
        if self.position == "start":
            return [f"{block} {text}" for text in texts]
        if self.position == "end":
            return [f"{text} {block}" for text in texts]
        rng = np.random.default_rng(self.seed if random_state is None else random_state)
        out = []
        for text in texts:
            words = text.split(" ")
            at = int(rng.integers(0, len(words) + 1))
            out.append(" ".join([*words[:at], block, *words[at:]]))
        return out
