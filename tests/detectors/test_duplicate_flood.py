"""Near-duplicate floods: MinHash LSH candidates, exact Jaccard, clusters of one label."""

from __future__ import annotations

import numpy as np
import pytest

from poisonlab import metrics
from poisonlab._errors import ParameterError
from poisonlab.attacks import Backdoor
from poisonlab.data import Dataset
from poisonlab.detectors import DuplicateFlood
from poisonlab.detectors.duplicate_flood import near_duplicate_clusters, shingles


def jaccard(a: str, b: str) -> float:
    m = shingles([a, b]).toarray() > 0
    return float((m[0] & m[1]).sum() / (m[0] | m[1]).sum())


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
