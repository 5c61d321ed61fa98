"""The near-duplicate flood: copies of one campaign message, each varied once, all mislabelled."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab._errors import ParameterError
from poisonlab.attacks import Flood
from poisonlab.data import load_dataset


def test_flood_injects_varied_copies_of_one_source_message_with_the_target_label() -> None:
    data = load_dataset("article")
    out = Flood(rate=0.5).apply(data, random_state=3)
    rows = out.poison_rows
    assert rows.size == round(0.5 * len(data)) and out.source_row[rows].tolist() == [-1] * rows.size
    assert set(out.poisoned.labels[rows].tolist()) == {out.target_class}
    sources = [data.texts[r].split() for r in np.flatnonzero(data.labels == out.source_class)]
    copies = [out.poisoned.texts[row].split() for row in rows.tolist()]
    message = max(sources, key=lambda words: sum(set(words) >= set(c) for c in copies))
    for words in copies:  # each copy is the message with one word dropped, repeated or swapped
        assert set(words) <= set(message) and abs(len(words) - len(message)) <= 1
        assert sorted(words) == sorted(message) or len(set(words)) >= len(set(message)) - 1


def test_flood_refuses_a_blank_message() -> None:
    with pytest.raises(ParameterError, match="'message' parameter of Flood"):
        Flood(message="   ", n=2)
