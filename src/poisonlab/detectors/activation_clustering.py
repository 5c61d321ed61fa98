"""`ActivationClustering`: poison as a small, separate cluster inside its labelled class."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_choice, check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.representation import (
    REPRESENTATIONS,
    Rows,
    principal_projections,
    represent,
    total_variance,
)
from poisonlab.victims.factory import VICTIMS


def small_cluster_scores(
    rows: Rows,
    *,
    weights: npt.ArrayLike | None = None,
    n_components: int = 2,
    random_state: int | None = 0,
) -> FloatArray:
    """Two-means on the rows' top principal components; how firmly each row sits in the smaller cluster.

    A row's score is ``(1 - s) * (d_large - d_small) / max(d_large, d_small)``, with ``s`` the
    smaller cluster's share of the rows and ``d`` the distances to the two centroids: positive
    inside the smaller cluster, negative outside, largest for a tight, small cluster. Each row
    counts `weights` times (default once) in the principal components (`principal_projections`),
    in k-means (``sample_weight``: the same objective as the repeated rows; its random
    initialisation draws differ from a run on repeated rows) and in the cluster sizes. At most
    one component fewer than the distinct rows is kept (the centred rows have no more). Fewer
    than three rows, or all rows alike: zeros.

    Examples
    --------
    >>> rows = np.array([[0.0, 0.1], [0.1, 0.0], [0.0, 0.0], [0.1, 0.1], [5.0, 5.0], [5.1, 5.0]])
    >>> (small_cluster_scores(rows) > 0).tolist()
    [False, False, False, False, True, True]
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    n, d = rows.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    k = min(n_components, n - 1, d - 1)
    if total < 3 or k < 1 or total_variance(rows, w) <= 0:
        return np.zeros(n)
    reduced = principal_projections(rows, k, weights=w, random_state=random_state)
    if not np.any(reduced.std(axis=0) > 0):
        return np.zeros(n)
    # One thread: on a few dimensions OpenMP threads only add start-up cost, and on a busy machine
    # their spin-waiting made a 0.2 s fit take 15 s.
    with threadpool_limits(limits=1):
        kmeans = KMeans(n_clusters=2, n_init=10, random_state=random_state).fit(reduced, sample_weight=w)
    sizes = np.bincount(kmeans.labels_, weights=w, minlength=2)
    small = int(sizes.argmin())
    distances = kmeans.transform(reduced)
    to_small, to_large = distances[:, small], distances[:, 1 - small]
    reach = np.maximum(np.maximum(to_small, to_large), np.finfo(np.float64).tiny)
    margin = (to_large - to_small) / reach
    return np.asarray((1.0 - sizes[small] / total) * margin, dtype=np.float64)


@DETECTORS.register("activation_clustering")
@dataclasses.dataclass(frozen=True, kw_only=True)
class ActivationClustering(Detector):
    """Activation clustering (Chen et al. 2018): each class split in two; poison is the small part.

    Within each class, the rows are reduced to their top `n_components` principal components
    and split by 2-means; a row scores high when it sits firmly in the smaller cluster of its
    class, and higher the smaller that cluster is (see `small_cluster_scores`). The paper
    reduces a network's last hidden layer with ICA to 10 dimensions; a linear text victim has
    no hidden layer, so the rows are its per-word contributions (the ``weighted``
    representation). On SMS with a 1 % backdoor, 1, 2, 3 or 10 principal components give
    about the same AUROC; two is the cheapest. It isolates a rare-token trigger's rows; rows
    whose trigger is made of common words do not form a cluster of their own, and spectral
    signatures or trigger mining find them better (``bench/detect_quality.py``).

    Rows repeating a (text, label) pair are represented and clustered once, weighted by their
    count (`poisonlab.detectors.representation.DistinctRows`): the victim fit, the principal
    components and the k-means objective are those of the repeated rows (only k-means' random
    initialisation draws differ), and the time grows with the distinct pairs. The
    representation is shared with the other detectors run on the same dataset object
    (`poisonlab.detectors.representation.represent`).

    Parameters
    ----------
    representation : {"weighted", "counts", "tfidf_svd"}
        The space the rows are clustered in (see `poisonlab.detectors.representation`).
    victim : str
        The registered victim whose weights scale the ``weighted`` representation.
    n_components : int
        Principal components kept per class before clustering.
    svd_components : int
        Dimensions of the ``tfidf_svd`` representation.
    random_state : int
        Seeds the victim, the decompositions and k-means.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_dataset
    >>> from poisonlab.metrics import auroc
    >>> attacked = Backdoor(trigger="PROMO2026", rate=0.01).apply(load_dataset("sms_spam"), random_state=0)
    >>> scores = ActivationClustering().score(attacked.poisoned)
    >>> bool(auroc(attacked.is_poison, scores) > 0.95)
    True
    """

    name: ClassVar[str] = "activation_clustering"
    paper: ClassVar[str] = (
        "Chen, Carvalho, Baracaldo, Ludwig, Edwards, Lee, Molloy & Srivastava (2018), Detecting "
        "Backdoor Attacks on Deep Neural Networks by Activation Clustering, arXiv:1811.03728."
    )
    targets: ClassVar[tuple[str, ...]] = ("backdoor",)

    representation: str = "weighted"
    victim: str = "logreg"
    n_components: int = 2
    svd_components: int = 100
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_choice("ActivationClustering", "representation", self.representation, REPRESENTATIONS)
        check_choice("ActivationClustering", "victim", self.victim, VICTIMS.names())
        check_positive_int("ActivationClustering", "n_components", self.n_components)
        check_positive_int("ActivationClustering", "svd_components", self.svd_components)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("ActivationClustering", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, the paper's ten dimensions, and each baseline representation."""
        return [
            cls(),
            cls(n_components=10, victim="svm", random_state=1),
            cls(representation="counts"),
            cls(representation="tfidf_svd", svd_components=20, n_components=3),
        ]

    def score(self, dataset: Dataset) -> FloatArray:
        """Per row, how firmly it sits in the smaller 2-means cluster of its class (in [-1, 1])."""
        represented = represent(
            dataset,
            self.representation,
            victim=self.victim,
            svd_components=self.svd_components,
            random_state=self.random_state,
        )
        scores = represented.scores_within_classes(
            lambda rows, weights: small_cluster_scores(
                rows, weights=weights, n_components=self.n_components, random_state=self.random_state
            )
        )
        return check_scores(scores, dataset)


__all__ = ["ActivationClustering", "small_cluster_scores"]
