"""`KnnLabelDisagreement`: a row whose nearest neighbours carry another label (Paudice et al. 2018).

The work is done once per distinct text: rows that share a text share their neighbours, so
the neighbour search runs over the distinct texts (weighted by how many rows carry each) and
each row's vote is assembled from its own duplicates and its text's neighbours. Below
`exact_below` distinct texts the search is exact (blockwise brute force, time ~ texts
squared); at or above it, approximate (cells of similar texts, time ~ texts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._params import check_choice, check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.word_counts import WordCounts, word_counts

IntArray = npt.NDArray[np.int64]

WEIGHTS = ("uniform", "distance")

TEXTS_PER_CELL = 128
"""Distinct texts per cell of the approximate search's partitions, about."""
SEARCH_PAIRS = 32_000_000
"""Pairs of texts the approximate search compares, about, with automatic `partitions`:
``SEARCH_PAIRS / (texts * TEXTS_PER_CELL)`` partitions, at least 1 and at most
`MOST_PARTITIONS`, so a smaller dataset is searched more thoroughly."""
MOST_PARTITIONS = 8
"""Most partitions the automatic choice makes."""
BRANCHING = 64
"""Most clusters one k-means of the approximate search's partition makes."""
FREQUENT_WORDS = 128
"""Words whose part of the cosine the approximate search computes as a dense product."""
_KMEANS_ITERATIONS = 5
_LEAF_LIMIT = 4  # a cluster of more than this many times the cell size is split again
_KMEANS_SAMPLE = 16  # rows per cluster the k-means are fitted on, at most
_BLOCK_ENTRIES = 1 << 22  # similarities held at once by the exact search (32 MB of float64)
_TEXTS_PER_PRODUCT = 1 << 15  # texts whose cells' rare-word products are computed at once


@DETECTORS.register("knn_labels")
@dataclasses.dataclass(frozen=True, kw_only=True)
class KnnLabelDisagreement(Detector):
    """kNN label disagreement (Paudice, Muñoz-González & Lupu 2018, label sanitization).

    Each row is compared with its `n_neighbors` nearest other rows by cosine similarity of
    TF-IDF vectors (sublinear term frequency, inverse document frequency counted over all
    rows: ``TfidfVectorizer(sublinear_tf=True)`` fitted on the dataset). The neighbours vote
    for their labels, weighted by similarity (``distance``) or equally (``uniform``),
    smoothed by one pseudo-vote spread over the classes by their share of the data (a row
    sharing no word with any other, weighed by similarity, keeps only that pseudo-vote).
    With `balanced`, each class's vote is divided by that class's share of the data, so a
    small class (spam after a targeted flip) is not outvoted merely for being small.

    Who the `k` neighbours of a row are is defined over distinct texts, so that it does not
    depend on the order of the rows or on how ties fall: first the other rows with the same
    text (similarity 1; if there are more than `k`, each counts ``k / their number``), then
    the other texts from the most similar down, all rows of a text at once, until `k` rows
    are taken; the texts exactly as similar as the one that reaches `k` share the rows still
    missing in proportion to their rows (texts sharing no word with the row are all equally
    dissimilar and share what is missing after the similar ones).

    The score is ``log(best other class's vote) - log(own label's vote)``; a row is flagged
    when it is positive: its neighbourhood prefers another label, as in Paudice et al.'s
    relabelling rule (with `balanced` off and two classes, exactly their majority rule).

    With `exact_below` or more distinct texts the search is approximate, an inverted-file
    search (Jégou, Douze & Schmid 2011) over cells of similar texts: hierarchical spherical
    k-means on the TF-IDF vectors (`text_cells`) cuts the texts into cells of about 128, and
    a text's neighbours are the most similar texts of its cells, by their true cosine
    similarity, in `partitions` independently seeded partitions (by default more for fewer
    texts: about the same work from 30,000 to 170,000 texts, then growing linearly).
    Neighbours across a cell's border are missed, most among diverse short texts without
    near-duplicates; how often, and how much that changes the flags, ``bench/knn_scale.py``
    measures against the exact search. The same data and seed give the same scores.

    Parameters
    ----------
    n_neighbors : int
        Neighbours per row (fewer on a dataset with fewer rows).
    weights : {"uniform", "distance"}
        ``distance`` weighs each neighbour by its cosine similarity.
    balanced : bool
        Divide each class's vote by the class's share of the rows.
    exact_below : int
        Distinct texts below which the neighbour search is exact (its time grows with their
        square); at or above it the search is approximate.
    partitions : int or None
        Partitions the approximate search looks in: more find more true neighbours, and
        take proportionally longer. None: as many as about 32 million compared pairs of
        texts allow, from 8 (up to ~33,000 distinct texts) down to 1 (from ~167,000).
    random_state : int
        Seed of the approximate search's k-means (unused by the exact search).

    Examples
    --------
    Ten of 71 spam messages among 500 relabelled ham; how many of them are flagged, of how many:

    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_dataset
    >>> attacked = LabelFlip(strategy="targeted", n=10).apply(
    ...     load_dataset("sms_spam").take(range(500)), random_state=0
    ... )
    >>> flags = KnnLabelDisagreement().flag(attacked.poisoned)
    >>> int((flags & attacked.is_poison).sum()), int(flags.sum())
    (9, 42)
    """

    name: ClassVar[str] = "knn_labels"
    paper: ClassVar[str] = (
        "Paudice, Muñoz-González & Lupu (2018), Label Sanitization against Label Flipping "
        "Poisoning Attacks, ECML PKDD workshops (LNCS 11329)."
    )
    targets: ClassVar[tuple[str, ...]] = ("label_flip",)

    n_neighbors: int = 20
    weights: str = "distance"
    balanced: bool = True
    exact_below: int = 6_000
    partitions: int | None = None
    random_state: int = 0

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_positive_int("KnnLabelDisagreement", "n_neighbors", self.n_neighbors)
        check_choice("KnnLabelDisagreement", "weights", self.weights, WEIGHTS)
        check_choice("KnnLabelDisagreement", "balanced", self.balanced, (True, False))
        if (
            isinstance(self.exact_below, bool)
            or not isinstance(self.exact_below, int)
            or self.exact_below < 0
        ):
            raise fail("KnnLabelDisagreement", "exact_below", "an int >= 0", self.exact_below)
        if self.partitions is not None:
            check_positive_int("KnnLabelDisagreement", "partitions", self.partitions)
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise fail("KnnLabelDisagreement", "random_state", "an int", self.random_state)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, Paudice et al.'s plain majority vote, a small uniform neighbourhood, and
        the approximate search."""
        return [
            cls(),
            cls(n_neighbors=10, balanced=False),
            cls(n_neighbors=5, weights="uniform"),
            cls(exact_below=0, partitions=2, random_state=1),
        ]

    def votes(self, dataset: Dataset) -> FloatArray:
        """Per row and class, the smoothed (and, with `balanced`, class-balanced) neighbour vote."""
        n, n_classes = len(dataset), len(dataset.classes)
        labels = dataset.labels
        share = np.bincount(labels, minlength=n_classes) / max(n, 1)
        if n < 2:  # no neighbours: the vote is the prior alone
            return np.tile(np.ones(n_classes) if self.balanced else share, (n, 1))
        counts = word_counts(dataset)
        if counts.n_words == 0:
            raise DataError("kNN label disagreement needs texts with words; no text here has one.")
        k = min(self.n_neighbors, n - 1)
        label_counts = text_label_counts(dataset)
        tally, weight = neighbour_tallies(
            counts,
            label_counts,
            k,
            weighted=self.weights == "distance",
            exact=counts.n_distinct < self.exact_below,
            partitions=self.partitions,
            random_state=self.random_state,
        )
        return row_votes(dataset, label_counts, tally, weight, k, balanced=self.balanced)

    def score(self, dataset: Dataset) -> FloatArray:
        """Log ratio of the best other class's vote to the own label's vote."""
        return check_scores(vote_margin(self.votes(dataset), dataset.labels), dataset)

    def flag(self, dataset: Dataset) -> npt.NDArray[np.bool_]:
        """Rows whose neighbourhood prefers another label."""
        return self.score(dataset) > 0.0

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, flags, and the preferred label and neighbour shares of each flagged row."""
        vote = self.votes(dataset)
        scores = check_scores(vote_margin(vote, dataset.labels), dataset)
        flags = scores > 0.0
        share = np.bincount(dataset.labels, minlength=len(dataset.classes)) / max(len(dataset), 1)
        raw = vote * share if self.balanced else vote
        rows = np.arange(len(dataset))
        other = vote.copy()
        other[rows, dataset.labels] = -np.inf
        best = other.argmax(axis=1)
        k = min(self.n_neighbors, max(len(dataset) - 1, 1))
        reasons: list[str] = []
        for flagged, label, guess, mix in zip(flags.tolist(), dataset.labels.tolist(), best, raw):
            if not flagged:
                reasons.append("")
                continue
            reasons.append(
                f"labelled {dataset.classes[label]!r} but its {k} nearest neighbours vote "
                f"{mix[guess]:.0%} {dataset.classes[guess]!r} (that class is {share[guess]:.0%} of rows)"
            )
        return Findings(scores, flags, tuple(reasons))


def text_label_counts(dataset: Dataset) -> FloatArray:
    """Rows per distinct text (in `word_counts` order) and label, shape (n_distinct, n_classes)."""
    counts = word_counts(dataset)
    n_classes = len(dataset.classes)
    flat = np.bincount(
        counts.text_of_row * n_classes + dataset.labels, minlength=counts.n_distinct * n_classes
    )
    return flat.reshape(counts.n_distinct, n_classes).astype(np.float64)


def row_votes(
    dataset: Dataset,
    label_counts: FloatArray,
    tally: FloatArray,
    weight: FloatArray,
    k: int,
    *,
    balanced: bool,
) -> FloatArray:
    """Per row and class, the smoothed vote of its `k` neighbours: its own duplicates first
    (similarity 1, weight 1), then its text's `neighbour_tallies`."""
    counts = word_counts(dataset)
    n, labels = len(dataset), dataset.labels
    share = np.bincount(labels, minlength=len(dataset.classes)) / max(n, 1)
    text = counts.text_of_row
    others = counts.multiplicity[text] - 1
    taken = np.minimum(others, k)
    part = taken / np.maximum(others, 1)
    own = label_counts[text]
    own[np.arange(n), labels] -= 1.0
    votes = part[:, None] * own + tally[text]
    total = taken + weight[text]
    # a row sharing no word with any other has no similar neighbour: its vote is the prior alone
    votes = np.divide(votes, total[:, None], out=np.zeros_like(votes), where=total[:, None] > 0)
    vote = (k * votes + share) / (k + 1)
    return np.asarray(vote / share.clip(1e-12) if balanced else vote, dtype=np.float64)


def tfidf_vectors(counts: WordCounts) -> Any:
    """TF-IDF vectors of the distinct texts, L2-normalised (CSR, float64, one row per text).

    Equal to the rows of ``TfidfVectorizer(sublinear_tf=True).fit_transform(dataset.texts)``:
    the document frequency of a word counts the rows that carry it, not the distinct texts.
    (`WordCounts.tfidf` with sublinear term frequency.)

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> texts = ["win cash", "win", "win", "see you at lunch"]
    >>> counts = word_counts(Dataset(texts, [1, 1, 1, 0], ("ham", "spam")))
    >>> counts.n_distinct, tfidf_vectors(counts).shape
    (3, (3, 6))
    >>> rows = tfidf_vectors(counts)[counts.text_of_row]
    >>> float(abs(rows - TfidfVectorizer(sublinear_tf=True).fit_transform(texts)).max()) < 1e-15
    True
    """
    return counts.tfidf(sublinear=True)


def neighbour_tallies(
    counts: WordCounts,
    label_counts: FloatArray,
    k: int,
    *,
    weighted: bool,
    exact: bool,
    partitions: int | None = None,
    random_state: int = 0,
    texts: IntArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Each distinct text's neighbours among the other texts: their weighted label counts and weight.

    A text whose rows find `k` neighbours among their own duplicates takes none from other
    texts (zeros). Otherwise the rows still missing, ``k - (its rows - 1)``, are taken from
    the other texts in the order and with the tie rule of `KnnLabelDisagreement`; each
    taken row adds its weight (its text's cosine similarity with ``weighted``, else 1) to
    the tally of its label and to the total weight. `exact` chooses the search;
    `partitions` and `random_state` are the approximate search's. With `texts`, only those
    distinct texts are looked at (the others get zeros).

    Returns
    -------
    tally : ndarray of float, shape (n_distinct, n_classes)
    weight : ndarray of float, shape (n_distinct,)
    """
    multiplicity = counts.multiplicity
    missing = k - (multiplicity - 1)
    if texts is not None:
        missing = np.where(np.isin(np.arange(counts.n_distinct), texts), missing, 0)
    queries = np.flatnonzero(missing > 0)
    tally = np.zeros_like(label_counts)
    weight = np.zeros(counts.n_distinct)
    if queries.size == 0:
        return tally, weight
    from threadpoolctl import threadpool_limits

    vectors = tfidf_vectors(counts)
    # one BLAS thread: sums come out the same to the last bit however many threads the caller has
    with threadpool_limits(limits=1):
        if exact:
            found = _exact_tallies(vectors, multiplicity, label_counts, queries, missing[queries], weighted)
        else:
            found = _approximate_tallies(
                vectors,
                multiplicity,
                label_counts,
                queries,
                missing[queries],
                weighted,
                partitions,
                random_state,
            )
    tally[queries], weight[queries] = found
    return tally, weight


def _exact_tallies(
    vectors: Any,
    multiplicity: IntArray,
    label_counts: FloatArray,
    queries: IntArray,
    missing: IntArray,
    weighted: bool,
) -> tuple[FloatArray, FloatArray]:
    """Tallies from every other text, by blocks of queries (brute force: time ~ texts squared)."""
    n_texts = vectors.shape[0]
    transposed = vectors.T.tocsr()
    rows = multiplicity.astype(np.float64)
    per_text = np.column_stack([label_counts, rows])
    tally = np.zeros((queries.size, label_counts.shape[1]))
    weight = np.zeros(queries.size)
    step = max(1, _BLOCK_ENTRIES // n_texts)
    for start in range(0, queries.size, step):
        block = slice(start, start + step)
        texts, want = queries[block], missing[block]
        similarity = (vectors[texts] @ transposed).toarray()
        similarity[np.arange(texts.size), texts] = -np.inf  # the text itself is not its own neighbour
        cutoff = _cutoff(similarity, np.broadcast_to(rows, similarity.shape), want)
        above = similarity > cutoff[:, None]
        strength = np.clip(similarity, 0.0, 1.0) * above if weighted else above.astype(np.float64)
        above_rows = (above @ rows) if weighted else None
        tied = (similarity == cutoff[:, None]).astype(np.float64)
        tally[block], weight[block] = _share(
            strength @ per_text, above_rows, tied @ per_text, want, cutoff, weighted
        )
    return tally, weight


def _cutoff(similarity: FloatArray, rows: FloatArray, want: IntArray) -> FloatArray:
    """Per query, the similarity at which the rows taken, most similar text first, reach `want`.

    `rows` holds each entry's rows (0 for no text); -inf where all entries together fall short.
    As the `want` most similar texts hold at least `want` rows, only those are sorted.
    """
    depth = min(int(want.max()), similarity.shape[1])
    if depth < similarity.shape[1]:
        best = np.argpartition(-similarity, depth - 1, axis=1)[:, :depth]
    else:
        best = np.broadcast_to(np.arange(depth), similarity.shape)
    ranked = np.take_along_axis(similarity, best, axis=1)
    order = np.argsort(-ranked, axis=1)
    ranked = np.take_along_axis(ranked, order, axis=1)
    taken = np.cumsum(np.take_along_axis(rows, np.take_along_axis(best, order, axis=1), axis=1), axis=1)
    reached = taken >= want[:, None]
    cutoff = ranked[np.arange(want.size), reached.argmax(axis=1)]
    return np.where(reached[:, -1], cutoff, -np.inf)


def _share(
    above: FloatArray,
    above_rows: FloatArray | None,
    tied: FloatArray,
    want: IntArray,
    cutoff: FloatArray,
    weighted: bool,
) -> tuple[FloatArray, FloatArray]:
    """Tally and weight: all rows of the texts above the cutoff, and the rows still missing
    shared by the texts tied at it in proportion to their rows.

    `above` and `tied` hold per query the label counts and the rows (last column) of those
    texts, `above` weighted by similarity when `weighted` (then `above_rows` gives their
    unweighted rows).
    """
    taken = above[:, -1] if above_rows is None else above_rows
    part = np.clip(want - taken, 0.0, None) / np.maximum(tied[:, -1], 1.0)
    if weighted:
        part *= np.clip(np.where(np.isfinite(cutoff), cutoff, 0.0), 0.0, 1.0)
    return above[:, :-1] + part[:, None] * tied[:, :-1], above[:, -1] + part * tied[:, -1]


def _approximate_tallies(
    vectors: Any,
    multiplicity: IntArray,
    label_counts: FloatArray,
    queries: IntArray,
    missing: IntArray,
    weighted: bool,
    partitions: int | None,
    random_state: int,
) -> tuple[FloatArray, FloatArray]:
    """Tallies from each text's candidate neighbours (see `candidate_neighbours`): the exact
    search's rule applied to the candidates."""
    candidates, similarity = candidate_neighbours(
        vectors, queries, int(missing.max()), partitions=partitions, random_state=random_state
    )
    # a text sharing no word is no candidate: the rows still missing then come from all of
    # those at once, as in the exact rule (below)
    found = (candidates >= 0) & (similarity > 0)
    texts = np.where(found, candidates, 0)
    rows = np.where(found, multiplicity[texts], 0).astype(np.float64)
    similarity = np.where(found, similarity, -np.inf)
    cutoff = _cutoff(similarity, rows, missing)
    above = similarity > cutoff[:, None]
    tied = found & (similarity == cutoff[:, None])
    strength = np.clip(similarity, 0.0, 1.0) * above if weighted else above.astype(np.float64)
    per_text = np.column_stack([label_counts, multiplicity.astype(np.float64)])
    columns = range(per_text.shape[1])
    taken = np.column_stack([(strength * per_text[texts, c] * found).sum(axis=1) for c in columns])
    sharing = np.column_stack([(tied * per_text[texts, c]).sum(axis=1) for c in columns])
    above_rows = (above * rows).sum(axis=1) if weighted else None
    tally, weight = _share(taken, above_rows, sharing, missing, cutoff, weighted)
    short = np.flatnonzero(~np.isfinite(cutoff))
    if short.size and not weighted:
        # too few candidates: the rows still missing come from all texts not found, shared in
        # proportion to their rows (with no weight when weighted)
        unseen = per_text.sum(axis=0) - per_text[queries[short]] - taken[short]
        still = missing[short] - rows[short].sum(axis=1)
        share = still / np.maximum(unseen[:, -1], 1.0)
        tally[short] += share[:, None] * unseen[:, :-1]
        weight[short] += share * unseen[:, -1]
    return tally, weight


def automatic_partitions(n_texts: int) -> int:
    """Partitions the approximate search makes for `n_texts` texts when not told: about
    `SEARCH_PAIRS` pairs compared, at least 1 and at most `MOST_PARTITIONS`.

    Examples
    --------
    >>> automatic_partitions(450_000), automatic_partitions(85_000), automatic_partitions(30_000)
    (1, 3, 8)
    """
    return int(min(MOST_PARTITIONS, max(1, round(SEARCH_PAIRS / (max(n_texts, 1) * TEXTS_PER_CELL)))))


def candidate_neighbours(
    vectors: Any,
    queries: IntArray,
    n_candidates: int,
    *,
    partitions: int | None = None,
    random_state: int = 0,
) -> tuple[IntArray, FloatArray]:
    """Approximate nearest texts of each query text: the most similar texts of its cells.

    The cells come from `text_cells`, once per partition (each seeded apart); each query
    text is compared with every text of its cell (of the parent cluster for a cell too
    small to hold the neighbours) by the cosine of their TF-IDF vectors: the part of the
    `FREQUENT_WORDS` words in most texts as one dense product in single precision (BLAS),
    the rest sparse. The best `n_candidates` found over all partitions are kept.

    Parameters
    ----------
    vectors : sparse matrix, shape (n_texts, n_words)
        L2-normalised rows.
    queries : ndarray of int
        Rows of `vectors` whose neighbours are wanted.
    n_candidates : int
        Neighbours wanted per query (the query itself is never one).
    partitions : int or None
        Independent partitions to look in; None: `automatic_partitions`.
    random_state : int
        Seed of the k-means.

    Returns
    -------
    candidates : ndarray of int, shape (n_queries, n_candidates)
        Texts, -1 where a query's cells hold too few.
    similarity : ndarray of float, shape (n_queries, n_candidates)
        Their cosine similarity with the query (-inf where no text).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn.preprocessing import normalize
    >>> vectors = normalize(sp.random(1_000, 300, density=0.03, random_state=0, format="csr"))
    >>> found, similarity = candidate_neighbours(vectors, np.arange(1_000), 5, random_state=0)
    >>> found.shape, bool((found != np.arange(1_000)[:, None]).all())
    ((1000, 5), True)
    """
    from threadpoolctl import threadpool_limits

    slot = np.full(vectors.shape[0], -1, dtype=np.int64)
    slot[queries] = np.arange(queries.size)
    candidates = np.full((queries.size, n_candidates), -1, dtype=np.int64)
    similarity = np.full((queries.size, n_candidates), -np.inf)
    # many small products: one thread each is fastest, and steady on a shared machine
    with threadpool_limits(limits=1):
        if partitions is None:
            partitions = automatic_partitions(vectors.shape[0])
        for partition in range(partitions):
            seed = random_state if partition == 0 else (random_state, partition)
            order, ranges = text_cells(vectors, random_state=seed)
            frequent, rare = _split_frequent_words(vectors[order])
            found = _search_cells(frequent, rare, order, ranges, slot[order], n_candidates)
            del frequent, rare
            candidates, similarity = _best_of(candidates, similarity, *found) if partition else found
    return candidates, similarity


def _search_cells(
    frequent: npt.NDArray[np.float32],
    rare: Any,
    order: IntArray,
    ranges: IntArray,
    slot: IntArray,
    n_candidates: int,
) -> tuple[IntArray, FloatArray]:
    """The best `n_candidates` of each query text's cell; rows of `frequent`, `rare` and
    `slot` (the query's output row, -1 for no query) are in cell `order`."""
    n_queries = int(slot.max()) + 1
    candidates = np.full((n_queries, n_candidates), -1, dtype=np.int64)
    similarity = np.full((n_queries, n_candidates), -np.inf)
    for start, stop, first, last, shared in _rare_products(rare, ranges):
        take = min(n_candidates, last - first - 1)
        asking = np.flatnonzero(slot[start:stop] >= 0)
        if asking.size == 0 or take <= 0:
            continue
        block = frequent[start:stop] @ frequent[first:last].T
        block.ravel()[shared[0]] += shared[1]
        np.negative(block, out=block)
        block[np.arange(stop - start), np.arange(start - first, stop - first)] = np.inf  # not itself
        block = block[asking] if asking.size < stop - start else block
        best = np.argpartition(block, take - 1, axis=1)[:, :take]
        candidates[slot[start + asking], :take] = order[first + best]
        similarity[slot[start + asking], :take] = -np.take_along_axis(block, best, axis=1)
    return candidates, similarity


def _best_of(
    candidates: IntArray, similarity: FloatArray, more: IntArray, more_similarity: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Per row, the most similar of both candidate lists, each text once."""
    width = candidates.shape[1]
    both = np.concatenate([candidates, more], axis=1)
    both_similarity = np.concatenate([similarity, more_similarity], axis=1)
    order = np.argsort(both, axis=1, kind="stable")
    both = np.take_along_axis(both, order, axis=1)
    both_similarity = np.take_along_axis(both_similarity, order, axis=1)
    again = np.zeros(both.shape, dtype=bool)
    again[:, 1:] = (both[:, 1:] == both[:, :-1]) & (both[:, 1:] >= 0)
    both[again] = -1
    both_similarity[again] = -np.inf
    best = np.argsort(-both_similarity, axis=1, kind="stable")[:, :width]
    return np.take_along_axis(both, best, axis=1), np.take_along_axis(both_similarity, best, axis=1)


def _rare_products(
    rare: Any, ranges: IntArray
) -> Iterator[tuple[int, int, int, int, tuple[IntArray, FloatArray]]]:
    """Per cell: its range, its searched range and, as positions in the flattened block and
    values, the nonzero products of their sparse (rare-word) parts.

    The cells searched within themselves are multiplied many at once: a word's column is
    made distinct per cell, so one sparse product holds every cell's block and nothing
    between cells (one call instead of thousands).
    """
    import scipy.sparse as sp

    n_words = rare.shape[1]
    sizes = ranges[:, 1] - ranges[:, 0]
    cell_of_position = np.repeat(np.arange(len(ranges)), sizes)
    batch_start = 0
    while batch_start < len(ranges):
        lo = int(ranges[batch_start, 0])
        batch_stop = int(np.searchsorted(ranges[:, 0], lo + _TEXTS_PER_PRODUCT, side="right"))
        batch_stop = max(batch_stop, batch_start + 1)
        hi = int(ranges[batch_stop - 1, 1])
        part = rare[lo:hi]
        tag = np.repeat(cell_of_position[lo:hi] - batch_start, np.diff(part.indptr)) * n_words
        tagged = sp.csr_matrix(
            (part.data, tag + part.indices, part.indptr),
            shape=(hi - lo, (batch_stop - batch_start) * n_words),
        )
        together = tagged @ tagged.T
        for start, stop, first, last in ranges[batch_start:batch_stop].tolist():
            if (first, last) == (start, stop):
                begin, end = together.indptr[start - lo], together.indptr[stop - lo]
                columns = together.indices[begin:end] - (start - lo)
                row_of = np.repeat(
                    np.arange(stop - start), np.diff(together.indptr[start - lo : stop - lo + 1])
                )
                yield start, stop, first, last, (row_of * (stop - start) + columns, together.data[begin:end])
            else:  # a small cell searched in its parent cluster
                product = rare[start:stop] @ rare[first:last].T
                row_of = np.repeat(np.arange(stop - start), np.diff(product.indptr))
                yield start, stop, first, last, (row_of * (last - first) + product.indices, product.data)
        batch_start = batch_stop


def _split_frequent_words(vectors: Any) -> tuple[npt.NDArray[np.float32], Any]:
    """The columns of the `FREQUENT_WORDS` words in most texts (dense, single precision) and
    the rest (sparse): their products add up to the cosine, the frequent part fast as BLAS."""
    in_texts = np.bincount(vectors.indices, minlength=vectors.shape[1])
    ranked = np.argsort(-in_texts, kind="stable")
    chosen, rest = np.sort(ranked[:FREQUENT_WORDS]), np.sort(ranked[FREQUENT_WORDS:])
    columns = vectors[:, chosen]
    dense = np.zeros((vectors.shape[0], chosen.size), dtype=np.float32)
    at = np.repeat(np.arange(vectors.shape[0]) * chosen.size, np.diff(columns.indptr))
    at += columns.indices
    dense.ravel()[at] = columns.data
    return dense, vectors[:, rest]


def text_cells(
    vectors: Any, *, texts_per_cell: int = TEXTS_PER_CELL, random_state: int | tuple[int, int] = 0
) -> tuple[IntArray, IntArray]:
    """Partition texts into cells of about `texts_per_cell` similar texts by hierarchical
    spherical k-means (Dhillon & Modha 2001) on their TF-IDF vectors.

    A set of texts is split into ``ceil(texts / texts_per_cell)`` clusters, or ``sqrt`` of
    that many while that exceeds `BRANCHING` (so assigning a text costs ~sqrt(cells)
    comparisons, not ~cells), and each cluster again while it holds more than four times
    `texts_per_cell`; a cluster k-means cannot split (identical vectors) is cut in pieces.
    The neighbours of a cell's texts are looked for in the cell, or in its parent cluster
    for a cell of fewer than `texts_per_cell` / 4 texts.

    Hand-written: scikit-learn's k-means is Euclidean and took ~20 s on a million sparse
    rows here; spherical k-means is a few sparse products.

    Returns
    -------
    order : ndarray of int, shape (n_texts,)
        The texts, cell after cell (each cluster's texts are contiguous).
    ranges : ndarray of int, shape (n_cells, 4)
        Per cell, ``start, stop`` of its texts in `order` and ``first, last`` of the texts
        searched for their neighbours.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from sklearn.preprocessing import normalize
    >>> vectors = normalize(sp.random(2_000, 300, density=0.02, random_state=0, format="csr"))
    >>> order, ranges = text_cells(vectors, texts_per_cell=100, random_state=0)
    >>> sorted(order.tolist()) == list(range(2_000)), int(ranges[:, 1].max()), len(ranges) > 10
    (True, 2000, True)
    >>> bool(((ranges[:, 2] <= ranges[:, 0]) & (ranges[:, 1] <= ranges[:, 3])).all())
    True
    """
    rng = np.random.default_rng(random_state)
    order: list[IntArray] = []
    ranges: list[tuple[int, int, int, int]] = []
    placed = 0
    # depth first, a cluster's texts are placed contiguously: (texts, where they start, parent)
    pending: list[tuple[IntArray, int]] = [(np.arange(vectors.shape[0]), 0)]
    while pending:
        node, node_start = pending.pop()
        if node.size <= _LEAF_LIMIT * texts_per_cell:  # a small dataset: one cell
            ranges.append((0, node.size, 0, node.size))
            order.append(node)
            continue
        wanted = -(-node.size // texts_per_cell)
        n_clusters = wanted if wanted <= BRANCHING else int(np.ceil(np.sqrt(wanted)))
        assigned = _spherical_kmeans(vectors[node], n_clusters, rng)
        sorted_node = node[np.argsort(assigned, kind="stable")]
        groups = np.split(sorted_node, np.flatnonzero(np.diff(np.sort(assigned))) + 1)
        if len(groups) == 1:  # k-means found nothing to split: cut the texts in pieces
            groups = np.array_split(node, wanted)
        leaves = [group for group in groups if group.size <= _LEAF_LIMIT * texts_per_cell]
        inner = [group for group in groups if group.size > _LEAF_LIMIT * texts_per_cell]
        for group in leaves:
            small = 4 * group.size < texts_per_cell
            first, last = (node_start, node_start + node.size) if small else (placed, placed + group.size)
            ranges.append((placed, placed + group.size, first, last))
            order.append(group)
            placed += group.size
        start = placed
        for group in inner:  # placed in this order, each after the previous one's subtree
            pending_start = start
            start += group.size
            pending.append((group, pending_start))
        pending[len(pending) - len(inner) :] = pending[len(pending) - len(inner) :][::-1]
    return np.concatenate(order), np.asarray(ranges, dtype=np.int64).reshape(-1, 4)


def _spherical_kmeans(vectors: Any, n_clusters: int, rng: np.random.Generator) -> IntArray:
    """Each row's cluster: Lloyd iterations on a sample with unit-length centres, then every
    row to the centre of highest cosine (over the words these rows use only)."""
    import scipy.sparse as sp

    n = vectors.shape[0]
    used = np.zeros(vectors.shape[1], dtype=bool)
    used[vectors.indices] = True
    local = np.cumsum(used) - 1
    vectors = sp.csr_matrix(
        (vectors.data, local[vectors.indices], vectors.indptr), shape=(n, max(local[-1] + 1, 1))
    )
    sample = vectors
    if n > _KMEANS_SAMPLE * n_clusters:
        sample = vectors[np.sort(rng.choice(n, _KMEANS_SAMPLE * n_clusters, replace=False))]
    centres = sample[rng.choice(sample.shape[0], n_clusters, replace=False)].toarray()
    members = sp.csr_matrix(
        (np.ones(sample.shape[0]), np.arange(sample.shape[0]), np.arange(sample.shape[0] + 1)),
        shape=(sample.shape[0], n_clusters),
    )
    for _ in range(_KMEANS_ITERATIONS):
        members.indices = np.asarray(sample @ centres.T).argmax(axis=1).astype(members.indices.dtype)
        sums = (members.T @ sample).toarray()
        length = np.sqrt(np.einsum("ij,ij->i", sums, sums))[:, None]
        centres = np.where(length > 0, sums / np.maximum(length, 1e-300), centres)
    return np.asarray(np.asarray(vectors @ centres.T).argmax(axis=1), dtype=np.int64)


def vote_margin(vote: FloatArray, labels: npt.NDArray[np.int64]) -> FloatArray:
    """Per row, ``log(best other class's vote) - log(own label's vote)``: the score."""
    rows = np.arange(labels.size)
    own = vote[rows, labels]
    other = vote.copy()
    other[rows, labels] = -np.inf
    tiny = np.finfo(np.float64).tiny  # a class with no rows has no vote: keep its log finite
    margin = np.log(np.maximum(other.max(axis=1), tiny)) - np.log(np.maximum(own, tiny))
    return np.asarray(margin, dtype=np.float64)


__all__ = [
    "KnnLabelDisagreement",
    "automatic_partitions",
    "candidate_neighbours",
    "neighbour_tallies",
    "row_votes",
    "text_cells",
    "text_label_counts",
    "tfidf_vectors",
    "vote_margin",
]
