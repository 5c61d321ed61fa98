"""OpenDP glue for the differential-privacy defenses: the privacy unit, calibration and release.

Every release here is an OpenDP measurement whose input is the whole training set, with the
privacy unit *one message (text and label) added or removed*. A defense states how far one
message can move its exact statistic (its sensitivity); that stability claim is ours, given to
OpenDP as a user transformation (hence OpenDP's ``honest-but-curious`` feature). The noise, the
calibration of its scale to a privacy budget, and the composition of several releases are
OpenDP's.

Where the noise comes from depends on `random_state`:

- ``None``: OpenDP's own samplers draw it (a cryptographically secure generator). This is the
  private release; it cannot be repeated, by design.
- an int or a NumPy Generator: NumPy draws noise of the same distribution and the same scale,
  from that seed, so experiments repeat byte for byte. Whoever knows the seed knows the noise,
  so a seeded run measures what the private model would do; it does not protect anyone.
  OpenDP exposes no seeded sampler, hence this path.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import PoisonlabError
from poisonlab._params import fail

PRIVACY_UNIT = "one message (its text and label) added to or removed from the training set"
SEEDED = "numpy, seeded (reproducible; no privacy against whoever knows the seed)"
OPENDP = "opendp (cryptographically secure sampler)"

RandomState = int | np.random.Generator | None


def opendp() -> Any:
    """The ``opendp.prelude`` module with the features these defenses use turned on."""
    try:
        import opendp.prelude as dp
    except ImportError:
        raise PoisonlabError(
            "The differential-privacy defenses need OpenDP: pip install 'poisonlab[dp]'."
        ) from None
    dp.enable_features("contrib", "honest-but-curious")
    return dp


@dataclasses.dataclass(frozen=True)
class Query:
    """An exact statistic of the training data and how far one message can move it.

    Attributes
    ----------
    function : callable
        Training data -> a flat array (ints for Laplace noise, floats for Gaussian noise).
    sensitivity : float
        The most one added or removed message changes the output: in L1 distance for Laplace
        noise (an int), in L2 distance for Gaussian noise.
    """

    function: Callable[[Any], npt.NDArray[Any]]
    sensitivity: float


@dataclasses.dataclass(frozen=True)
class Release:
    """Noisy values, the noise scales used, and the privacy loss OpenDP accounts for them.

    `epsilon` (and `delta`, 0 for pure differential privacy) is the measurement's privacy map
    evaluated at one message: the guarantee of releasing all `values` together.
    """

    values: tuple[npt.NDArray[Any], ...]
    scales: tuple[float, ...]
    epsilon: float
    delta: float
    noise_source: str


def _message_space(dp: Any) -> tuple[Any, Any]:
    """OpenDP's input domain and metric: a training set, at symmetric distance in messages."""
    domain = dp.user_domain("poisonlab.TrainingMessages", member=lambda _: True)
    metric = dp.user_distance("poisonlab.SymmetricDistance(messages added or removed)")
    return domain, metric


def _stable(dp: Any, query: Query, output_domain: Any, output_metric: Any, cast: type) -> Any:
    domain, metric = _message_space(dp)
    return dp.t.make_user_transformation(
        domain,
        metric,
        output_domain,
        output_metric,
        function=lambda data: query.function(data).tolist(),
        stability_map=lambda d_in: cast(d_in * query.sensitivity),
    )


def laplace_measurement(dp: Any, query: Query, scale: float) -> Any:
    """Discrete Laplace (geometric) noise on an int vector: pure differential privacy."""
    transformation = _stable(dp, query, dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), int)
    return transformation >> dp.m.then_laplace(scale)


def gaussian_measurement(dp: Any, query: Query, scale: float, delta: float) -> Any:
    """Gaussian noise on a float vector, accounted in zCDP and converted to (epsilon, delta)."""
    transformation = _stable(
        dp,
        query,
        dp.vector_domain(dp.atom_domain(T=float, nan=False)),
        dp.l2_distance(T=float),
        float,
    )
    concentrated = transformation >> dp.m.then_gaussian(scale)
    return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(concentrated), delta)


def _generator(random_state: RandomState) -> np.random.Generator | None:
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def discrete_laplace(rng: np.random.Generator, scale: float, size: int) -> npt.NDArray[np.int64]:
    """Draws with ``P(k) ~ exp(-|k| / scale)`` on the integers: OpenDP's Laplace on ints, seeded.

    The difference of two independent geometric counts has exactly this law.
    """
    p = -np.expm1(-1.0 / scale)  # 1 - exp(-1 / scale), accurate for large scales
    return (rng.geometric(p, size) - rng.geometric(p, size)).astype(np.int64)


@functools.lru_cache(maxsize=256)
def unit_scale(kind: str, epsilon: float, delta: float = 0.0) -> float:
    """The smallest noise scale, found by OpenDP's binary search, meeting the budget at sensitivity 1.

    Both mechanisms are scale-invariant (sensitivity ``s`` with scale ``s * x`` is private
    exactly as sensitivity 1 with scale ``x``), so one search serves every sensitivity.
    """
    dp = opendp()
    if kind == "laplace":
        space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
        return float(
            dp.binary_search_param(lambda s: dp.m.make_laplace(*space, scale=s), d_in=1.0, d_out=epsilon)
        )
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float)

    def gaussian(s: float) -> Any:
        concentrated = dp.m.make_gaussian(*space, scale=s)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(concentrated), delta)

    return float(dp.binary_search_param(gaussian, d_in=1.0, d_out=(epsilon, delta)))


def _within(build: Callable[[float], Any], scale: float, fits: Callable[[Any], bool]) -> tuple[float, Any]:
    """`scale`, nudged up by float ulps until the measurement it builds `fits` its budget."""
    for _ in range(64):
        measurement = build(scale)
        if fits(measurement.map(1)):
            return scale, measurement
        scale = float(np.nextafter(scale, np.inf)) * (1 + 1e-12)
    raise RuntimeError("could not calibrate the noise scale to the privacy budget")  # a bug, not input


def release_laplace(
    queries: Sequence[Query], epsilons: Sequence[float], data: Any, random_state: RandomState
) -> Release:
    """Release int `queries` of `data`, each with budget `epsilons[i]`, under one composition.

    Each noise scale is ``sensitivity * unit_scale`` (OpenDP's binary search), checked against
    that query's budget with the query's own privacy map at one message; OpenDP's basic
    composition of all of them gives the total `epsilon` of the release (pure differential
    privacy, ``delta = 0``).
    """
    dp = opendp()
    scales: list[float] = []
    measurements = []
    for query, epsilon in zip(queries, epsilons):
        scale, measurement = _within(
            lambda s, q=query: laplace_measurement(dp, q, s),  # type: ignore[misc]
            query.sensitivity * unit_scale("laplace", float(epsilon)),
            lambda spent, e=epsilon: spent <= e,  # type: ignore[misc]
        )
        scales.append(scale)
        measurements.append(measurement)
    composed = dp.c.make_composition(measurements)
    spent = float(composed.map(1))
    rng = _generator(random_state)
    values: list[npt.NDArray[Any]]
    if rng is None:
        values = [np.asarray(v, dtype=np.int64) for v in composed(data)]
        source = OPENDP
    else:
        values = []
        for query, scale in zip(queries, scales):
            exact = np.asarray(query.function(data), dtype=np.int64)
            values.append(exact + discrete_laplace(rng, scale, exact.size))
        source = SEEDED
    return Release(tuple(values), tuple(scales), spent, 0.0, source)


def release_gaussian(
    query: Query, epsilon: float, delta: float, data: Any, random_state: RandomState
) -> Release:
    """Release a float `query` of `data` with Gaussian noise meeting (`epsilon`, `delta`).

    The scale is ``sensitivity * unit_scale`` (OpenDP's binary search), checked with the
    query's own privacy map at one message; `epsilon` and `delta` in the result are that map.
    """
    dp = opendp()
    scale, measurement = _within(
        lambda s: gaussian_measurement(dp, query, s, delta),
        query.sensitivity * unit_scale("gaussian", float(epsilon), float(delta)),
        lambda spent: spent[0] <= epsilon and spent[1] <= delta,
    )
    spent_epsilon, spent_delta = measurement.map(1)
    rng = _generator(random_state)
    if rng is None:
        noisy = np.asarray(measurement(data), dtype=np.float64)
        source = OPENDP
    else:
        exact = np.asarray(query.function(data), dtype=np.float64)
        noisy = exact + rng.normal(0.0, scale, exact.size)
        source = SEEDED
    return Release((noisy,), (scale,), float(spent_epsilon), float(spent_delta), source)


# --- parameter checks shared by the differential-privacy defenses ------------------------------

MAX_FEATURES = 2**20
MAX_EPSILON = 1000.0
"""Beyond this a budget promises nothing, and OpenDP's Gaussian calibration overflows near 1e5."""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_epsilon(owner: str, value: object) -> None:
    """Raise unless `value` is a number in (0, `MAX_EPSILON`]."""
    if not (_is_number(value) and 0 < value <= MAX_EPSILON):  # type: ignore[operator]
        raise fail(owner, "epsilon", f"a float in (0, {MAX_EPSILON:g}]", value)


def check_positive_float(owner: str, name: str, value: object) -> None:
    """Raise unless `value` is a finite number > 0."""
    if not (_is_number(value) and value > 0):  # type: ignore[operator]
        raise fail(owner, name, "a finite float > 0", value)


def check_fraction(owner: str, name: str, value: object) -> None:
    """Raise unless `value` is a number in (0, 1)."""
    if not (_is_number(value) and 0 < value < 1):  # type: ignore[operator]
        raise fail(owner, name, "a float in (0, 1)", value)


def check_n_features(owner: str, value: object) -> None:
    """Raise unless `value` is an int in [2, 2**20]."""
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= MAX_FEATURES:
        raise fail(owner, "n_features", f"an int in [2, {MAX_FEATURES}]", value)


def check_victim(owner: str, victim: object, supported: tuple[str, ...], why: str) -> str:
    """`victim` as one of the `supported` names, or a clear error saying why only those work."""
    if isinstance(victim, str) and victim in supported:
        return victim
    shown = victim if isinstance(victim, str) else type(victim).__name__
    listed = " or ".join(repr(s) for s in supported)
    raise fail(owner, "victim", f"{listed} ({why})", shown)
