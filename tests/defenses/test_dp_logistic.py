"""DPLogistic: the sensitivity bound, OpenDP's accounting, noise scale, utility vs epsilon."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poisonlab import DataError, ParameterError
from poisonlab.data import Dataset
from poisonlab.defenses import DEFENSES, DPLogistic
from poisonlab.defenses._privacy import OPENDP, SEEDED, opendp
from poisonlab.defenses.dp_logistic import _Rows, feature_pipeline, sensitivity


def rows_of(data: Dataset, n_features: int = 2**12) -> _Rows:
    return _Rows(feature_pipeline(n_features).fit_transform(list(data.texts)), data.labels)


def test_registered() -> None:
    assert DEFENSES.get("dp_logistic") is DPLogistic


def test_feature_rows_have_unit_norm(sms_split: tuple[Dataset, Dataset]) -> None:
    train, _ = sms_split
    matrix = rows_of(train).matrix
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0)
    assert np.all(matrix[:, -1].toarray() > 0), "the constant column stands in for the intercept"


@pytest.mark.parametrize("C", [0.3, 2.0])
def test_one_message_moves_the_weights_by_at_most_the_sensitivity(
    sms_split: tuple[Dataset, Dataset], C: float
) -> None:
    """Chaudhuri et al.'s Lemma 7, checked numerically: add one message, any one, and refit."""
    train, _ = sms_split
    base = train.take(range(600))
    defense = DPLogistic(C=C)
    weights = defense._exact_weights(rows_of(base))
    extra = [
        ("WINNER!! free free free cash prize claim now call 0800", 0),  # spam text labelled ham
        ("see you at lunch tomorrow", 1),  # ham text labelled spam
        (" ".join(f"word{i}" for i in range(300)), 1),  # many tokens
        (base.texts[0], 1 - int(base.labels[0])),  # a duplicate with the other label
    ]
    moves = []
    for text, label in extra:
        grown = base.concat(Dataset([text], [label], base.classes))
        moves.append(np.linalg.norm(defense._exact_weights(rows_of(grown)) - weights))
    assert max(moves) <= sensitivity(C, 2) * (1 + 1e-6)
    assert max(moves) > 0.05 * sensitivity(C, 2), "the bound is not vacuous"


def test_three_classes_use_the_softmax_bound() -> None:
    texts = ["buy pills now", "cheap pills", "meeting at noon", "lunch at noon", "vote for me", "vote now"]
    data = Dataset(texts, [0, 0, 1, 1, 2, 2], ("spam", "work", "politics"))
    defended = DPLogistic(epsilon=5.0, C=0.5).fit(data, "logreg", random_state=0)
    assert defended.info["sensitivity"] == pytest.approx(0.5 * math.sqrt(2))
    assert defended.predict_proba(["vote pills"]).shape == (1, 3)
    assert defended.model[-1].coef_.shape == (3, 2**12 + 1)


def test_privacy_accounting_matches_opendp(small_dataset: Dataset) -> None:
    defense = DPLogistic(epsilon=3.0, delta=1e-5, C=0.5)
    info = defense.fit(small_dataset, "logreg", random_state=0).info
    assert info["epsilon"] <= 3.0 and info["epsilon"] == pytest.approx(3.0, rel=1e-6)
    assert info["delta"] <= 1e-5
    assert info["sensitivity"] == 0.5
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float)

    def epsilon_at(scale: float) -> float:
        concentrated = dp.m.make_gaussian(*space, scale=scale)
        return float(dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(concentrated), 1e-5).map(0.5)[0])

    assert epsilon_at(info["noise_scale"]) <= 3.0 * (1 + 1e-9)
    assert epsilon_at(info["noise_scale"] * 0.999) > 3.0, "no more noise than the budget needs"


def test_released_noise_has_the_stated_scale(sms_split: tuple[Dataset, Dataset]) -> None:
    train, _ = sms_split
    defense = DPLogistic(epsilon=1.0)
    exact = defense._exact_weights(rows_of(train))
    for random_state, source in ((4, SEEDED), (None, OPENDP)):
        defended = defense.fit(train, "logreg", random_state=random_state)
        assert defended.info["noise_source"] == source
        noise = defended.model[-1].coef_.ravel() - exact
        # 4,097 Gaussian draws: the sample deviation is within 6 standard errors (1.1% each).
        assert abs(noise.std() / defended.info["noise_scale"] - 1) < 0.07


def test_largest_epsilon_is_nearly_the_exact_model(sms_split: tuple[Dataset, Dataset]) -> None:
    from sklearn.linear_model import LogisticRegression

    train, test = sms_split
    defended = DPLogistic(epsilon=1000.0).fit(train, "logreg", random_state=0)
    assert defended.info["noise_scale"] < 0.03
    features = feature_pipeline(2**12)
    exact = LogisticRegression(C=1.0, fit_intercept=False, solver="newton-cg", tol=1e-10).fit(
        features.fit_transform(list(train.texts)), train.labels
    )
    agree = defended.predict(test.texts) == exact.predict(features.transform(list(test.texts)))
    assert agree.mean() > 0.99


def test_larger_epsilon_is_closer_to_non_private(sms_split: tuple[Dataset, Dataset]) -> None:
    train, test = sms_split
    features = feature_pipeline(2**12)
    exact = DPLogistic()._classifier().fit(features.fit_transform(list(train.texts)), train.labels)
    reference = float(np.mean(exact.predict(features.transform(list(test.texts))) == test.labels))
    means = []
    for epsilon in (0.5, 5.0, 200.0):
        accuracy = [
            np.mean(
                DPLogistic(epsilon=epsilon).fit(train, "logreg", random_state=s).predict(test.texts)
                == test.labels
            )
            for s in (0, 1, 2)
        ]
        means.append(float(np.mean(accuracy)))
    gaps = [reference - m for m in means]
    assert gaps[0] > gaps[1] > gaps[2] > -0.005


def test_only_logistic_victim(small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match="'victim' parameter of DPLogistic must be 'logreg'"):
        DPLogistic().fit(small_dataset, "nb")


def test_every_class_must_occur() -> None:
    with pytest.raises(DataError, match="every class; none of class 'ham'"):
        DPLogistic().fit(Dataset(["a b", "c d"], [1, 1], ("ham", "spam")), "logreg")
    with pytest.raises(DataError, match="none of class 'c'"):
        DPLogistic().fit(Dataset(["a b", "c d"], [0, 1], ("a", "b", "c")), "logreg")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": math.nan}, "epsilon"),
        ({"delta": 0}, "delta"),
        ({"delta": 1.0}, "delta"),
        ({"C": 0}, "C"),
        ({"C": math.inf}, "C"),
        ({"n_features": 2**21}, "n_features"),
    ],
)
def test_bad_parameters(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParameterError, match=f"The '{field}' parameter of DPLogistic must be"):
        DPLogistic(**params)  # type: ignore[arg-type]
