"""`DPLogistic`: L2-regularised logistic regression with Gaussian output perturbation."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses._privacy import (
    PRIVACY_UNIT,
    Query,
    RandomState,
    check_epsilon,
    check_n_features,
    check_positive_float,
    check_victim,
    release_gaussian,
)
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimLike


def unit_rows_with_bias(matrix: Any) -> Any:
    """Append a constant column of ones, then scale every row to L2 norm 1.

    The constant column stands in for the intercept, so it is regularised like every other
    weight (an unregularised intercept would break the sensitivity bound); unit rows give
    the bound its ``||x|| <= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(unit_rows_with_bias(np.array([[3.0, 0.0], [0.0, 0.0]])).toarray(), 3).tolist()
    [[0.949, 0.0, 0.316], [0.0, 0.0, 1.0]]
    """
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    rows = sp.csr_matrix(matrix, dtype=np.float64)
    ones = sp.csr_matrix(np.ones((rows.shape[0], 1)))
    return normalize(sp.hstack([rows, ones], format="csr"), norm="l2")


def feature_pipeline(n_features: int) -> Any:
    """Texts -> unit-norm hashed word presence plus a constant: data-independent, no vocabulary."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    return Pipeline(
        [
            (
                "vectorizer",
                HashingVectorizer(n_features=n_features, alternate_sign=False, binary=True, norm="l2"),
            ),
            ("unit_rows", FunctionTransformer(unit_rows_with_bias, accept_sparse=True)),
        ]
    )


@dataclasses.dataclass(frozen=True)
class _Rows:
    """OpenDP's view of the training set: unit-norm feature rows and labels."""

    matrix: Any
    labels: npt.NDArray[np.int64]


def sensitivity(C: float, n_classes: int) -> float:
    """How far (L2) one added or removed message can move the exact weights.

    scikit-learn's objective divided by C, ``sum(loss) + ||w||^2 / (2 C)``, is
    ``1/C``-strongly convex, and one message's loss has a gradient of norm at most 1 (binary)
    or ``sqrt(2)`` (softmax over more classes: ``||p - e_y|| * ||x||``) for unit rows; Chaudhuri
    et al. (2011), Lemma 7, then bounds the move by ``C`` times that gradient norm.

    Examples
    --------
    >>> sensitivity(0.5, 2), round(sensitivity(0.5, 3), 4)
    (0.5, 0.7071)
    """
    return C if n_classes == 2 else C * math.sqrt(2.0)


@DEFENSES.register("dp_logistic")
@dataclasses.dataclass(frozen=True, kw_only=True)
class DPLogistic(Defense):
    """(epsilon, delta)-differentially private logistic regression by output perturbation.

    Output perturbation (Chaudhuri, Monteleoni & Sarwate 2011, Algorithm 1) with Gaussian noise
    instead of their norm-Laplace: fit scikit-learn's L2-regularised logistic regression
    exactly, then add noise to the weights. What is protected: any one training message, its
    presence or absence (add/remove neighbouring), text and label together. The released
    weights are (`epsilon`, `delta`)-differentially private for that unit; by group privacy,
    ``r`` poison messages move them at most as an ``(r * epsilon, r * exp((r - 1) * epsilon) *
    delta)`` mechanism would.

    The guarantee rests on these assumptions, each enforced here:

    - features are data-independent (hashed word presence, no learnt vocabulary) and every
      row, a constant column included in place of an intercept, has L2 norm 1;
    - every class occurs in the training set (checked), so the model's shape is public;
    - the loss is convex, differentiable and 1-Lipschitz in the margin (the logistic loss);
    - the objective ``sum(loss) + ||w||^2 / (2 C)`` (scikit-learn's, divided by ``C``) is
      ``1/C``-strongly convex (L2 penalty, no unpenalised intercept), so one message moves the
      exact minimiser by at most ``C`` in L2 (``sqrt(2) * C`` with more than two classes);
    - the minimiser is exact: Newton-CG runs to a gradient tolerance of 1e-10, so what is left
      is far below the noise (the one assumption met numerically rather than exactly).

    OpenDP adds the Gaussian noise, calibrated in zero-concentrated DP and converted to
    (`epsilon`, `delta`), reported in ``info``. With ``random_state=None`` OpenDP draws the
    noise (a private release); with a seed, NumPy draws the same distribution so that runs
    repeat, which protects no one who knows the seed (``info["noise_source"]``).

    Each message's score moves by noise of standard deviation ``info["noise_scale"]`` (the rows
    have norm 1), whatever `n_features` is; a larger `C` fits better and adds more noise.

    Parameters
    ----------
    epsilon : float
        Privacy budget, in (0, 1000]. Smaller is more private and noisier.
    delta : float
        Probability the epsilon bound may fail, in (0, 1); keep it well below 1 / n.
    C : float
        Inverse regularisation strength, > 0, as in scikit-learn; the noise scales with it.
    n_features : int
        Hash buckets, in [2, 2**20].

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> defended = DPLogistic(epsilon=2.0).fit(load_dataset("article"), "logreg", random_state=0)
    >>> defended.info["epsilon"] <= 2.0, defended.info["delta"] <= 1e-6
    (True, True)
    >>> defended.predict_proba(["win a free prize"]).shape
    (1, 2)
    """

    name: ClassVar[str] = "dp_logistic"
    paper: ClassVar[str] = (
        "Chaudhuri, Monteleoni & Sarwate (2011), Differentially Private Empirical Risk "
        "Minimization, JMLR 12; Gaussian noise and zCDP accounting: OpenDP (Bun & Steinke 2016)."
    )
    supported_victims: ClassVar[tuple[str, ...]] = ("logreg",)

    epsilon: float = 5.0
    delta: float = 1e-6
    C: float = 1.0
    n_features: int = 2**12

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_epsilon("DPLogistic", self.epsilon)
        delta = self.delta
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
            raise fail("DPLogistic", "delta", "a float in (0, 1)", delta)
        check_positive_float("DPLogistic", "C", self.C)
        check_n_features("DPLogistic", self.n_features)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default, a strict budget with strong regularisation, and a loose one."""
        return [
            cls(),
            cls(epsilon=1.0, delta=1e-5, C=0.3, n_features=2**10),
            cls(epsilon=20.0, C=2.0),
        ]

    def _classifier(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, fit_intercept=False, solver="newton-cg", tol=1e-10, max_iter=1000)

    def _exact_weights(self, rows: _Rows) -> npt.NDArray[np.float64]:
        """The exact minimiser's weights, flattened (class-major)."""
        fitted = self._classifier().fit(rows.matrix, rows.labels)
        return np.asarray(fitted.coef_, dtype=np.float64).ravel()

    def fit(
        self, dataset: Dataset, victim: VictimLike = "logreg", *, random_state: RandomState = 0
    ) -> Defended:
        """Fit the exact model on `dataset`, then release its weights with OpenDP noise.

        `random_state` None lets OpenDP draw the noise (private, not repeatable); a seed
        repeats the run (see the class notes).
        """
        name = check_victim(
            "DPLogistic", victim, self.supported_victims, "output perturbation needs a logistic loss"
        )
        labels = np.asarray(dataset.labels, dtype=np.int64)
        n_classes = len(dataset.classes)
        missing = sorted(set(range(n_classes)) - set(np.unique(labels).tolist()))
        if missing:
            # The model's shape must not depend on the data, so every class must occur.
            names = ", ".join(repr(dataset.classes[c]) for c in missing)
            raise DataError(f"DPLogistic needs training messages of every class; none of class {names}.")
        features = feature_pipeline(self.n_features)
        rows = _Rows(features.fit_transform(list(dataset.texts)), labels)
        n_rows = 1 if n_classes == 2 else n_classes
        move = sensitivity(self.C, n_classes)
        release = release_gaussian(
            Query(self._exact_weights, move), self.epsilon, self.delta, rows, random_state
        )
        classifier = self._classifier()
        classifier.classes_ = np.arange(n_classes)
        classifier.coef_ = release.values[0].reshape(n_rows, -1)
        classifier.intercept_ = np.zeros(n_rows)
        classifier.n_features_in_ = classifier.coef_.shape[1]
        from sklearn.pipeline import Pipeline

        model = Pipeline([*features.steps, ("classifier", classifier)])
        return Defended(
            model=model,
            defense=self.name,
            params=self.get_params(),
            info={
                "epsilon": release.epsilon,
                "delta": release.delta,
                "noise_scale": release.scales[0],
                "sensitivity": move,
                "mechanism": "output perturbation, Gaussian noise (zCDP converted to (epsilon, delta))",
                "neighbouring": "add/remove one message (its text and label)",
                "privacy_unit": PRIVACY_UNIT,
                "noise_source": release.noise_source,
                "victim": name,
            },
        )
