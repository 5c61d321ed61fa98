"""`DuplicateFlood`: many near-identical rows sharing a label, a cheap way to inject poison.

Near-duplicates are found by MinHash with locality-sensitive banding (Broder 1997; Leskovec,
Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3) over character 5-gram shingles, then
confirmed by their exact Jaccard similarity: time and memory grow with the rows, never with
rows squared. The MinHash itself is a few vectorised NumPy lines over scikit-learn's hashed
shingle matrix (the MinHash library, datasketch, builds one Python object per row).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS

IntArray = npt.NDArray[np.int64]
_PRIME = (1 << 31) - 1  # a Mersenne prime: hashes (a * x + b) mod p of 22-bit shingle ids fit int64
_SHINGLE_BITS = 22


@dataclasses.dataclass(frozen=True)
class Flood:
    """Rows that are near-identical to each other and share a label.

    Attributes
    ----------
    rows : ndarray of int
        Positions of the rows, in order.
    label : int
        Their shared class index.
    other_labels : int
        Near-identical rows in the same cluster that carry another label.
    """

    rows: IntArray
    label: int
    other_labels: int

    @property
    def size(self) -> int:
        """Number of rows in the flood."""
        return int(self.rows.size)


def shingles(texts: Any, size: int = 5) -> Any:
    """A binary sparse matrix: row i marks the character `size`-grams of text i (case folded).

    Examples
    --------
    >>> m = shingles(["hello there", "hello there!", "bye"])
    >>> m.shape[0], bool(m[0].sum() > 0)
    (3, True)
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(size, size),
        n_features=1 << _SHINGLE_BITS,
        alternate_sign=False,
        norm=None,
        binary=True,
        dtype=np.float32,
    )
    return vectorizer.transform(list(texts)).tocsr()


def minhash(matrix: Any, n_permutations: int, random_state: int) -> IntArray:
    """MinHash signatures, one row per row of a binary sparse `matrix`.

    Column j is hashed by ``(a * j + b) mod p`` per permutation; a row with no shingles gets
    ``p`` everywhere, so empty texts match each other only.
    """
    rng = np.random.default_rng(random_state)
    a = rng.integers(1, _PRIME, size=n_permutations, dtype=np.int64)
    b = rng.integers(0, _PRIME, size=n_permutations, dtype=np.int64)
    n = matrix.shape[0]
    signature = np.full((n, n_permutations), _PRIME, dtype=np.int64)
    nonempty = np.flatnonzero(np.diff(matrix.indptr) > 0)
    if nonempty.size == 0:
        return signature
    columns = matrix.indices.astype(np.int64)
    starts = matrix.indptr[nonempty]
    for k in range(n_permutations):
        hashed = (a[k] * columns + b[k]) % _PRIME
        signature[nonempty, k] = np.minimum.reduceat(hashed, starts)
    return signature


def near_duplicate_clusters(
    texts: Any, *, threshold: float, n_permutations: int, bands: int, random_state: int
) -> IntArray:
    """A cluster id per text: texts linked by exact shingle Jaccard >= `threshold` share one.

    Candidate pairs come from LSH banding of the MinHash signatures (each band's texts with an
    equal band are linked to that band's first text); each candidate is then checked exactly.

    Examples
    --------
    >>> near_duplicate_clusters(
    ...     ["win a prize now", "win a prize now!", "lunch?"], threshold=0.6, n_permutations=32,
    ...     bands=16, random_state=0
    ... ).tolist()
    [0, 0, 1]
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    matrix = shingles(texts)
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    signature = minhash(matrix, n_permutations, random_state).astype(np.uint64)
    width = n_permutations // bands
    pairs: list[IntArray] = []
    for band in range(bands):
        block = signature[:, band * width : (band + 1) * width]
        key = np.zeros(n, dtype=np.uint64)
        for column in block.T:  # a polynomial hash of the band, wrapping mod 2**64
            key = key * np.uint64(1_000_003) + column
        _, group = np.unique(key, return_inverse=True)
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        leader = order[np.flatnonzero(first)[np.cumsum(first) - 1]]
        linked = leader != order
        if linked.any():
            pairs.append(np.column_stack([leader[linked], order[linked]]).astype(np.int64))
    if not pairs:
        return np.arange(n, dtype=np.int64)
    candidate = np.unique(np.sort(np.concatenate(pairs), axis=1), axis=0)
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    left, right = candidate[:, 0], candidate[:, 1]
    shared = np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()
    union = sizes[left] + sizes[right] - shared
    jaccard = np.divide(shared, union, out=np.ones_like(shared), where=union > 0)
    keep = jaccard >= threshold
    graph = sp.coo_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(n, n))
    _, cluster = connected_components(graph, directed=False)
    return np.asarray(cluster, dtype=np.int64)


@DETECTORS.register("duplicate_flood")
@dataclasses.dataclass(frozen=True, kw_only=True)
class DuplicateFlood(Detector):
    """Near-duplicate floods: clusters of near-identical rows that share a label.

    Rows are linked when the Jaccard similarity of their character 5-gram sets (case folded)
    is at least `threshold`, found by MinHash LSH and confirmed exactly; a flood is a linked
    cluster's rows of one label, at least `min_size` of them. A row's score is the number of
    other rows near-identical to it (through the cluster) that share its label.

    Parameters
    ----------
    threshold : float
        Least Jaccard similarity of two near-identical rows, in (0, 1].
    min_size : int
        Fewest rows of one label in a cluster to call it a flood (at least 2).
    n_permutations : int
        MinHash permutations; a multiple of `bands`.
    bands : int
        LSH bands: more bands find less similar candidates (then checked exactly).
    random_state : int
        Seeds the MinHash permutations.

    Examples
    --------
    >>> from poisonlab.data import Dataset
    >>> texts = ["PROMO2026 limited offer"] * 6 + ["see you at lunch", "running late", "ok"]
    >>> data = Dataset(texts, [0] * 9, ("ham", "spam"))
    >>> [flood.size for flood in DuplicateFlood().floods(data)]
    [6]
    >>> DuplicateFlood().score(data).tolist()
    [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 0.0, 0.0, 0.0]
    """

    name: ClassVar[str] = "duplicate_flood"
    paper: ClassVar[str] = (
        "Broder (1997), On the Resemblance and Containment of Documents; Leskovec, Rajaraman & "
        "Ullman, Mining of Massive Datasets, ch. 3 (MinHash and LSH)."
    )
    targets: ClassVar[tuple[str, ...]] = ("backdoor",)

    threshold: float = 0.8
    min_size: int = 5
    n_permutations: int = 64
    bands: int = 16
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        if (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, (int, float))
            or not 0.0 < self.threshold <= 1.0
        ):
            raise fail("DuplicateFlood", "threshold", "a float in (0, 1]", self.threshold)
        check_positive_int("DuplicateFlood", "min_size", self.min_size)
        if self.min_size < 2:
            raise fail("DuplicateFlood", "min_size", "an int >= 2", self.min_size)
        check_positive_int("DuplicateFlood", "n_permutations", self.n_permutations)
        check_positive_int("DuplicateFlood", "bands", self.bands)
        if self.n_permutations % self.bands:
            raise fail(
                "DuplicateFlood", "bands", f"a divisor of n_permutations ({self.n_permutations})", self.bands
            )
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("DuplicateFlood", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, a looser similarity with more bands, and exact-ish duplicates only."""
        return [
            cls(),
            cls(threshold=0.6, n_permutations=96, bands=32, min_size=3, random_state=1),
            cls(threshold=1.0, min_size=2),
        ]

    def clusters(self, dataset: Dataset) -> IntArray:
        """A near-duplicate cluster id per row."""
        return near_duplicate_clusters(
            dataset.texts,
            threshold=float(self.threshold),
            n_permutations=self.n_permutations,
            bands=self.bands,
            random_state=self.random_state,
        )

    def score(self, dataset: Dataset) -> FloatArray:
        """Other rows near-identical to each row (through its cluster) that share its label."""
        return self.findings(dataset).scores

    def floods(self, dataset: Dataset) -> list[Flood]:
        """The floods, largest first (ties by first row)."""
        return _floods(self.clusters(dataset), dataset.labels, self.min_size)

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, the rows in floods, and each flood's size and example text."""
        cluster = self.clusters(dataset)
        labels = dataset.labels
        n_classes = len(dataset.classes)
        group = cluster * n_classes + labels
        _, inverse, counts = np.unique(group, return_inverse=True, return_counts=True)
        scores = check_scores((counts[inverse] - 1).astype(np.float64), dataset)
        reasons = [""] * len(dataset)
        flags = np.zeros(len(dataset), dtype=bool)
        for flood in _floods(cluster, labels, self.min_size):
            example = dataset.texts[int(flood.rows[0])]
            shown = example if len(example) <= 60 else example[:57] + "..."
            mixed = (
                f"; {flood.other_labels} near-identical rows carry other labels" if flood.other_labels else ""
            )
            text = (
                f"one of {flood.size} near-identical rows labelled "
                f"{dataset.classes[flood.label]!r}, e.g. {shown!r}{mixed}"
            )
            flags[flood.rows] = True
            for row in flood.rows.tolist():
                reasons[row] = text
        return Findings(scores, flags, tuple(reasons))


def _floods(cluster: IntArray, labels: npt.NDArray[np.int64], min_size: int) -> list[Flood]:
    n_classes = int(labels.max()) + 1 if labels.size else 1
    group = cluster * n_classes + labels
    values, counts = np.unique(group, return_counts=True)
    cluster_size = np.bincount(cluster) if cluster.size else np.zeros(0, dtype=np.int64)
    found = []
    for value in values[counts >= min_size].tolist():
        rows = np.flatnonzero(group == value).astype(np.int64)
        label = int(labels[rows[0]])
        found.append(Flood(rows, label, int(cluster_size[cluster[rows[0]]] - rows.size)))
    found.sort(key=lambda flood: (-flood.size, int(flood.rows[0])))
    return found


__all__ = ["DuplicateFlood", "Flood", "minhash", "near_duplicate_clusters", "shingles"]
