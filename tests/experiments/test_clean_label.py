"""The clean-label check: a model trained on the clean data must give each poison row its label."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from poisonlab.attacks import (
    ATTACKS,
    Attack,
    Backdoor,
    BoundaryShift,
    CleanLabelBackdoor,
    DictionaryAttack,
    FocusedAttack,
    LabelFlip,
    Poisoned,
)
from poisonlab.data import Dataset
from poisonlab.experiments.clean_label import CleanLabelCheck, check_clean_label, is_clean_label_attack
from poisonlab.victims import make_victim


def test_rows_and_verdicts_follow_the_clean_model(small_dataset: Dataset) -> None:
    out = LabelFlip(strategy="random", n=6).apply(small_dataset, random_state=3)
    check = check_clean_label(out, "nb")
    model = make_victim("nb").fit(list(small_dataset.texts), small_dataset.labels)
    rows = out.poison_rows
    expected = model.predict([out.poisoned.texts[i] for i in rows]) == out.poisoned.labels[rows]
    assert check.rows.tolist() == rows.tolist()
    assert check.passed.tolist() == expected.tolist()
    assert check.n_poison == 6 and check.n_pass == int(expected.sum())
    assert check.share == check.n_pass / 6
    assert check.failed_rows.tolist() == rows[~expected].tolist()
    assert check.to_dict() == {"victim": "nb", "n_poison": 6, "n_pass": check.n_pass, "share": check.share}


def test_a_fitted_model_is_used_as_given(small_dataset: Dataset) -> None:
    """With `model`, nothing is trained: a model that always says spam fails every ham row."""

    class AlwaysSpam:
        def predict(self, texts: list[str]) -> np.ndarray:
            return np.ones(len(texts), dtype=np.int64)

    out = CleanLabelBackdoor(n=3).apply(small_dataset, random_state=0)
    assert check_clean_label(out, model=AlwaysSpam()).share == 0.0
    assert check_clean_label(out).share == 1.0


def test_a_users_own_pipeline_judges(small_dataset: Dataset) -> None:
    out = CleanLabelBackdoor(n=2).apply(small_dataset, random_state=0)
    check = check_clean_label(out, make_pipeline(CountVectorizer(binary=True), MultinomialNB()))
    assert check.victim == "Pipeline" and check.n_poison == 2


def test_no_poison_rows_gives_nan(small_dataset: Dataset) -> None:
    nothing = Poisoned(
        clean=small_dataset,
        poisoned=small_dataset,
        is_poison=np.zeros(len(small_dataset), dtype=bool),
        source_row=np.arange(len(small_dataset)),
        attack="none",
        params={},
    )
    check = check_clean_label(nothing)
    assert check.n_poison == 0 and np.isnan(check.share)
    assert isinstance(check, CleanLabelCheck)


@pytest.mark.parametrize(
    "attack",
    [
        CleanLabelBackdoor(n=40),
        BoundaryShift(n=40),
        LabelFlip(n=40),
        Backdoor(n=40),
        DictionaryAttack(n=40),
        FocusedAttack(message="see you at lunch tomorrow", n=40),
    ],
    ids=lambda attack: attack.name,
)
def test_clean_label_attacks_pass_and_dirty_label_ones_do_not(attack: Attack, sms_split) -> None:
    """By default each clean-label attack passes the nb check for nearly every row; the label
    flip, the dirty-label backdoor and Nelson et al.'s attacks fail it for nearly every row."""
    share = check_clean_label(attack.apply(sms_split[0], random_state=0), "nb").share
    assert share >= 0.95 if is_clean_label_attack(attack) else share <= 0.2


def test_which_attacks_promise_clean_labels() -> None:
    promised = {name for name in ATTACKS.names() if is_clean_label_attack(ATTACKS.get(name))}
    assert {"clean_label_backdoor", "boundary_shift"} <= promised
    assert not promised & {"label_flip", "backdoor", "dictionary", "focused"}


def test_the_check_catches_ham_stuffed_with_spam_words(sms_split) -> None:
    """Boundary shifting without its surrogate limit: random ham rows given three of the
    strongest spam words each. The labels are the rows' own, yet many rows now read as spam."""
    train = sms_split[0]
    limited = BoundaryShift(n_words=10, n=100).apply(train, random_state=0)
    stuffed = BoundaryShift(n_words=10, per_row=3, select="random", n=100).apply(train, random_state=0)
    assert check_clean_label(limited, "nb").share == 1.0
    assert check_clean_label(stuffed, "nb").share < 0.9
