"""`DPNaiveBayes`: Naive Bayes trained on noisy class-feature counts, epsilon-differentially private."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_positive_int, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses._privacy import (
    PRIVACY_UNIT,
    Query,
    RandomState,
    check_epsilon,
    check_fraction,
    check_n_features,
    check_positive_float,
    check_victim,
    release_laplace,
)
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VICTIMS, VictimLike


@dataclasses.dataclass(frozen=True)
class ClippedMessages:
    """The training set as the counts see it: one binary hashed row per message, labels, classes.

    Each row has at most `max_tokens` ones, which is what bounds one message's contribution.
    """

    matrix: Any  # scipy.sparse CSR, shape (n_messages, n_features), values 0/1
    labels: npt.NDArray[np.int64]
    n_classes: int


def hashing_vectorizer(n_features: int) -> Any:
    """The data-independent feature map: hashed word presence (no vocabulary learnt from data).

    A vocabulary learnt from the training set would itself reveal which words occur in it.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(n_features=n_features, alternate_sign=False, binary=True, norm=None)


def clip_messages(dataset: Dataset, *, max_tokens: int, n_features: int) -> tuple[ClippedMessages, int]:
    """Each message's first `max_tokens` distinct tokens, hashed to 0/1 features; and how many were cut.

    Examples
    --------
    >>> ds = Dataset(["a bb cc bb dd ee", "bb"], [0, 1], ("ham", "spam"))
    >>> clipped, n_cut = clip_messages(ds, max_tokens=2, n_features=1024)
    >>> clipped.matrix.sum(axis=1).A1.tolist(), n_cut
    ([2, 1], 1)
    """
    vectorizer = hashing_vectorizer(n_features)
    analyze = vectorizer.build_analyzer()
    kept: list[str] = []
    n_cut = 0
    for text in dataset.texts:
        distinct = list(dict.fromkeys(analyze(text)))
        n_cut += len(distinct) > max_tokens
        # Tokens are runs of word characters, so joining them by spaces re-tokenizes to the same.
        kept.append(" ".join(distinct[:max_tokens]))
    matrix = vectorizer.transform(kept).tocsr().astype(np.int64)
    return ClippedMessages(matrix, np.asarray(dataset.labels, dtype=np.int64), len(dataset.classes)), n_cut


def class_counts(data: ClippedMessages) -> npt.NDArray[np.int64]:
    """Messages per class; one message moves this by 1 in L1."""
    return np.bincount(data.labels, minlength=data.n_classes).astype(np.int64)


def class_feature_counts(data: ClippedMessages) -> npt.NDArray[np.int64]:
    """Per class and feature, the messages of that class having the feature; flat, class-major.

    One message moves this by at most its number of ones (<= ``max_tokens``) in L1, all within
    its own class's row.
    """
    import scipy.sparse as sp

    n = data.labels.size
    membership = sp.csr_matrix(
        (np.ones(n, dtype=np.int64), (data.labels, np.arange(n))), shape=(data.n_classes, n)
    )
    counts = (membership @ data.matrix.astype(np.int64)).toarray()
    return np.asarray(counts, dtype=np.int64).ravel()


@DEFENSES.register("dp_naive_bayes")
@dataclasses.dataclass(frozen=True, kw_only=True)
class DPNaiveBayes(Defense):
    """Epsilon-differentially private Naive Bayes from noisy class-feature counts.

    Naive Bayes is a table of counts, so it is made private by adding noise to the counts
    (Vaidya, Shafiq, Basu & Hong 2013). What is protected: any one training message, its
    presence or absence (add/remove neighbouring), text and label together. The released
    model is ``epsilon``-differentially private for that unit: for any two training sets
    differing in one message, every set of models is at most ``exp(epsilon)`` times as likely
    under one as under the other. By group privacy, ``r`` poison messages shift those odds by
    at most ``exp(r * epsilon)``: the bound on what poisoning can do to this model.

    How, step by step:

    1. Features are hashed word presence (`n_features` buckets, no vocabulary learnt from the
       data, which would leak which words occur).
    2. Bounded contribution: a message counts its first `max_tokens` distinct tokens, once
       each, so it adds at most `max_tokens` to the class-feature counts (L1 sensitivity
       `max_tokens`) and 1 to the class counts (sensitivity 1).
    3. OpenDP adds discrete Laplace (geometric) noise to both tables, calibrated to
       ``(1 - prior_share) * epsilon`` and ``prior_share * epsilon``; OpenDP's composition
       accounts the total, reported as ``info["epsilon"]`` (at most `epsilon`). The class
       prior is therefore noisy too, not public.
    4. Post-processing, free of privacy cost: negative noisy counts become 0, the victim's
       Naive Bayes (``nb`` or ``cnb``, smoothing `alpha`) is fitted to the noisy table, and
       class priors are the noisy class counts (each at least 1), normalized.

    ``info`` holds the parameters and the privacy accounting only: no exact statistic of the
    training data (not even how many messages were clipped), so publishing it costs nothing.

    Predictions use every token of an incoming message: the clipping bounds what training
    messages contribute, not what the model reads. With ``random_state=None`` OpenDP draws
    the noise (a private release); with a seed, NumPy draws the same distribution so that
    runs repeat, which protects no one who knows the seed (``info["noise_source"]``).

    Parameters
    ----------
    epsilon : float
        Total privacy budget, in (0, 1000]. Smaller is more private and noisier.
    max_tokens : int
        Distinct tokens a training message contributes at most (its L1 sensitivity).
    n_features : int
        Hash buckets, in [2, 2**20].
    prior_share : float
        Share of `epsilon` spent on the class counts, in (0, 1).
    alpha : float
        Additive smoothing of the Naive Bayes, > 0.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> defended = DPNaiveBayes(epsilon=1.0).fit(load_dataset("article"), "nb", random_state=0)
    >>> defended.info["epsilon"] <= 1.0, defended.info["neighbouring"]
    (True, 'add/remove one message (its text and label)')
    >>> defended.predict(["win a free prize", "lunch tomorrow?"]).shape
    (2,)
    """

    name: ClassVar[str] = "dp_naive_bayes"
    paper: ClassVar[str] = (
        "Vaidya, Shafiq, Basu & Hong (2013), Differentially Private Naive Bayes Classification, "
        "IEEE/WIC/ACM WI-IAT; noise and composition: OpenDP (Gaboardi et al. 2020)."
    )
    supported_victims: ClassVar[tuple[str, ...]] = ("nb", "cnb")

    epsilon: float = 1.0
    max_tokens: int = 20
    n_features: int = 2**12
    prior_share: float = 0.05
    alpha: float = 1.0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_epsilon("DPNaiveBayes", self.epsilon)
        check_positive_int("DPNaiveBayes", "max_tokens", self.max_tokens)
        check_n_features("DPNaiveBayes", self.n_features)
        check_fraction("DPNaiveBayes", "prior_share", self.prior_share)
        check_positive_float("DPNaiveBayes", "alpha", self.alpha)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default budget, a tight one with short messages, and a loose one."""
        return [
            cls(),
            cls(epsilon=0.5, max_tokens=10, n_features=2**10),
            cls(epsilon=8.0, prior_share=0.2, alpha=0.5),
        ]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: RandomState = 0) -> Defended:
        """Release noisy counts of `dataset` and fit the victim's Naive Bayes to them.

        `random_state` None lets OpenDP draw the noise (private, not repeatable); a seed
        repeats the run (see the class notes).
        """
        from sklearn.pipeline import Pipeline

        name = check_victim(
            "DPNaiveBayes", victim, self.supported_victims, "a Naive Bayes is what noisy counts make"
        )
        if len(dataset) == 0:
            raise DataError("DPNaiveBayes needs at least one training message.")
        data, _ = clip_messages(dataset, max_tokens=self.max_tokens, n_features=self.n_features)
        prior_epsilon = self.prior_share * self.epsilon
        counts_epsilon = self.epsilon - prior_epsilon
        release = release_laplace(
            [Query(class_counts, 1), Query(class_feature_counts, self.max_tokens)],
            [prior_epsilon, counts_epsilon],
            data,
            random_state,
        )
        noisy_classes, noisy_counts = release.values
        n_classes = len(dataset.classes)
        table = np.maximum(noisy_counts.reshape(n_classes, self.n_features), 0).astype(np.float64)
        prior = np.maximum(noisy_classes, 1).astype(np.float64)
        classifier = VICTIMS.get(name)(None)
        classifier.set_params(alpha=self.alpha, class_prior=(prior / prior.sum()).tolist())
        classifier.fit(table, np.arange(n_classes))
        model = Pipeline([("vectorizer", hashing_vectorizer(self.n_features)), ("classifier", classifier)])
        return Defended(
            model=model,
            defense=self.name,
            params=self.get_params(),
            info={
                "epsilon": release.epsilon,
                "delta": release.delta,
                "epsilon_class_counts": prior_epsilon,
                "epsilon_feature_counts": counts_epsilon,
                "noise_scale_class_counts": release.scales[0],
                "noise_scale_feature_counts": release.scales[1],
                "sensitivity_feature_counts": self.max_tokens,
                "neighbouring": "add/remove one message (its text and label)",
                "privacy_unit": PRIVACY_UNIT,
                "noise_source": release.noise_source,
                "victim": name,
            },
        )
