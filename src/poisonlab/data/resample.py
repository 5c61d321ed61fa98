"""Larger corpora for scale tests: the SMS corpus resampled and perturbed, label by label."""

from __future__ import annotations

import numpy as np

from poisonlab._params import check_positive_int
from poisonlab.data.dataset import Dataset


def resample_corpus(dataset: Dataset, n: int, *, random_state: int = 0) -> Dataset:
    """`n` messages drawn with replacement from `dataset`, each lightly perturbed, labels kept.

    Each drawn message gets one perturbation, chosen uniformly: drop a word, duplicate a word,
    swap two neighbouring words, or insert a word drawn from a message of the same class. The
    class shares of `dataset` are kept in expectation, texts stay realistic for their class,
    and most rows are distinct, so duplicate-aware code is exercised without a flood of exact
    copies. Ids are ``r0``, ``r1``, ...; the same `random_state` gives the same corpus.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> big = resample_corpus(load_dataset("sms_spam"), 20_000, random_state=0)
    >>> len(big), big.classes
    (20000, ('ham', 'spam'))
    >>> len(set(big.texts)) > 15_000
    True
    """
    check_positive_int("resample_corpus", "n", n)
    rng = np.random.default_rng(random_state)
    picks = rng.integers(0, len(dataset), size=n)
    words_of = [text.split(" ") for text in dataset.texts]
    moves = rng.integers(0, 4, size=n)
    donors = rng.integers(0, len(dataset), size=n)
    positions = rng.random(size=(n, 2))
    by_class = [np.flatnonzero(dataset.labels == c) for c in range(len(dataset.classes))]
    texts = []
    for row in range(n):
        source = int(picks[row])
        words = list(words_of[source])
        at = int(positions[row, 0] * len(words))
        move = int(moves[row])
        if move == 0 and len(words) > 1:
            del words[at]
        elif move == 1:
            words.insert(at, words[at])
        elif move == 2 and len(words) > 1:
            at = min(at, len(words) - 2)
            words[at], words[at + 1] = words[at + 1], words[at]
        else:
            same = by_class[int(dataset.labels[source])]
            donor_words = words_of[int(same[int(donors[row]) % same.size])]
            words.insert(at, donor_words[int(positions[row, 1] * len(donor_words))])
        texts.append(" ".join(words))
    return Dataset(
        texts, dataset.labels[picks], dataset.classes, [f"r{i}" for i in range(n)], f"{dataset.name}x{n}"
    )
