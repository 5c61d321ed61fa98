"""DPNaiveBayes: bounded contribution, OpenDP's accounting, noise scale, utility vs epsilon."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poisonlab import DataError, ParameterError
from poisonlab.data import Dataset
from poisonlab.defenses import DEFENSES, DPNaiveBayes
from poisonlab.defenses._privacy import OPENDP, SEEDED, Query, opendp, release_laplace
from poisonlab.defenses.dp_naive_bayes import class_counts, class_feature_counts, clip_messages
from poisonlab.victims import make_victim


def cacc(defense: DPNaiveBayes, train: Dataset, test: Dataset, seed: int | None, victim: str = "nb") -> float:
    return float(np.mean(defense.fit(train, victim, random_state=seed).predict(test.texts) == test.labels))


def test_registered() -> None:
    assert DEFENSES.get("dp_naive_bayes") is DPNaiveBayes


def test_clipping_bounds_each_message(sms_split: tuple[Dataset, Dataset]) -> None:
    train, _ = sms_split
    clipped, n_cut = clip_messages(train, max_tokens=7, n_features=2**12)
    per_row = np.asarray(clipped.matrix.sum(axis=1)).ravel()
    assert clipped.matrix.shape == (len(train), 2**12)
    assert set(np.unique(clipped.matrix.data)) <= {1}
    assert per_row.max() <= 7
    assert 0 < n_cut < len(train)
    assert np.array_equal(clipped.labels, train.labels)


def test_one_message_moves_the_counts_by_at_most_its_bound(sms_split: tuple[Dataset, Dataset]) -> None:
    """The sensitivities the accounting is given: max_tokens for the table, 1 for the classes."""
    train, _ = sms_split
    full, _ = clip_messages(train, max_tokens=20, n_features=2**12)
    counts, classes = class_feature_counts(full), class_counts(full)
    longest = int(np.argmax([len(t) for t in train.texts]))
    for row in (0, 1, longest, len(train) - 1):
        rest = train.take(np.delete(np.arange(len(train)), row))
        fewer, _ = clip_messages(rest, max_tokens=20, n_features=2**12)
        moved = np.abs(counts - class_feature_counts(fewer)).sum()
        assert moved == full.matrix[row].sum() <= 20
        assert np.abs(classes - class_counts(fewer)).sum() == 1


def test_privacy_accounting_matches_opendp(small_dataset: Dataset) -> None:
    defense = DPNaiveBayes(epsilon=2.0, max_tokens=10, prior_share=0.1)
    info = defense.fit(small_dataset, "nb", random_state=0).info
    assert info["epsilon"] == pytest.approx(2.0) and info["epsilon"] <= 2.0
    assert info["delta"] == 0.0
    assert info["epsilon_class_counts"] == pytest.approx(0.2)
    assert info["epsilon_feature_counts"] == pytest.approx(1.8)
    assert info["noise_scale_class_counts"] == pytest.approx(1 / 0.2)
    assert info["noise_scale_feature_counts"] == pytest.approx(10 / 1.8)
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    table = dp.m.make_laplace(*space, scale=info["noise_scale_feature_counts"]).map(10)
    prior = dp.m.make_laplace(*space, scale=info["noise_scale_class_counts"]).map(1)
    assert table + prior <= 2.0 + 1e-12


def test_released_noise_has_the_stated_scale(sms_split: tuple[Dataset, Dataset]) -> None:
    """The noise actually added to the class-feature table, seeded and from OpenDP."""
    train, _ = sms_split
    data, _ = clip_messages(train, max_tokens=20, n_features=2**12)
    exact = class_feature_counts(data)
    for random_state, source in ((5, SEEDED), (None, OPENDP)):
        release = release_laplace([Query(class_feature_counts, 20)], [0.95], data, random_state)
        assert release.noise_source == source
        (scale,) = release.scales
        assert scale == pytest.approx(20 / 0.95)
        noise = release.values[0] - exact
        q = math.exp(-1 / scale)
        expected_sd = math.sqrt(2 * q) / (1 - q)
        assert abs(noise.std() / expected_sd - 1) < 0.06  # 8,192 draws: 5 standard errors


def test_huge_epsilon_is_the_exact_hashed_naive_bayes(sms_split: tuple[Dataset, Dataset]) -> None:
    """With negligible noise the model is MultinomialNB on the clipped hashed counts."""
    from sklearn.naive_bayes import MultinomialNB

    train, test = sms_split
    defended = DPNaiveBayes(epsilon=1000.0).fit(train, "nb", random_state=0)
    data, _ = clip_messages(train, max_tokens=20, n_features=2**12)
    table = class_feature_counts(data).reshape(2, -1)
    prior = class_counts(data) / len(train)
    exact = MultinomialNB(class_prior=prior).fit(table, [0, 1])
    features = defended.model[0].transform(test.texts)
    assert np.array_equal(defended.predict(test.texts), exact.predict(features))
    assert np.allclose(defended.model[-1].feature_log_prob_, exact.feature_log_prob_)


def test_larger_epsilon_is_closer_to_non_private(sms_split: tuple[Dataset, Dataset]) -> None:
    train, test = sms_split
    plain = make_victim("nb").fit(list(train.texts), train.labels)
    reference = float(np.mean(plain.predict(list(test.texts)) == test.labels))
    seeds = (0, 1, 2)
    means = [
        np.mean([cacc(DPNaiveBayes(epsilon=epsilon), train, test, seed) for seed in seeds])
        for epsilon in (0.05, 1.0, 50.0)
    ]
    gaps = [reference - m for m in means]
    assert gaps[0] > gaps[1] > gaps[2] > -0.005
    assert means[-1] > 0.96


def test_opendp_noise_gives_a_working_model(sms_split: tuple[Dataset, Dataset]) -> None:
    train, test = sms_split
    defended = DPNaiveBayes(epsilon=10.0).fit(train, "nb", random_state=None)
    assert defended.info["noise_source"] == OPENDP
    assert np.mean(defended.predict(test.texts) == test.labels) > 0.9


def test_complement_nb_victim(sms_split: tuple[Dataset, Dataset]) -> None:
    from sklearn.naive_bayes import ComplementNB

    train, test = sms_split
    defended = DPNaiveBayes(epsilon=10.0).fit(train, "cnb", random_state=0)
    assert isinstance(defended.model[-1], ComplementNB)
    assert defended.info["victim"] == "cnb"
    assert np.mean(defended.predict(test.texts) == test.labels) > 0.9


def test_more_than_two_classes() -> None:
    texts = ["buy pills now", "cheap pills", "meeting at noon", "lunch at noon", "vote for me", "vote now"]
    data = Dataset(texts, [0, 0, 1, 1, 2, 2], ("spam", "work", "politics"))
    defended = DPNaiveBayes(epsilon=5.0).fit(data, "nb", random_state=0)
    assert defended.predict_proba(["vote pills"]).shape == (1, 3)


def test_only_naive_bayes_victims(small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match="'victim' parameter of DPNaiveBayes must be 'nb' or 'cnb'"):
        DPNaiveBayes().fit(small_dataset, "logreg")
    with pytest.raises(ParameterError, match="Got 'Pipeline' instead"):
        DPNaiveBayes().fit(small_dataset, make_victim("nb"))


def test_empty_training_set() -> None:
    with pytest.raises(DataError, match="at least one training message"):
        DPNaiveBayes().fit(Dataset([], [], ("ham", "spam")), "nb")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": math.inf}, "epsilon"),
        ({"epsilon": "1"}, "epsilon"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 2.5}, "max_tokens"),
        ({"n_features": 1}, "n_features"),
        ({"prior_share": 1.0}, "prior_share"),
        ({"prior_share": 0}, "prior_share"),
        ({"alpha": 0}, "alpha"),
        ({"alpha": math.nan}, "alpha"),
    ],
)
def test_bad_parameters(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{field}' parameter of DPNaiveBayes must be"):
        DPNaiveBayes(**params)  # type: ignore[arg-type]
