"""`CleanLabelBackdoor`: the trigger only in genuine target-class rows, and where that is weak."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.attacks import Backdoor, CleanLabelBackdoor, Trigger
from poisonlab.attacks._surrogate import class_margin
from poisonlab.data import Dataset
from poisonlab.experiments.clean_label import check_clean_label
from poisonlab.experiments.evaluate import FitCache, evaluate_attack
from poisonlab.victims import make_victim


def test_insert_adds_the_trigger_to_target_rows_and_keeps_every_label(small_dataset: Dataset) -> None:
    out = CleanLabelBackdoor(trigger="PROMO2026", n=4).apply(small_dataset, random_state=0)
    rows = out.poison_rows
    assert rows.size == 4 and len(out.poisoned) == len(small_dataset)
    assert np.array_equal(out.poisoned.labels, small_dataset.labels), "no label changes"
    assert (small_dataset.labels[rows] == 0).all(), "only genuine ham carries the trigger"
    for row in rows:
        assert out.poisoned.texts[row] == f"PROMO2026 {small_dataset.texts[row]}"
    untouched = np.flatnonzero(~out.is_poison)
    assert [out.poisoned.texts[i] for i in untouched] == [small_dataset.texts[i] for i in untouched]
    assert (out.source_class, out.target_class) == (1, 0)
    assert out.trigger == Trigger(text="PROMO2026", seed=out.trigger.seed)


def test_inject_appends_triggered_copies_of_target_rows(small_dataset: Dataset) -> None:
    out = CleanLabelBackdoor(trigger="cf", position="end", repeat=2, mode="inject", n=3).apply(
        small_dataset, random_state=1
    )
    k = len(small_dataset)
    assert out.poisoned.texts[:k] == small_dataset.texts
    assert (out.source_row[k:] == -1).all() and (out.poisoned.labels[k:] == 0).all()
    ham = {t for t, y in zip(small_dataset.texts, small_dataset.labels) if y == 0}
    assert all(t.endswith(" cf cf") and t.removesuffix(" cf cf") in ham for t in out.poisoned.texts[k:])


def test_named_classes_on_three_classes() -> None:
    ds = Dataset([f"text number {i}" for i in range(30)], np.repeat([0, 1, 2], 10), ("ham", "spam", "promo"))
    out = CleanLabelBackdoor(trigger="cf", n=4, source="spam", target="promo").apply(ds, random_state=0)
    assert (ds.labels[out.poison_rows] == 2).all()
    assert (out.source_class, out.target_class) == (1, 2)


def test_budget_is_bounded_by_the_target_class(small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match="only 10 rows of class 'ham' are available"):
        CleanLabelBackdoor(n=11).apply(small_dataset, random_state=0)


def test_hardest_takes_the_target_rows_the_surrogate_is_least_sure_of(sms_split) -> None:
    train = sms_split[0]
    out = CleanLabelBackdoor(trigger="PROMO2026", select="hardest", n=30).apply(train, random_state=0)
    ham = np.flatnonzero(train.labels == 0)
    surrogate = make_victim("nb").fit(list(train.texts), train.labels)
    margin = class_margin(surrogate, [f"PROMO2026 {train.texts[i]}" for i in ham], 0)
    chosen = np.isin(ham, out.poison_rows)
    assert (margin[chosen] > 0).all(), "every chosen row is still ham to the surrogate"
    assert margin[chosen].max() <= margin[~chosen & (margin > 0)].min(), (
        "and none is easier than a row left out"
    )


def test_against_naive_bayes_which_rows_carry_the_trigger_does_not_matter(sms_split) -> None:
    """Naive Bayes only counts: the trigger's count per class is the budget, whichever rows carry it."""
    train, test = sms_split
    cache = FitCache()
    results = [
        evaluate_attack(CleanLabelBackdoor(rate=0.05, select=select), train, test, "nb", cache=cache)
        for select in ("random", "hardest")
    ]
    assert results[0].poisoned.poison_rows.tolist() != results[1].poisoned.poison_rows.tolist()
    random, hardest = (r.attacked_model[-1] for r in results)
    assert np.array_equal(random.feature_count_, hardest.feature_count_)
    assert results[0].backdoor.asr == results[1].backdoor.asr


def test_clean_label_is_weak_where_measured_and_hardest_rows_help_logistic_regression(sms_split) -> None:
    """On SMS at a 5 % budget the clean-label backdoor passes the label check and keeps CACC,
    but carries far fewer triggered spam past either victim than the dirty-label backdoor;
    choosing the hardest ham (Turner et al.) multiplies its ASR against logistic regression."""
    train, test = sms_split
    asr: dict[str, float] = {}
    for victim in ("nb", "logreg"):
        cache = FitCache()
        dirty = evaluate_attack(Backdoor(rate=0.05), train, test, victim, cache=cache)
        clean = evaluate_attack(CleanLabelBackdoor(rate=0.05), train, test, victim, cache=cache)
        assert check_clean_label(clean.poisoned, victim, model=clean.clean_model).share >= 0.99
        assert check_clean_label(dirty.poisoned, victim, model=dirty.clean_model).share <= 0.05
        assert clean.attacked.accuracy >= clean.clean.accuracy - 0.001
        assert clean.backdoor.asr < dirty.backdoor.asr / 2
        asr[f"{victim} clean"], asr[f"{victim} dirty"] = clean.backdoor.asr, dirty.backdoor.asr
        if victim == "logreg":
            hardest = evaluate_attack(
                CleanLabelBackdoor(rate=0.05, select="hardest", surrogate="logreg"),
                train,
                test,
                victim,
                cache=cache,
            )
            asr["logreg hardest"] = hardest.backdoor.asr
    assert asr["logreg hardest"] > 2 * asr["logreg clean"]
    assert asr["logreg dirty"] > 0.9 and asr["nb clean"] < 0.1 and asr["logreg clean"] < 0.15


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"trigger": " "}, "trigger"),
        ({"select": "easiest"}, "select"),
        ({"surrogate": "bert"}, "surrogate"),
        ({"mode": "both"}, "mode"),
        ({"position": "middle"}, "position"),
        ({"repeat": 0}, "repeat"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ParameterError, match=rf"^The '{name}' parameter of CleanLabelBackdoor must be "):
        CleanLabelBackdoor(n=1, **kwargs)  # type: ignore[arg-type]
