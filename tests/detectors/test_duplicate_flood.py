"""Near-duplicate floods: MinHash LSH candidates, exact Jaccard, clusters of one label."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import CountVectorizer

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Backdoor
from poisonlab.data import Dataset
from poisonlab.detectors import DuplicateFlood, duplicate_flood
from poisonlab.detectors.duplicate_flood import near_duplicate_clusters, shingles

TRICKY = [
    "",
    "   ",
    "a",
    "ab",
    "abc",
    "abcd",
    "  x  y\tz\u00a0ww\u3000abcdef ",
    "\x1cfoo\x85bar\r\nbaz",
    "ha" * 400,  # one shingle repeated hundreds of times counts once
    "ÀÉÎ àéî Straße \u212aelvin",  # folded through a table ('K' Kelvin sign -> 'k')
    "ΟΔΟΣ ΟΔΟΣ. İzmir",  # folded by Python: a final sigma, a letter folding to two
    "\ud800 lone surrogate",
]
CHAR_WB = CountVectorizer(analyzer="char_wb", ngram_range=(5, 5)).build_analyzer()


def jaccard(a: str, b: str) -> float:
    first, second = (set(row.indices.tolist()) for row in shingles([a, b]))
    return len(first & second) / len(first | second)


def assert_shingles_are_char_wb(texts: list[str]) -> None:
    """Each row is the set of scikit-learn's char_wb 5-grams: same sizes, same pairwise overlaps."""
    matrix = shingles(texts)
    assert np.all(matrix.data == 1)
    columns = [matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]] for i in range(len(texts))]
    assert all(np.all(np.diff(row) > 0) for row in columns)  # sorted, each once
    rows = [set(row.tolist()) for row in columns]
    expected = [set(CHAR_WB(text)) for text in texts]
    assert [len(r) for r in rows] == [len(e) for e in expected]
    for i, j in itertools.combinations(range(len(texts)), 2):
        assert len(rows[i] & rows[j]) == len(expected[i] & expected[j]), (texts[i], texts[j])


def test_shingles_are_the_char_wb_5_grams(sms_sample: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = TRICKY + list(sms_sample.texts[:150])
    assert_shingles_are_char_wb(texts)
    assert_shingles_are_char_wb([t for t in texts if "Σ" not in t])  # case folded in arrays
    many = "".join(chr(0x4E00 + i) for i in range(4000))  # too many characters to pack: hashed
    assert_shingles_are_char_wb([*TRICKY, many[:2000], many[1500:], many])
    whole = shingles(texts)
    monkeypatch.setattr(duplicate_flood, "_CHARACTERS_PER_CHUNK", 7)  # a text or two at a time
    chunked = shingles(texts)
    assert np.array_equal(chunked.indptr, whole.indptr) and np.array_equal(chunked.indices, whole.indices)


def test_densified_bins_take_the_first_non_empty_bin_they_try() -> None:
    rng = np.random.default_rng(0)
    for k in (8, 64):
        tries = rng.integers(0, k, size=(k, k), dtype=np.int32)
        block = rng.integers(0, 1000, size=(400, k)).astype(np.uint32)
        for row, kept in zip(block, rng.integers(0, k + 1, size=400)):
            row[rng.permutation(k)[kept:]] = duplicate_flood._EMPTY
        found = duplicate_flood._densify(block.copy(), tries)
        for row, densified in zip(block, found):
            filled = row != duplicate_flood._EMPTY
            if not filled.any():
                assert np.all(densified == duplicate_flood._EMPTY)
                continue
            for j in np.flatnonzero(~filled):
                order = [*tries[:, j], *((j + np.arange(1, k)) % k)]
                assert densified[j] == row[next(b for b in order if filled[b])]
            assert np.array_equal(densified[filled], row[filled])


def test_clusters_are_those_of_every_pair_checked(sms_split: tuple[Dataset, Dataset]) -> None:
    """LSH finds every linked pair of the SMS training split: the clusters of an all-pairs check."""
    texts = list(dict.fromkeys(sms_split[0].texts))
    matrix = shingles(texts)
    _, column = np.unique(matrix.indices, return_inverse=True)
    compact = sp.csr_matrix((np.ones(matrix.nnz), column.ravel(), matrix.indptr))
    shared = (compact @ compact.T).tocoo()
    sizes = np.diff(matrix.indptr)
    linked = shared.data >= 0.8 * (sizes[shared.row] + sizes[shared.col] - shared.data)
    graph = sp.coo_matrix((shared.data[linked], (shared.row[linked], shared.col[linked])), shape=shared.shape)
    _, expected = connected_components(graph, directed=False)
    found = near_duplicate_clusters(texts, threshold=0.8, n_permutations=64, bands=16, random_state=0)
    assert np.array_equal(found, expected)  # same partition, numbered alike (by first text)
    assert np.unique(expected).size < len(texts) - 50  # near-duplicates to find


def test_clusters_are_kept_per_dataset_and_numbered_by_first_row() -> None:
    texts = ["see you", "Win a PRIZE now", "win a prize now", "lunch?", "win a prize now!", "see you"]
    data = Dataset(texts, [0, 1, 1, 0, 1, 0], ("ham", "spam"))
    detector = DuplicateFlood(threshold=0.6)
    cluster = detector.clusters(data)
    assert cluster.tolist() == [0, 1, 1, 2, 1, 0]
    assert detector.clusters(data) is cluster and not cluster.flags.writeable
    assert DuplicateFlood(threshold=0.6, random_state=1).clusters(data) is not cluster
    duplicate_flood.clear_cache()
    assert detector.clusters(data) is not cluster


def test_finds_an_injected_flood_in_real_data(sms_split: tuple[Dataset, Dataset]) -> None:
    carriers = (
        "Claim your FREE prize now, text WIN to 80082",
        "Claim your FREE prize today, text WIN to 80082",
    )
    attack = Backdoor(trigger="PROMO2026", mode="inject", rate=0.01, carriers=carriers)
    out = attack.apply(sms_split[0], random_state=0)
    detector = DuplicateFlood()
    scores = detector.score(out.poisoned)
    assert metrics.auroc(out.is_poison, scores) > 0.95
    floods = detector.floods(out.poisoned)
    biggest = floods[0]
    assert biggest.size == out.n_poison  # the two carriers differ by one word: one flood
    assert set(biggest.rows.tolist()) == set(out.poison_rows.tolist())
    assert out.poisoned.classes[biggest.label] == "ham"


def test_clusters_follow_exact_jaccard() -> None:
    texts = [
        "URGENT! You have won a 1 week FREE membership",
        "URGENT! You have won a 1 week FREE membership!!",
        "urgent! you have won a 1 week free membership",
        "Are we still meeting for lunch tomorrow?",
        "",
        "",
    ]
    assert jaccard(texts[0], texts[1]) >= 0.8 and jaccard(texts[0], texts[3]) < 0.1
    cluster = near_duplicate_clusters(texts, threshold=0.8, n_permutations=64, bands=16, random_state=0)
    assert cluster[0] == cluster[1] == cluster[2]  # case folded, punctuation barely matters
    assert len({cluster[0], cluster[3], cluster[4]}) == 3
    assert cluster[4] == cluster[5]  # empty texts are duplicates of each other only


def test_a_flood_is_one_label_and_at_least_min_size() -> None:
    texts = ["PROMO2026 limited offer"] * 7 + ["see you at lunch", "running late"]
    data = Dataset(texts, [0, 0, 0, 0, 0, 1, 1, 0, 0], ("ham", "spam"))
    detector = DuplicateFlood(min_size=5)
    (flood,) = detector.floods(data)
    assert flood.rows.tolist() == [0, 1, 2, 3, 4] and flood.label == 0 and flood.other_labels == 2
    found = detector.findings(data)
    assert found.scores.tolist() == [4, 4, 4, 4, 4, 1, 1, 0, 0]
    assert found.flags.tolist() == [True] * 5 + [False] * 4
    assert "one of 5 near-identical rows labelled 'ham'" in found.reasons[0]
    assert "2 near-identical rows carry other labels" in found.reasons[0]
    assert DuplicateFlood(min_size=6).floods(data) == []


def test_the_seed_changes_hashes_not_clear_results(sms_sample: Dataset) -> None:
    first = DuplicateFlood(random_state=0).score(sms_sample)
    second = DuplicateFlood(random_state=1).score(sms_sample)
    assert np.array_equal(first > 0, second > 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("threshold", 0.0), ("threshold", 1.5), ("min_size", 1), ("n_permutations", 0), ("bands", 7)],
)
def test_bad_parameters(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"'{field}' parameter of DuplicateFlood"):
        DuplicateFlood(**{field: value})  # type: ignore[arg-type]
