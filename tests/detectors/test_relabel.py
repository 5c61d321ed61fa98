"""IterativeRelabel: recall on a planted targeted flip, few flags on clean data, the relabelling rounds."""

from __future__ import annotations

import numpy as np

from poisonlab.attacks import Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import IterativeRelabel, KnnLabelDisagreement
from poisonlab.detectors.relabel import relabel_rounds
from poisonlab.detectors.word_counts import count_words


def test_finds_a_targeted_flip_that_teaches_the_model_the_wrong_lesson(sms_flip: Poisoned) -> None:
    """10 % targeted: 446 of 597 spam relabelled ham. Other detectors' models learn the flip."""
    data, truth = sms_flip.poisoned, sms_flip.is_poison
    flags = IterativeRelabel().flag(data)
    hits = int((flags & truth).sum())
    precision, recall = hits / flags.sum(), hits / truth.sum()
    assert recall >= 0.85 and precision >= 0.85, (precision, recall)
    knn = KnnLabelDisagreement().flag(data)
    f1 = 2 * precision * recall / (precision + recall)
    knn_hits = int((knn & truth).sum())
    knn_f1 = 2 * knn_hits / (knn.sum() + truth.sum())
    assert f1 > knn_f1 + 0.05


def test_flags_at_most_one_percent_of_a_clean_split(sms_split: tuple[Dataset, Dataset]) -> None:
    train = sms_split[0]
    assert IterativeRelabel().flag(train).mean() <= 0.01


def test_rounds_move_flipped_rows_back_and_stop_at_a_fixed_point() -> None:
    texts = ["win cash now", "win cash prize", "cash prize now", "win a prize"] * 3 + [
        "see you at lunch",
        "lunch at noon",
        "see you soon",
        "call me at noon",
    ] * 3
    truth = np.array([1] * 12 + [0] * 12)
    given = truth.copy()
    given[[0, 5, 10]] = 0  # three spam rows labelled ham
    cleaned, posterior, rounds = relabel_rounds(count_words(texts), given, 2, max_rounds=10)
    assert cleaned.tolist() == truth.tolist()
    assert rounds < 10 and np.allclose(posterior.sum(axis=1), 1.0)
    again, _, _ = relabel_rounds(count_words(texts), cleaned, 2)
    assert again.tolist() == cleaned.tolist()


def test_findings_name_the_cleaned_label_models(sms_flip: Poisoned) -> None:
    sample = sms_flip.poisoned.take(np.arange(1000))
    found = IterativeRelabel().findings(sample)
    row = int(found.flagged_rows()[0])
    assert "relabelling" in found.reasons[row] and "'spam' p=" in found.reasons[row]
