"""The OpenDP glue: noise scales match OpenDP's accounting, seeded noise matches OpenDP's law."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from poisonlab import ParameterError
from poisonlab.defenses._privacy import (
    OPENDP,
    SEEDED,
    Query,
    check_epsilon,
    check_fraction,
    check_n_features,
    check_victim,
    discrete_laplace,
    opendp,
    release_gaussian,
    release_laplace,
    unit_scale,
)


def zeros(size: int) -> Query:
    return Query(lambda data: np.zeros(size, dtype=np.int64), 1)


def test_laplace_scale_is_sensitivity_over_epsilon_and_opendp_agrees() -> None:
    dp = opendp()
    for epsilon in (0.1, 1.0, 3.7):
        scale = unit_scale("laplace", epsilon)
        assert scale == pytest.approx(1 / epsilon, rel=1e-9)
        for sensitivity in (1, 20):
            # An independently built OpenDP measurement on a plain int vector, at that sensitivity.
            check = dp.m.make_laplace(
                dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=sensitivity * scale
            )
            assert check.map(sensitivity) <= epsilon
            tighter = dp.m.make_laplace(
                dp.vector_domain(dp.atom_domain(T=int)),
                dp.l1_distance(T=int),
                scale=sensitivity * scale * (1 - 1e-6),
            )
            assert tighter.map(sensitivity) > epsilon, "the scale is the smallest that meets the budget"


def test_gaussian_scale_is_the_smallest_meeting_epsilon_delta() -> None:
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float)

    def privacy(scale: float, sensitivity: float, delta: float) -> float:
        concentrated = dp.m.make_gaussian(*space, scale=scale)
        return float(dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(concentrated), delta).map(sensitivity)[0])

    for epsilon, delta in ((1.0, 1e-6), (5.0, 1e-5)):
        scale = unit_scale("gaussian", epsilon, delta)
        for sensitivity in (1.0, 0.3):
            assert privacy(sensitivity * scale, sensitivity, delta) <= epsilon * (1 + 1e-9)
            assert privacy(sensitivity * scale * (1 - 1e-4), sensitivity, delta) > epsilon
        # The classic analytic bound sqrt(2 ln(1.25/delta)) / epsilon is looser than zCDP's.
        assert scale < math.sqrt(2 * math.log(1.25 / delta)) / epsilon


def test_release_laplace_composes_budgets() -> None:
    queries = [zeros(3), Query(lambda data: np.arange(5, dtype=np.int64), 4)]
    release = release_laplace(queries, [0.2, 0.8], None, 0)
    assert release.epsilon == pytest.approx(1.0)
    assert release.delta == 0.0
    assert release.scales == pytest.approx((1 / 0.2, 4 / 0.8))
    assert release.noise_source == SEEDED
    assert [v.shape for v in release.values] == [(3,), (5,)]
    again = release_laplace(queries, [0.2, 0.8], None, 0)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(release.values, again.values))
    other = release_laplace(queries, [0.2, 0.8], None, 1)
    assert any(a.tobytes() != b.tobytes() for a, b in zip(release.values, other.values))
    from_generator = release_laplace(queries, [0.2, 0.8], None, np.random.default_rng(0))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(release.values, from_generator.values))


def _discrete_laplace_moments(scale: float) -> tuple[float, float]:
    """Variance and P(0) of the law P(k) ~ exp(-|k| / scale)."""
    q = math.exp(-1 / scale)
    return 2 * q / (1 - q) ** 2, (1 - q) / (1 + q)


@pytest.mark.parametrize("source", [SEEDED, OPENDP], ids=["seeded", "opendp"])
def test_laplace_noise_follows_the_discrete_laplace_law(source: str) -> None:
    """Seeded NumPy noise and OpenDP's own draws both match the law the accounting assumes."""
    n, scale = 40_000, 3.0
    release = release_laplace([zeros(n)], [1 / scale], None, None if source == OPENDP else 7)
    assert release.noise_source == source
    noise = release.values[0]
    assert noise.dtype == np.int64
    variance, p_zero = _discrete_laplace_moments(scale)
    # Six standard errors: a false alarm has odds below one in a hundred million.
    kurtosis = 6.0
    assert abs(noise.var() - variance) < 6 * variance * math.sqrt((kurtosis - 1) / n)
    assert abs(np.mean(noise == 0) - p_zero) < 6 * math.sqrt(p_zero * (1 - p_zero) / n)
    assert abs(noise.mean()) < 6 * math.sqrt(variance / n)


@pytest.mark.parametrize("source", [SEEDED, OPENDP], ids=["seeded", "opendp"])
def test_gaussian_noise_has_the_calibrated_scale(source: str) -> None:
    n = 5_000
    query = Query(lambda data: np.zeros(n), 0.5)
    release = release_gaussian(query, 2.0, 1e-6, None, None if source == OPENDP else 3)
    assert release.noise_source == source
    assert release.epsilon <= 2.0 and release.delta <= 1e-6
    (scale,) = release.scales
    assert scale == pytest.approx(0.5 * unit_scale("gaussian", 2.0, 1e-6))
    noise = release.values[0]
    assert abs(noise.std() / scale - 1) < 6 * math.sqrt(1 / (2 * n))
    assert abs(noise.mean()) < 6 * scale / math.sqrt(n)


def test_discrete_laplace_is_symmetric_integers() -> None:
    draws = discrete_laplace(np.random.default_rng(0), 2.0, 10_000)
    assert draws.dtype == np.int64
    assert abs(np.mean(draws > 0) - np.mean(draws < 0)) < 0.03


def test_parameter_checks() -> None:
    check_epsilon("X", 1000)
    for bad in (0, -1.0, 1000.5, math.inf, math.nan, "1", True, None):
        with pytest.raises(ParameterError, match=r"'epsilon' parameter of X must be a float in \(0, 1000\]"):
            check_epsilon("X", bad)
    for bad in (0, 1, 1.5, math.nan, "0.5"):
        with pytest.raises(ParameterError, match="must be a float in"):
            check_fraction("X", "share", bad)
    for bad in (1, 2**21, 4.0, True):
        with pytest.raises(ParameterError, match="n_features"):
            check_n_features("X", bad)
    assert check_victim("X", "nb", ("nb", "cnb"), "why") == "nb"
    with pytest.raises(ParameterError, match=re.escape("must be 'nb' or 'cnb' (why). Got 'svm' instead.")):
        check_victim("X", "svm", ("nb", "cnb"), "why")
    with pytest.raises(ParameterError, match="Got 'object' instead"):
        check_victim("X", object(), ("nb",), "why")
