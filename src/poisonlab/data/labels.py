"""Mapping raw label values (``ham``/``spam``, ``0``/``1``, any names) to class indices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from poisonlab._errors import DataError
from poisonlab.data.dataset import IntArray

LEGITIMATE_VALUES = frozenset(
    {
        "ham",
        "0",
        "0.0",
        "not spam",
        "not_spam",
        "not-spam",
        "notspam",
        "non-spam",
        "nonspam",
        "legit",
        "legitimate",
        "false",
        "no",
    }
)
SPAM_VALUES = frozenset({"spam", "1", "1.0", "true", "yes", "junk"})
SPAM_CLASSES = ("ham", "spam")


def map_labels(
    values: Sequence[str], classes: Sequence[str] | None = None, *, min_classes: int = 2
) -> tuple[IntArray, tuple[str, ...]]:
    """Turn raw label strings into class indices and class names.

    Rules, in order:

    * `classes` given: each value (trimmed, case-insensitive) must be one of them; that order.
      With ``classes=("ham", "spam")`` the spam words below are accepted too.
    * Every value is a spam word (``ham``/``spam``, ``0``/``1``, ``not spam``, ``legit``,
      ``false``/``true``, ...): classes are ``("ham", "spam")``.
    * Some values are spam words and some are not: an unknown label value, an error.
    * Otherwise the distinct values, sorted, are the classes (two or more).

    Blank values are errors, and so are fewer than `min_classes` classes (a held-out file may
    hold a single class: pass ``min_classes=1``). Row numbers count data rows from 1.

    Examples
    --------
    >>> map_labels(["spam", "ham", "ham"])
    (array([1, 0, 0]), ('ham', 'spam'))
    >>> map_labels(["1", "0"])[1]
    ('ham', 'spam')
    >>> map_labels(["pos", "neg", "neu"])
    (array([2, 0, 1]), ('neg', 'neu', 'pos'))
    """
    cleaned = [str(v).strip() for v in values]
    for row, value in enumerate(cleaned, start=1):
        if not value:
            raise DataError(f"The label column is blank in data row {row}; every row needs a label.")
    folded = [v.casefold() for v in cleaned]
    if classes is not None:
        names = tuple(str(c) for c in classes)
        lookup = {c.strip().casefold(): i for i, c in enumerate(names)}
        if names == SPAM_CLASSES:
            lookup = {
                **dict.fromkeys(LEGITIMATE_VALUES, 0),
                **dict.fromkeys(SPAM_VALUES, 1),
                **lookup,
            }
        indices = []
        for row, value in enumerate(folded, start=1):
            if value not in lookup:
                raise DataError(
                    f"Unknown label value {cleaned[row - 1]!r} in data row {row}; "
                    f"expected one of: {', '.join(names)}."
                )
            indices.append(lookup[value])
        labels = np.array(indices, dtype=np.int64)
    else:
        distinct = set(folded)
        spam_words = distinct & (LEGITIMATE_VALUES | SPAM_VALUES)
        if spam_words and spam_words != distinct:
            stranger = next(v for v, f in zip(cleaned, folded) if f not in spam_words)
            row = folded.index(stranger.casefold()) + 1
            raise DataError(
                f"Unknown label value {stranger!r} in data row {row}: the other labels are spam/ham "
                "words, so every label must be one (ham, spam, 0, 1, not spam, legit, true, false)."
            )
        if spam_words:
            names = SPAM_CLASSES
            labels = np.array([1 if v in SPAM_VALUES else 0 for v in folded], dtype=np.int64)
        else:
            first_spelling: dict[str, str] = {}
            for value, fold in zip(cleaned, folded):
                first_spelling.setdefault(fold, value)
            ordered = sorted(first_spelling)
            names = tuple(first_spelling[f] for f in ordered)
            position = {f: i for i, f in enumerate(ordered)}
            labels = np.array([position[f] for f in folded], dtype=np.int64)
    present = np.unique(labels)
    if present.size < min_classes:
        only = names[int(present[0])] if present.size else "none"
        raise DataError(
            f"Only one class ({only!r}) is present in the labels; poisoning a classifier needs at least two."
        )
    return labels, names
