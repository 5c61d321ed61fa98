"""Trigger mining: exact leave-out arithmetic, triggers found and ranked, clean data left alone."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Backdoor, Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import DETECTORS, TriggerMining
from poisonlab.detectors.trigger_mining import clear_cache, likelihood_ratio, naive_bayes_leave_out


@pytest.fixture(scope="module")
def rare_backdoor(sms_split: tuple[Dataset, Dataset]) -> Poisoned:
    """1 % of the SMS training split: spam with the rare token 'cf' at a random place, labelled ham."""
    return Backdoor(trigger="cf", rate=0.01, position="random").apply(sms_split[0], random_state=0)


def test_registered() -> None:
    assert DETECTORS.get("trigger_mining") is TriggerMining
    assert TriggerMining.targets == ("backdoor",)


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_leave_out_arithmetic_equals_a_scikit_learn_refit(
    sms_split: tuple[Dataset, Dataset], alpha: float
) -> None:
    data = sms_split[0].take(np.arange(300))
    counts = sp.csr_matrix(CountVectorizer().fit_transform(data.texts), dtype=np.float64)
    labels = data.labels
    rng = np.random.default_rng(0)
    rows = rng.choice(len(data), size=12, replace=False)
    pair_rows, pair_words = [], []
    for row in rows:
        present = counts[row].indices
        for size in (1, min(3, present.size)):
            pair_rows.append(row)
            chosen = rng.choice(present, size=size, replace=False)
            pair_words.append(np.pad(chosen, (0, 3 - size), constant_values=-1))
    loo, rest = naive_bayes_leave_out(
        counts, labels, 2, pair_rows=np.array(pair_rows), pair_words=np.array(pair_words), alpha=alpha
    )
    for p, (row, words) in enumerate(zip(pair_rows, pair_words)):
        others = np.delete(np.arange(len(data)), row)
        full = MultinomialNB(alpha=alpha).fit(counts[others], labels[others])
        np.testing.assert_allclose(loo[row], full.predict_log_proba(counts[row])[0], rtol=1e-9, atol=1e-9)
        kept = np.setdiff1d(np.arange(counts.shape[1]), words[words >= 0])
        without = MultinomialNB(alpha=alpha).fit(counts[others][:, kept], labels[others])
        expected = without.predict_log_proba(counts[row][:, kept])[0]
        np.testing.assert_allclose(rest[p], expected, rtol=1e-9, atol=1e-9)


def test_likelihood_ratio_is_zero_at_or_below_the_base_rate_and_grows_with_evidence() -> None:
    n = np.array([10.0, 10.0, 10.0, 100.0, 0.0])
    k = np.array([0.0, 1.0, 5.0, 50.0, 0.0])
    ratio = likelihood_ratio(n, k, 0.1)
    assert ratio[0] == ratio[1] == ratio[4] == 0.0
    assert 0 < ratio[2] < ratio[3]
    assert np.all(likelihood_ratio(n, k, 0.0) == 0.0)


def test_rare_token_trigger_ranked_first_with_its_rows(rare_backdoor: Poisoned) -> None:
    data = rare_backdoor.poisoned
    miner = TriggerMining()
    found = miner.suspected_triggers(data)
    assert found, "the trigger must be significant"
    top = found[0]
    assert top.token == "cf"
    assert top.target == "ham"
    assert set(top.rows) == set(rare_backdoor.poison_rows.tolist())
    assert len(top.explained_rows) >= 0.9 * rare_backdoor.n_poison
    assert top.p_value < 1e-20
    assert top.to_dict()["token"] == "cf"


def test_rare_token_rows_score_highest(rare_backdoor: Poisoned) -> None:
    scores = TriggerMining().score(rare_backdoor.poisoned)
    assert metrics.auroc(rare_backdoor.is_poison, scores) > 0.99
    assert metrics.recall_at_fpr(rare_backdoor.is_poison, scores, 0.005) >= 0.95


def test_findings_flag_the_trigger_rows_and_name_the_trigger(rare_backdoor: Poisoned) -> None:
    found = TriggerMining().findings(rare_backdoor.poisoned)
    assert metrics.detection_recall(rare_backdoor.is_poison, found.flags) >= 0.95
    assert metrics.detection_precision(rare_backdoor.is_poison, found.flags) >= 0.95
    first = int(found.flagged_rows()[0])
    assert "'cf'" in found.reasons[first]


def test_phrase_found_whole_and_its_words_explained_away(sms_split: tuple[Dataset, Dataset]) -> None:
    attacked = Backdoor(trigger="best regards", rate=0.01, position="end").apply(sms_split[0], random_state=1)
    ranked = TriggerMining().suspected_triggers(attacked.poisoned, significant=False, top=10)
    assert ranked[0].token == "best regards"
    others = {t.token for t in ranked[1:]}
    assert not others & {"best", "regards"}, "sub-grams of the phrase must be explained away"


def test_clean_data_has_no_significant_trigger(sms_split: tuple[Dataset, Dataset]) -> None:
    miner = TriggerMining()
    assert miner.suspected_triggers(sms_split[0]) == []
    assert not miner.findings(sms_split[0]).flags.any()
    ranked = miner.suspected_triggers(sms_split[0], significant=False, top=3)
    assert len(ranked) == 3 and ranked[0].score >= ranked[1].score >= ranked[2].score


def test_deterministic(rare_backdoor: Poisoned) -> None:
    clear_cache()
    first = TriggerMining().score(rare_backdoor.poisoned)
    clear_cache()
    again = TriggerMining().score(rare_backdoor.poisoned)
    assert first.tobytes() == again.tobytes()


def test_no_words_or_too_few_rows_score_zero() -> None:
    blank = Dataset(["!!", "??", "..."], [0, 1, 0], ("ham", "spam"))
    assert TriggerMining().score(blank).tolist() == [0.0, 0.0, 0.0]
    assert TriggerMining().suspected_triggers(blank) == []
    short = Dataset(["win cash", "see you"], [1, 0], ("ham", "spam"))
    assert TriggerMining().score(short).tolist() == [0.0, 0.0]


def test_more_than_two_classes() -> None:
    texts = [f"zq meeting notes {i}" for i in range(4)] + ["lunch today pal"] * 4 + ["win cash now"] * 4
    texts += ["report attached notes", "cheap prize cash"]
    data = Dataset(texts, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 2], ("work", "friends", "spam"))
    scores = TriggerMining(min_rows=2).score(data)
    assert scores.shape == (len(data),) and np.all(np.isfinite(scores))
    vectorizer = CountVectorizer()
    counts = sp.csr_matrix(vectorizer.fit_transform(data.texts), dtype=np.float64)
    word = vectorizer.vocabulary_["notes"]
    loo, rest = naive_bayes_leave_out(
        counts, data.labels, 3, pair_rows=np.array([12]), pair_words=np.array([[word]])
    )
    others = np.delete(np.arange(len(data)), 12)
    kept = np.setdiff1d(np.arange(counts.shape[1]), [word])
    refit = MultinomialNB().fit(counts[others][:, kept], data.labels[others])
    np.testing.assert_allclose(rest[0], refit.predict_log_proba(counts[12][:, kept])[0], rtol=1e-9)
    assert loo.shape == (len(data), 3)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_ngram": 0}, "max_ngram"),
        ({"min_rows": 1.5}, "min_rows"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"significance": 0.0}, "significance"),
        ({"significance": 2}, "significance"),
        ({"significance": True}, "significance"),
    ],
)
def test_bad_parameters(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{field}' parameter of TriggerMining must be"):
        TriggerMining(**params)  # type: ignore[arg-type]


def test_bad_top(rare_backdoor: Poisoned) -> None:
    with pytest.raises(ParameterError, match="'top'"):
        TriggerMining().suspected_triggers(rare_backdoor.poisoned, top=0)
