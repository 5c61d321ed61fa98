"""Trigger mining: exact leave-out arithmetic, triggers found and ranked, clean data left alone."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Backdoor, LabelFlip, Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import DETECTORS, TriggerMining
from poisonlab.detectors.trigger_mining import (
    clear_cache,
    context_p_value,
    expected_rates,
    likelihood_ratio,
    naive_bayes_leave_out,
)


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


@pytest.mark.parametrize("strategy", ["targeted", "random"])
def test_pure_label_flips_give_no_trigger(sms_split: tuple[Dataset, Dataset], strategy: str) -> None:
    """Flipped rows carry a class's words as often as its other rows do: with the null rate
    taken from rows without the word, no word explains them (the old global base rate made
    'call', 'from' and 'or' strongly suspected)."""
    flipped = LabelFlip(strategy=strategy, rate=0.1).apply(sms_split[0], random_state=0)
    miner = TriggerMining()
    assert miner.suspected_triggers(flipped.poisoned) == []
    ranked = miner.suspected_triggers(flipped.poisoned, significant=False)
    assert all(t.p_value > 0.001 for t in ranked if t.token in {"call", "from", "or", "to"})
    assert all(t.p_value > 1e-6 or t.share < 0.5 for t in ranked)


def test_a_template_counts_once(sms_split: tuple[Dataset, Dataset]) -> None:
    """Five near-copies of one spam template that reads as ham are one observation, not five:
    its words stand among the same words in every copy."""
    template = "please call 0871240{} immediately as there is an urgent message waiting for you"
    copies = Dataset([template.format(1000 + i) for i in range(5)], [1] * 5, sms_split[0].classes)
    data = sms_split[0].concat(copies)
    found = TriggerMining().suspected_triggers(data, significant=False)
    strongest = next(t for t in found if set(t.explained_rows) >= set(range(len(data) - 5, len(data))))
    assert strongest.context_p_value > 0.001 >= strongest.p_value or strongest.p_value > 0.001
    assert all(t.context_p_value > 0.001 for t in TriggerMining().suspected_triggers(data))


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


# --- the fast path against the row-by-row reference ---------------------------------------------
#
# The reference below is the implementation the fast path replaced, kept verbatim in spirit:
# scikit-learn's CountVectorizer builds the n-grams row by row, the leave-out arithmetic runs
# once per (row, token) pair, and the greedy ranking keeps Python sets of rows. The fast path
# (shared word counts, integer n-gram keys, one computation per distinct (text, label) pair)
# must give exactly the same numbers.


def _reference_leave_out(
    counts: sp.csr_matrix,
    labels: np.ndarray,
    n_classes: int,
    pair_rows: np.ndarray,
    pair_words: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    X = sp.csr_matrix(counts, dtype=np.float64)
    X.sort_indices()
    n, n_words = X.shape
    y = np.asarray(labels, dtype=np.int64)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), y)), shape=(n, n_classes))
    class_counts = np.asarray((onehot.T @ X).todense(), dtype=np.float64)
    lengths = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    log_counts = np.log(class_counts + alpha)
    entry_rows = np.repeat(np.arange(n), np.diff(X.indptr))
    entry_own = y[entry_rows]
    own_counts = class_counts[entry_own, X.indices]
    base = np.asarray(X @ log_counts.T, dtype=np.float64)
    np.add.at(
        base,
        (entry_rows, entry_own),
        X.data * (np.log(own_counts - X.data + alpha) - np.log(own_counts + alpha)),
    )
    rows = np.arange(n)
    totals = np.tile(class_counts.sum(axis=1), (n, 1))
    totals[rows, y] -= lengths
    priors = np.tile(np.bincount(y, minlength=n_classes).astype(np.float64), (n, 1))
    priors[rows, y] -= 1.0
    with np.errstate(divide="ignore"):
        log_prior = np.log(priors) - np.log(max(n - 1, 1))
    loo = log_prior + base - lengths[:, None] * np.log(totals + alpha * n_words)
    pr = np.asarray(pair_rows, dtype=np.int64)
    pw = np.asarray(pair_words, dtype=np.int64).reshape(pr.size, -1)
    keys = entry_rows.astype(np.int64) * n_words + X.indices
    removed_base = base[pr].copy()
    removed_length = np.zeros(pr.size)
    removed_totals = np.zeros((pr.size, n_classes))
    removed_words = np.zeros(pr.size)
    own = y[pr]
    for slot in range(pw.shape[1]):
        has = pw[:, slot] >= 0
        at, words = np.flatnonzero(has), pw[has, slot]
        x = X.data[np.searchsorted(keys, pr[at] * n_words + words)]
        column_counts = class_counts[:, words].T.copy()
        column_counts[np.arange(at.size), own[at]] -= x
        removed_base[at] -= x[:, None] * np.log(column_counts + alpha)
        removed_length[at] += x
        removed_totals[at] += column_counts
        removed_words[at] += 1
    denominators = totals[pr] - removed_totals + alpha * (n_words - removed_words)[:, None]
    rest = log_prior[pr] + removed_base - (lengths[pr] - removed_length)[:, None] * np.log(denominators)

    def normalise(joint: np.ndarray) -> np.ndarray:
        return np.asarray(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True))

    return normalise(loo), normalise(rest)


def _reference(miner: TriggerMining, data: Dataset) -> dict[str, object]:
    """Tokens, per-token counts and scores, row scores, rankings and flags, row by row."""
    from scipy.stats import binom

    n, n_classes = len(data), len(data.classes)
    unigrams = CountVectorizer(dtype=np.float64)
    grams = CountVectorizer(
        ngram_range=(1, miner.max_ngram), min_df=miner.min_rows, binary=True, dtype=np.float64
    )
    counts = sp.csr_matrix(unigrams.fit_transform(list(data.texts)))
    carriers = sp.csr_matrix(grams.fit_transform(list(data.texts)))
    tokens = tuple(str(t) for t in grams.get_feature_names_out())
    words = [[unigrams.vocabulary_[w] for w in dict.fromkeys(t.split(" "))] for t in tokens]
    padded = np.full((len(tokens), miner.max_ngram), -1, dtype=np.int64)
    for c, distinct in enumerate(words):
        padded[c, : len(distinct)] = distinct
    pairs = carriers.tocoo()
    pair_rows, pair_tokens = pairs.row.astype(np.int64), pairs.col.astype(np.int64)
    loo, rest = _reference_leave_out(
        counts, data.labels, n_classes, pair_rows, padded[pair_tokens], miner.alpha
    )
    own = data.labels[pair_rows]
    at = np.arange(pair_rows.size)
    rest_own = rest[at, own]
    rest_other = rest.copy()
    rest_other[at, own] = -np.inf
    explained = (rest_other.max(axis=1) > rest_own) & (loo[pair_rows, own] > rest_own)
    predicted = rest.argmax(axis=1)
    loo_class = loo.argmax(axis=1)
    K, T = n_classes, len(tokens)
    row_table = np.zeros((K, K))
    np.add.at(row_table, (loo_class, data.labels), 1.0)

    def tables(pr: np.ndarray, pp: np.ndarray, hit: np.ndarray, tok: np.ndarray, t: int) -> tuple:
        by_class, carriers, by_label = np.zeros((t, K)), np.zeros((t, K, K)), np.zeros((t, K))
        np.add.at(by_class, (tok, pp), 1.0)
        np.add.at(carriers, (tok, loo_class[pr], data.labels[pr]), 1.0)
        np.add.at(by_label, (tok[hit], data.labels[pr[hit]]), 1.0)
        return by_class, carriers, by_label

    by_class, carrier_table, by_label = tables(pair_rows, predicted, explained, pair_tokens, T)
    n_toward, rates = expected_rates(by_class, carrier_table, row_table)
    by_direction = likelihood_ratio(n_toward, by_label, rates)
    n_rows = np.bincount(pair_tokens, minlength=len(tokens)).astype(np.float64)
    n_explained = np.bincount(pair_tokens, weights=explained, minlength=len(tokens)).astype(np.float64)
    scores = by_direction.max(axis=1)
    share = np.divide(n_explained, n_rows, out=np.zeros_like(n_rows), where=n_rows > 0)
    contribution = np.where(explained, scores[pair_tokens], scores[pair_tokens] * share[pair_tokens])
    row_scores = np.zeros(n)
    np.maximum.at(row_scores, pair_rows, contribution)
    rows_of = sp.csc_matrix(carriers)
    hits_of = sp.csc_matrix(
        (np.ones(int(explained.sum())), (pair_rows[explained], pair_tokens[explained])), shape=carriers.shape
    )

    def rank(top: int | None) -> list[dict[str, object]]:
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] > 0]
        accepted: list[dict[str, object]] = []
        covering: dict[int, set[int]] = {}
        for c in order:
            if top is not None and len(accepted) >= top:
                kth = sorted((t["score"] for t in accepted), reverse=True)[top - 1]  # type: ignore[type-var]
                if float(scores[c]) <= kth:  # type: ignore[operator]
                    break
            rows = rows_of.indices[rows_of.indptr[c] : rows_of.indptr[c + 1]]
            hits = hits_of.indices[hits_of.indptr[c] : hits_of.indptr[c + 1]]
            covered: set[int] = set().union(*(covering.get(w, set()) for w in words[c]))
            mine = (pair_tokens == c) & ~np.isin(pair_rows, list(covered))
            free_tables = tables(
                pair_rows[mine],
                predicted[mine],
                explained[mine],
                np.zeros(int(mine.sum()), dtype=np.int64),
                1,
            )
            n_free, rate_free = expected_rates(free_tables[0], free_tables[1], row_table)
            toward = likelihood_ratio(n_free, free_tables[2], rate_free)[0]
            best = int(np.argmax(toward))
            score = float(toward[best])
            if score <= 0:
                continue
            n_best, k_best, rate_best = (
                int(n_free[0, best]),
                int(free_tables[2][0, best]),
                float(rate_free[0, best]),
            )
            labels = data.labels[hits] if hits.size else data.labels[rows]
            accepted.append(
                {
                    "token": tokens[c],
                    "score": score,
                    "p_value": min(1.0, float(binom.sf(k_best - 1, n_best, rate_best)) * len(tokens) * K),
                    "target": data.classes[int(np.bincount(labels, minlength=n_classes).argmax())],
                    "rows": tuple(int(r) for r in np.sort(rows)),
                    "explained_rows": tuple(int(r) for r in np.sort(hits)),
                    "eligible_rows": n_best,
                    "expected_share": rate_best,
                    "context_p_value": context_p_value(
                        [data.texts[r] for r in np.sort(hits).tolist()],
                        tokens[c],
                        n_best,
                        rate_best,
                        len(tokens) * K,
                    ),
                }
            )
            for w in words[c]:
                covering.setdefault(w, set()).update(rows.tolist())
        ranked = sorted(accepted, key=lambda t: -t["score"])  # type: ignore[operator]
        return ranked if top is None else ranked[:top]

    full = rank(None)
    significant = [
        t
        for t in full
        if t["p_value"] <= miner.significance  # type: ignore[operator]
        and len(t["explained_rows"]) >= miner.min_share * len(t["rows"])  # type: ignore[arg-type]
        and t["context_p_value"] <= miner.significance  # type: ignore[operator]
    ]
    flags = np.zeros(n, dtype=bool)
    reasons = [""] * n
    for t in significant:
        chosen = t["rows"] if len(t["explained_rows"]) / len(t["rows"]) > 0.5 else t["explained_rows"]  # type: ignore[arg-type]
        for r in chosen:  # type: ignore[attr-defined]
            if not flags[r]:
                flags[r] = True
                reasons[r] = (
                    f"carries {t['token']!r}, a suspected trigger: {len(t['explained_rows'])} of "  # type: ignore[arg-type]
                    f"{len(t['rows'])} rows carrying it are labelled {t['target']!r} against the "  # type: ignore[arg-type]
                    f"rest of their text (p={t['p_value']:.1g})"
                )
    return {
        "tokens": tokens,
        "scores": scores,
        "n_rows": n_rows,
        "n_explained": n_explained,
        "row_table": row_table,
        "row_scores": row_scores,
        "ranked": full,
        "top": {k: rank(k) for k in (1, 5)},
        "significant": significant,
        "flags": flags,
        "reasons": tuple(reasons),
    }


def _duplicated_with_conflicting_labels(train: Dataset) -> Dataset:
    """SMS rows resampled with replacement (many texts repeated), 10 % of labels flipped (so
    some texts carry both labels), a phrase backdoor, and texts that repeat a word."""
    rng = np.random.default_rng(3)
    data = train.take(rng.integers(0, 1500, size=2500))
    labels = data.labels.copy()
    flip = rng.random(labels.size) < 0.1
    labels[flip] = 1 - labels[flip]
    data = data.with_labels(labels)
    repeats = Dataset(
        ["ok ok ok", "la la la la", "ok ok ok", "Ok OK ok!", "la la la la"], [0, 1, 1, 0, 1], data.classes
    )
    data = data.concat(repeats)
    return Backdoor(trigger="best regards", rate=0.02, position="end").apply(data, random_state=1).poisoned


def _three_classes() -> Dataset:
    texts = [f"zq meeting notes {i}" for i in range(6)] + ["lunch today pal"] * 5 + ["win cash now zq"] * 5
    texts += ["report attached notes", "cheap prize cash", "lunch today pal", "zq zq report"] * 2
    texts += ["zq meeting notes 0"] * 2  # a text carrying all three labels
    labels = [0] * 6 + [1] * 5 + [2] * 5 + [0, 2, 2, 1] * 2 + [1, 2]
    return Dataset(texts, labels, ("work", "friends", "spam"))


@pytest.mark.parametrize(
    ("case", "params"),
    [
        ("rare_backdoor", {}),
        ("rare_backdoor", {"max_ngram": 1, "min_rows": 2, "alpha": 0.3}),
        ("duplicated", {"max_ngram": 4, "min_rows": 2, "significance": 0.05}),
        ("three_classes", {"max_ngram": 2, "min_rows": 2, "alpha": 0.5, "significance": 0.5}),
    ],
)
def test_fast_path_equals_the_row_by_row_reference(
    case: str, params: dict[str, object], rare_backdoor: Poisoned, sms_split: tuple[Dataset, Dataset]
) -> None:
    data = {
        "rare_backdoor": lambda: rare_backdoor.poisoned,
        "duplicated": lambda: _duplicated_with_conflicting_labels(sms_split[0]),
        "three_classes": _three_classes,
    }[case]()
    miner = TriggerMining(**params)  # type: ignore[arg-type]
    expected = _reference(miner, data)
    clear_cache()
    evidence = miner._evidence(data)
    assert evidence.tokens == expected["tokens"]
    for field in ("scores", "n_rows", "n_explained"):
        np.testing.assert_array_equal(getattr(evidence, field), expected[field], err_msg=field)
    np.testing.assert_array_equal(evidence.row_table, expected["row_table"])
    np.testing.assert_array_equal(miner.score(data), expected["row_scores"])
    assert [t.to_dict() for t in miner.suspected_triggers(data, significant=False)] == expected["ranked"]
    for top, ranked in expected["top"].items():  # type: ignore[attr-defined]
        assert [t.to_dict() for t in miner.suspected_triggers(data, significant=False, top=top)] == ranked
    assert [t.to_dict() for t in miner.suspected_triggers(data)] == expected["significant"]
    found = miner.findings(data)
    np.testing.assert_array_equal(found.flags, expected["flags"])
    assert found.reasons == expected["reasons"]
    assert expected["ranked"], "the case must rank some token"


def test_weighted_leave_out_equals_repeated_rows(sms_split: tuple[Dataset, Dataset]) -> None:
    data = sms_split[0].take(np.arange(60))
    counts = sp.csr_matrix(CountVectorizer().fit_transform(data.texts), dtype=np.float64)
    copies = np.random.default_rng(0).integers(1, 4, size=len(data))
    repeated = np.repeat(np.arange(len(data)), copies)
    first = np.concatenate([[0], np.cumsum(copies)[:-1]])  # each row's first copy
    rows = np.arange(0, len(data), 7)
    words = np.array([[counts[r].indices[0], counts[r].indices[-1]] for r in rows])
    words[words[:, 0] == words[:, 1], 1] = -1
    loo, rest = naive_bayes_leave_out(
        counts, data.labels, 2, pair_rows=rows, pair_words=words, alpha=0.7, weights=copies
    )
    loo_r, rest_r = naive_bayes_leave_out(
        counts[repeated], data.labels[repeated], 2, pair_rows=first[rows], pair_words=words, alpha=0.7
    )
    np.testing.assert_array_equal(loo, loo_r[first])
    np.testing.assert_array_equal(rest, rest_r)


_WORDS = st.sampled_from(["ok", "OK", "la", "cash", "win", "now", "é", "ça", "zz9", "a", "!", "Win."])


@given(
    texts=st.lists(st.lists(_WORDS, max_size=7).map(" ".join), min_size=1, max_size=14),
    repeat=st.lists(st.integers(1, 3), min_size=14, max_size=14),
    max_ngram=st.integers(1, 4),
    min_rows=st.integers(1, 4),
)
@settings(max_examples=60)
def test_ngrams_equal_count_vectorizer(
    texts: list[str], repeat: list[int], max_ngram: int, min_rows: int
) -> None:
    from poisonlab.detectors.trigger_mining import _alphabetical, _frequent_ngrams
    from poisonlab.detectors.word_counts import count_words

    rows = [text for text, times in zip(texts, repeat) for _ in range(times)]
    vectorizer = CountVectorizer(ngram_range=(1, max_ngram), min_df=min_rows, binary=True)
    try:
        expected = sp.csc_matrix(vectorizer.fit_transform(rows))
        names = tuple(str(t) for t in vectorizer.get_feature_names_out())
    except ValueError:  # no word, or none in min_rows rows
        expected, names = None, ()
    counted = count_words(rows)
    if counted.n_words == 0:
        assert names == ()
        return
    grams = _frequent_ngrams(counted, max_ngram=max_ngram, min_rows=min_rows)
    tokens, words, gram_of_token = _alphabetical(grams.sequences, counted.words)
    assert tokens == names
    if expected is None:
        return
    token_of_gram = np.argsort(gram_of_token)
    texts_of = {c: set() for c in range(len(tokens))}
    for level in grams.levels:
        for text, gram in zip(level.texts.tolist(), level.grams.tolist()):
            texts_of[int(token_of_gram[gram])].add(text)
    for c, token in enumerate(tokens):
        carried = np.flatnonzero(np.isin(counted.text_of_row, list(texts_of[c])))
        np.testing.assert_array_equal(carried, np.sort(expected[:, c].indices), err_msg=token)
        distinct = [counted.vocabulary[w] for w in dict.fromkeys(token.split(" "))]
        assert words[c].tolist() == distinct + [-1] * (max_ngram - len(distinct))
