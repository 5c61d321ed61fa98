"""The deterministic, duplicate-aware, stratified train/test split every command shares."""

from __future__ import annotations

import numpy as np

from poisonlab._errors import DataError
from poisonlab._params import fail
from poisonlab.data.dataset import Dataset

DEFAULT_SPLIT_SEED = 2026
"""The split seed used unless ``--split-seed`` says otherwise; independent of ``--seed``."""

DEFAULT_TEST_SIZE = 0.2


def split_train_test(
    dataset: Dataset,
    *,
    test_size: float = DEFAULT_TEST_SIZE,
    split_seed: int = DEFAULT_SPLIT_SEED,
) -> tuple[Dataset, Dataset]:
    """Split into train and test, stratified by class, keeping identical texts together.

    Duplicate policy: rows are grouped by their exact text, and a group goes whole to one side,
    so no message is on both sides (the SMS corpus repeats 403 lines). Within each class, groups
    are shuffled with `split_seed` and taken until the test side holds ``test_size`` of the
    class's rows. Rows keep their original order on each side. Written by hand because
    scikit-learn's splitters either ignore groups (``train_test_split``) or only give k-fold
    fractions (``StratifiedGroupKFold``).

    Parameters
    ----------
    dataset : Dataset
    test_size : float
        Share of each class's rows that goes to the test side, in (0, 1).
    split_seed : int
        Seed of the split only; the same seed always gives the same split.

    Returns
    -------
    train, test : Dataset

    Examples
    --------
    >>> ds = Dataset(["a", "a", "b", "c", "d", "e", "f", "g"], [0, 0, 0, 0, 1, 1, 1, 1], ("ham", "spam"))
    >>> train, test = split_train_test(ds, test_size=0.25)
    >>> len(train) + len(test) == len(ds)
    True
    >>> sorted(set(train.texts) & set(test.texts))
    []
    """
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise fail("split_train_test", "test_size", "a float in (0, 1)", test_size)
    group_of: dict[str, int] = {}
    groups = np.fromiter(
        (group_of.setdefault(text, len(group_of)) for text in dataset.texts),
        dtype=np.int64,
        count=len(dataset),
    )
    n_groups = len(group_of)
    group_size = np.bincount(groups, minlength=n_groups)
    group_label = np.empty(n_groups, dtype=np.int64)
    group_label[groups[::-1]] = dataset.labels[::-1]  # label of each group's first row
    rng = np.random.default_rng(split_seed)
    is_test_group = np.zeros(n_groups, dtype=bool)
    for label, name in enumerate(dataset.classes):
        members = np.flatnonzero(group_label == label)
        if members.size == 0:
            continue
        if members.size < 2:
            raise DataError(
                f"Class {name!r} has only one distinct message, so it cannot appear on both "
                "sides of a train/test split."
            )
        members = rng.permutation(members)
        sizes = np.cumsum(group_size[members])
        wanted = test_size * sizes[-1]
        take = int(np.searchsorted(sizes, wanted, side="left")) + 1
        take = min(max(take, 1), members.size - 1)
        is_test_group[members[:take]] = True
    is_test = is_test_group[groups]
    return dataset.take(np.flatnonzero(~is_test)), dataset.take(np.flatnonzero(is_test))
