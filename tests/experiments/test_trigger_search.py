"""Trigger search: rankings agree with plain evaluation, spreads are right, and the pull-against-
margin explanation holds on the SMS corpus."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.attacks.trigger_candidates import TriggerCandidate
from poisonlab.data import Dataset
from poisonlab.experiments.evaluate import evaluate_attack
from poisonlab.experiments.trigger_search import (
    Spread,
    default_budgets,
    explain_strength,
    measure_strength,
    rank_triggers,
    search_triggers,
)

SEEDS = (0, 1)


@pytest.fixture(scope="module")
def small(sms_split: tuple[Dataset, Dataset]) -> tuple[Dataset, Dataset]:
    """A 1,500-row slice of the SMS training split and the first 400 test messages: fast fits."""
    train, test = sms_split
    return train.take(np.arange(1500)), test.take(np.arange(400))


CANDIDATES = (
    TriggerCandidate(text="PROMO2026", kind="synthetic"),
    TriggerCandidate(text="you", kind="common"),
    TriggerCandidate(text="!!"),
    TriggerCandidate(text="PROMO2026", kind="position", position="end"),
    TriggerCandidate(text="PROMO2026", kind="position", position="random"),
    TriggerCandidate(text="PROMO2026", kind="repeat", repeat=3),
)


@pytest.fixture(scope="module")
def rankings(small):
    train, test = small
    return rank_triggers(CANDIDATES, train, test, ["nb", "logreg"], n=20, seeds=SEEDS)


def test_runs_match_a_plain_evaluation(small, rankings):
    train, test = small
    for victim in ("nb", "logreg"):
        for result in rankings[victim].results:
            attack = result.candidate.backdoor(mode="inject", n=20)
            for run in result.runs:
                plain = evaluate_attack(attack, train, test, victim, random_state=run.seed)
                assert plain.backdoor is not None
                assert run.asr == plain.backdoor.asr
                assert run.accuracy == plain.attacked.accuracy
                assert run.clean_accuracy == plain.clean.accuracy
                assert (run.eligible, run.excluded) == (plain.backdoor.eligible, plain.backdoor.excluded)
            break  # one candidate per victim is enough: the loop is the same for all


def test_rankings_are_sorted_and_spreads_summarise_the_seeds(rankings):
    for ranking in rankings.values():
        assert ranking.n_poison == 20
        assert {r.candidate for r in ranking.results} == set(CANDIDATES)
        means = [r.asr.mean for r in ranking.results]
        assert means == sorted(means, reverse=True)
        for result in ranking.results:
            assert [run.seed for run in result.runs] == list(SEEDS)
            asr = [run.asr for run in result.runs]
            assert result.asr == Spread(float(np.mean(asr)), min(asr), max(asr))
            cost = [run.clean_accuracy - run.accuracy for run in result.runs]
            assert result.cacc_cost.mean == pytest.approx(np.mean(cost))
            assert result.cacc_cost.low == min(cost) and result.cacc_cost.high == max(cost)


def test_bag_of_words_victims_ignore_position_and_see_no_symbols(rankings):
    for ranking in rankings.values():
        by_label = {r.candidate.label: r for r in ranking.results}
        assert by_label["!!"].tokens == ()
        assert by_label["PROMO2026"].tokens == ("promo2026",)
        assert all(run.pull == 0.0 for run in by_label["!!"].runs), "an invisible trigger pulls nothing"
        groups = ranking.identical()
        assert any({"PROMO2026", "PROMO2026 @end", "PROMO2026 @random"} <= set(g) for g in groups)
        assert by_label["PROMO2026 ×3"].asr.mean >= by_label["PROMO2026"].asr.mean


def test_same_seeds_same_ranking(small, rankings):
    train, test = small
    again = rank_triggers(CANDIDATES[:2], train, test, ["nb"], n=20, seeds=SEEDS)["nb"]
    first = {r.candidate: r.runs for r in rankings["nb"].results}
    assert all(first[r.candidate] == r.runs for r in again.results)


def test_insert_mode_and_rate_budget(small):
    train, test = small
    (ranking,) = rank_triggers(
        CANDIDATES[:1], train, test, ["nb"], rate=0.01, mode="insert", seeds=[3]
    ).values()
    assert ranking.n_poison == round(0.01 * len(train))
    plain = evaluate_attack(
        CANDIDATES[0].backdoor(mode="insert", rate=0.01), train, test, "nb", random_state=3
    )
    assert plain.backdoor is not None and ranking.results[0].runs[0].asr == plain.backdoor.asr


@pytest.fixture(scope="module")
def strength(sms_split):
    """PROMO2026 at 1 % of the full SMS training split (and a quarter of that, and 4 times it)."""
    train, test = sms_split
    n = round(0.01 * len(train))
    return n, measure_strength(
        TriggerCandidate(text="PROMO2026"),
        train,
        test,
        ["nb", "logreg", "svm"],
        budgets=[n // 4, n, 4 * n],
    )


def test_pull_is_the_trigger_weight_and_decides_the_asr_for_count_features(strength):
    _, found = strength
    for name, item in found.items():
        for p in item.points:
            assert p.pull == pytest.approx(p.weight, abs=1e-9), name
            assert p.beaten == p.asr, name
            assert p.clean_weight == 0.0, "an unseen token weighs nothing before the poison"
            assert p.margin_low <= p.margin <= p.margin_high


def test_naive_bayes_pull_stays_far_below_its_margin_while_linear_pulls_beat_theirs(strength):
    n, found = strength
    assert [found[v].family for v in ("nb", "logreg", "svm")] == ["naive_bayes", "linear", "linear"]
    nb, logreg, svm = (found[v].at(n) for v in ("nb", "logreg", "svm"))
    assert nb.ratio < 0.5 < 1.0 < min(logreg.ratio, svm.ratio)
    assert nb.asr < 0.2 < 0.6 < min(logreg.asr, svm.asr)
    assert nb.poison_fit < 0.5 < 0.9 < min(logreg.poison_fit, svm.poison_fit)
    # Naive Bayes' weight is a log count ratio: about ln 2 more per doubling of the poison rows
    points = found["nb"].points
    per_doubling = (points[-1].pull - points[0].pull) / math.log2(points[-1].n_poison / points[0].n_poison)
    assert per_doubling == pytest.approx(math.log(2), abs=0.1)


def test_with_tfidf_the_pull_in_a_message_is_less_than_the_trigger_alone(small):
    train, test = small
    found = measure_strength(
        TriggerCandidate(text="PROMO2026"), train, test, ["nb"], budgets=[20], features="tfidf"
    )
    (point,) = found["nb"].points
    assert 0 < point.pull < point.weight, "tf-idf scales the trigger down by the message's length"


def test_the_lesson_quotes_the_measured_numbers(strength):
    n, found = strength
    text = explain_strength(found, n)
    assert text.startswith(f"At {n} poison rows, 'PROMO2026' pulls held-out spam toward ham")
    for name, item in found.items():
        p = item.at(n)
        assert f"by {p.pull:+.2f} in {name} against a median margin of {p.margin:.2f}" in text
        assert f"{name} {p.poison_fit:.0%}" in text or f"({p.poison_fit:.0%} fitted)" in text
    assert "Naive Bayes sets a token's weight by counting" in text
    assert "A linear model sets weights by fitting" in text
    only_nb = explain_strength({"nb": found["nb"]}, n)
    assert "Naive Bayes" in only_nb and "linear model" not in only_nb
    assert explain_strength({}, n) == ""


def test_search_puts_rankings_strengths_and_lesson_together(small):
    train, test = small
    result = search_triggers(
        train,
        test,
        ["nb"],
        candidates=CANDIDATES[:2],
        n=20,
        seeds=[0],
        explain_victims=["nb", "svm"],
    )
    assert set(result.rankings) == {"nb"} and set(result.strengths) == {"nb", "svm"}
    assert [p.n_poison for p in result.strengths["svm"].points] == list(default_budgets(20, 1000))
    assert result.lesson == explain_strength(result.strengths, 20)
    assert (result.source, result.target, result.n_poison, result.rate) == ("spam", "ham", 20, 20 / 1500)
    document = result.to_dict()
    assert document["spread"] == "min-max" and document["seeds"] == [0]
    assert (
        document["rankings"]["nb"]["results"][0]["asr"]["mean"] == result.rankings["nb"].results[0].asr.mean
    )
    silent = search_triggers(train, test, ["nb"], candidates=CANDIDATES[:1], n=20, seeds=[0], explain=None)
    assert silent.strengths == {} and silent.lesson == ""


def test_generated_candidates_by_default(small_dataset):
    result = search_triggers(small_dataset, small_dataset, ["nb"], n=1, seeds=[0], explain_victims=["nb"])
    kinds = {r.candidate.kind for r in result.rankings["nb"].results}
    assert {"synthetic", "rare", "common", "repeat", "position"} <= kinds


def test_three_classes_rank_without_the_explanation():
    texts = [f"{w} message {i}" for i in range(6) for w in ("alpha", "beta", "gamma")]
    labels = [i % 3 for i in range(18)]
    data = Dataset(texts, labels, ("a", "b", "c"))
    result = search_triggers(data, data, ["nb"], candidates=CANDIDATES[:1], n=2, seeds=[0])
    assert result.strengths == {} and result.lesson == ""
    run = result.rankings["nb"].results[0].runs[0]
    assert math.isnan(run.pull) and not math.isnan(run.asr)
    with pytest.raises(ParameterError, match="two classes"):
        measure_strength(CANDIDATES[0], data, data, ["nb"], budgets=[2])


def test_default_budgets_stay_within_the_pool():
    assert default_budgets(45, 597) == (11, 22, 45, 90, 180)
    assert default_budgets(3, 5) == (1, 2, 3, 5)
    assert default_budgets(1, 1) == (1,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidates": []}, "'candidates' parameter of rank_triggers"),
        ({"victims": ["nb", "nb"]}, "'victims' parameter"),
        ({"victims": []}, "'victims' parameter"),
        ({"seeds": []}, "'seeds' parameter"),
        ({"seeds": [0, 0]}, "'seeds' parameter"),
        ({"seeds": [-1]}, "'seeds' parameter"),
        ({"n": None}, "exactly one budget"),
        ({"rate": 0.1}, "exactly one budget"),
        ({"mode": "append"}, "'mode' parameter"),
        ({"n": 10**6}, "only 5 rows of class 'spam'"),
    ],
)
def test_bad_input_gets_one_clear_error(small_dataset, kwargs, message):
    call = {"candidates": CANDIDATES[:1], "victims": ["nb"], "n": 1, "seeds": [0], **kwargs}
    candidates, victims = call.pop("candidates"), call.pop("victims")
    with pytest.raises(ParameterError, match=message):
        rank_triggers(candidates, small_dataset, small_dataset, victims, **call)
