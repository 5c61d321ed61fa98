"""`DuplicateFlood`: many near-identical rows sharing a label, a cheap way to inject poison.

Near-duplicates are found by MinHash with locality-sensitive banding (Broder 1997; Leskovec,
Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3) over character 5-gram shingles, then
confirmed by their exact Jaccard similarity: time and memory grow with the distinct texts,
never with their square. Identical texts are one cluster for free, so the work is done once
per distinct text.

Hand-written, because no well-kept library does it at this scale in NumPy: shingles are read
from one array of every distinct text's code points (scikit-learn's ``HashingVectorizer``
builds a Python string per shingle), and the MinHash is one-permutation hashing with
densification (Li, Owen & Zhang 2012; Shrivastava 2017): each shingle is hashed once,
not once per permutation (the MinHash library, datasketch, also builds one Python object per
text).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.word_counts import distinct_texts, word_counts

IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]

SHINGLE_SIZE = 5
"""Characters per shingle."""
SHINGLE_SPACE = 1 << 62
"""Columns of `shingles`' matrices: a shingle's column is its code (see `shingles`)."""

_U64 = np.uint64
_SPACE = 32
_WHITESPACE_BELOW = 0x3001  # no code point at or above U+3001 is whitespace
_EMPTY = np.uint32(0xFFFFFFFF)  # a MinHash bin no shingle fell into
_PAIRS_PER_CHECK = 1 << 18  # candidate pairs whose Jaccard is computed at once (bounds memory)
_BINS_PER_BLOCK = 1 << 20  # MinHash values computed at once: small arrays, fewer than 2 ** 31
_DENSE_TRIES = 3
_DENSIFY_TRIES = 8
_LEADERS_PER_BAND = 4  # leaders a band's group of texts is checked against, one after another
_CHARACTERS_PER_CHUNK = 1 << 20  # small arrays: reused memory, in cache
_CACHE_SIZE = 4
_cache: weakref.WeakKeyDictionary[Dataset, OrderedDict[tuple[Any, ...], _Grouped]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()


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


@functools.cache
def _whitespace() -> npt.NDArray[np.bool_]:
    """Whether each code point is whitespace to ``str.split`` (none is at or above U+3001)."""
    table = np.zeros(0x110000, dtype=bool)
    table[[c for c in range(_WHITESPACE_BELOW) if chr(c).isspace()]] = True
    return table


def shingles(texts: Any, size: int = SHINGLE_SIZE) -> Any:
    """The set of character `size`-grams of each text, as a binary sparse matrix (one row per text).

    The shingles are scikit-learn's ``analyzer="char_wb"`` n-grams of the case-folded text:
    each whitespace-separated word padded with one space on each side, and its `size`-grams
    (a padded word shorter than `size` is one shingle). Column ``c`` of a row is set when the
    text has the shingle whose code is ``c``: its characters packed into an integer, exact
    (two shingles share a code only if they are equal) when ASCII and the texts' other
    distinct characters fit ``62 // size`` bits (for 5-grams, fewer than 3,968 characters
    beyond ASCII: any alphabetic script), and otherwise a 62-bit hash of them (a collision
    between two shingles is about as likely as one in 2 ** 62). Rows have sorted columns and
    data 1 (int8); `SHINGLE_SPACE` columns. `size` is at least 3.

    Examples
    --------
    >>> m = shingles(["Hello there", "hello there!", "", "ok"])
    >>> np.diff(m.indptr).tolist()  # ' hello ' -> 3 shingles, ' there ' -> 3, ' there! ' -> 4, ' ok '
    [6, 7, 0, 1]
    >>> len(set(m[0].indices) & set(m[1].indices))
    5
    """
    import scipy.sparse as sp

    if isinstance(size, bool) or not isinstance(size, int) or size < 3:
        raise fail("shingles", "size", "an int >= 3", size)
    texts = list(texts)
    is_space, digits, bits, text_start = _characters(texts, size)
    # A text's shingles are stored at their first characters' positions, from the space before
    # it up to the space after it; texts are done a few at a time, to work in small arrays.
    bounds = np.append(text_start - 1, digits.size)
    codes, counts = [], [np.zeros(1, dtype=np.int64)]
    start = 0
    while start < len(texts):
        stop = int(np.searchsorted(bounds, bounds[start] + _CHARACTERS_PER_CHUNK, side="right"))
        stop = min(max(stop, start + 1), len(texts))
        low, high = int(bounds[start]), int(bounds[stop])
        found, at = _chunk_shingles(is_space, digits, low, high, size, bits)
        codes.append(found)
        counts.append(np.diff(np.searchsorted(at, bounds[start : stop + 1] - low)))
        start = stop
    indptr = np.cumsum(np.concatenate(counts))
    indices = np.concatenate(codes).view(np.int64) if codes else np.zeros(0, dtype=np.int64)
    matrix = sp.csr_matrix(
        (np.ones(indices.size, dtype=np.int8), indices, indptr), shape=(len(texts), SHINGLE_SPACE)
    )
    matrix.sum_duplicates()  # sorts each row; a repeated shingle counts once
    matrix.data[:] = 1
    return matrix


def _chunk_shingles(
    is_space: npt.NDArray[np.bool_], digits: Any, low: int, high: int, size: int, bits: int
) -> tuple[UIntArray, IntArray]:
    """The codes of the shingles starting in ``[low, high)`` and their positions from `low`."""
    reach = min(high + size - 1, digits.size)
    local = digits[low:reach].astype(np.uint64)
    is_word = ~is_space[low:reach]
    n = high - low
    # full shingles: windows whose inner size - 2 characters all belong to one word
    n_windows = max(min(n, reach - low - size + 1), 0)
    codes = np.zeros(n, dtype=np.uint64)
    windows = codes[:n_windows]
    _append(local[:n_windows], local[1 : 1 + n_windows], bits, out=windows)
    for k in range(2, size):
        _append(windows, local[k : k + n_windows], bits, out=windows)
    if not bits:  # 62-bit hashes, the length mixed in (a short shingle is never a full one)
        windows[:] = _mix(windows ^ _U64(size)) >> _U64(2)
    is_shingle = np.zeros(n, dtype=bool)
    is_shingle[:n_windows] = True
    for k in range(1, size - 1):
        is_shingle[:n_windows] &= is_word[k : k + n_windows]
    # short words: a padded word shorter than `size` is one shingle, at the space before it
    starts = np.flatnonzero(is_word[1:n] & ~is_word[: n - 1]) + 1
    ends = (np.flatnonzero(is_word[:-1] & ~is_word[1:]) + 1)[: starts.size]
    short = (ends - starts) < size - 2
    first, width = starts[short] - 1, ends[short] - starts[short] + 2
    short_codes = np.zeros(first.size, dtype=np.uint64)
    for k in range(size - 1):
        step = _append(short_codes, local[np.minimum(first + k, local.size - 1)], bits)
        short_codes = np.where(k < width, step, short_codes)
    if not bits:
        short_codes = _mix(short_codes ^ width.astype(np.uint64)) >> _U64(2)
    codes[first] = short_codes
    is_shingle[first] = True
    at = np.flatnonzero(is_shingle)
    return codes[at], at


def _characters(texts: list[str], size: int) -> tuple[npt.NDArray[np.bool_], Any, int, IntArray]:
    """The case-folded texts, each between spaces, as one array of character digits.

    Returns whether each character is whitespace, its digit (whitespace as a space; uint16
    ranks, or with `bits` 0 code points + 1), the bits per digit (0 when shingles must be
    hashed: too many distinct characters to pack `size` of them in 62 bits), and where each
    text starts.
    """
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    raw = " ".join(["", *texts, ""]).encode("utf-32-le", "surrogatepass")
    codes = np.frombuffer(raw, dtype=np.uint32).copy()
    del raw
    # Case folding as str.lower does it, in arrays: ASCII by arithmetic, other characters through
    # a table of their lower cases, unless one folds to several characters ('İ' -> 'i̇') or
    # depends on its neighbours (final sigma): then the texts are folded by Python.
    is_other = codes >= 128
    other = np.unique(codes[is_other])
    folded = [chr(c).lower() for c in other.tolist()]
    if 0x3A3 in other or any(len(f) != 1 for f in folded):
        lowered = [text.lower() for text in texts]
        lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
        raw = " ".join(["", *lowered, ""]).encode("utf-32-le", "surrogatepass")
        codes = np.frombuffer(raw, dtype=np.uint32).copy()
        del raw, lowered
    else:
        codes[(codes >= 65) & (codes <= 90)] += np.uint32(32)
        if other.size:
            table = np.fromiter(map(ord, folded), dtype=np.uint32, count=len(folded))
            codes[is_other] = table[np.searchsorted(other, codes[is_other])]
    is_space = _whitespace()[codes]
    # Digits: ASCII characters c -> c + 1, other characters their rank among the others after
    # ASCII (digits start at 1, so a shorter shingle never packs to a longer one's code).
    is_other = codes >= 128
    other, other_digit = np.unique(codes[is_other], return_inverse=True)
    bits = (128 + other.size).bit_length()
    if bits * size > 62:
        bits = 0
        digits: Any = np.add(codes, 1, dtype=np.uint32)
    else:
        digits = np.empty(codes.size, dtype=np.uint16)
        np.add(codes, 1, out=digits, casting="unsafe")
        digits[is_other] = other_digit.ravel() + 129
    digits[is_space] = _SPACE + 1
    text_start = np.zeros(len(texts), dtype=np.int64)
    if texts:
        np.cumsum(lengths[:-1] + 1, out=text_start[1:])
    text_start += 1  # text i occupies [text_start[i], text_start[i] + lengths[i]) of the array
    return is_space, digits, bits, text_start


def _append(codes: UIntArray, digits: UIntArray, bits: int, out: UIntArray | None = None) -> UIntArray:
    """Codes with one more digit: exact `bits`-bit digits, or (`bits` 0) a 64-bit polynomial."""
    if bits:
        shifted: UIntArray = np.left_shift(codes, _U64(bits), out=out)
        return np.bitwise_or(shifted, digits, out=shifted)
    scaled: UIntArray = np.multiply(codes, _U64(0x100000001B3), out=out)
    return np.add(scaled, digits, out=scaled)


def _mix(values: UIntArray) -> UIntArray:
    """MurmurHash3's 64-bit finaliser: every input bit moves every output bit (a bijection)."""
    values = values ^ (values >> _U64(33))
    values *= _U64(0xFF51AFD7ED558CCD)
    values ^= values >> _U64(33)
    values *= _U64(0xC4CEB9FE1A85EC53)
    values ^= values >> _U64(33)
    return values


def minhash(matrix: Any, n_permutations: int, random_state: int) -> npt.NDArray[np.uint32]:
    """MinHash signatures, ``n_permutations`` values per row of a binary sparse `matrix`.

    One-permutation hashing (Li, Owen & Zhang 2012): each column is hashed once (a seeded
    64-bit mix), its hash picks one of ``n_permutations`` bins, and a row's value in a bin is
    the least hash that fell in it. A bin no column fell into is densified by optimal
    densification (Shrivastava 2017): it takes the value of the first non-empty bin in a
    random sequence of bins fixed per bin (after ``n_permutations`` tries, of the next
    non-empty bin to its right). Two rows agree in a bin with probability their Jaccard
    similarity, as with independent permutations, at one hash per column instead of one per
    column and permutation; for rows with fewer columns than bins the bins are not
    independent. A row with no columns keeps an empty mark everywhere, so empty texts match
    each other only.

    Examples
    --------
    >>> m = shingles(["Claim your FREE prize now, text WIN", "Claim your FREE prize now! Text WIN", ""])
    >>> round(len(set(m[0].indices) & set(m[1].indices)) / len(set(m[0].indices) | set(m[1].indices)), 3)
    0.765
    >>> s = minhash(m, 64, 0)
    >>> s.shape, float((s[0] == s[1]).mean()), bool((s[2] == s[2, 0]).all())
    ((3, 64), 0.765625, True)
    """
    rng = np.random.default_rng(random_state)
    seed = _U64(rng.integers(0, 1 << 63, dtype=np.int64))
    # tries[t, j]: the bin an empty bin j tries t-th
    tries = rng.integers(0, n_permutations, size=(n_permutations, n_permutations), dtype=np.int32)
    n = matrix.shape[0]
    signature = np.empty((n, n_permutations), dtype=np.uint32)
    columns = matrix.indices.view(np.uint64)
    rows_per_block = max(_BINS_PER_BLOCK // n_permutations, 1)
    for start in range(0, n, rows_per_block):  # a block of rows at a time: small arrays
        stop = min(start + rows_per_block, n)
        low, high = int(matrix.indptr[start]), int(matrix.indptr[stop])
        hashed = _mix(columns[low:high] ^ seed)
        cell = (((hashed >> _U64(32)) * _U64(n_permutations)) >> _U64(32)).astype(np.int64)
        cell += np.repeat(
            np.arange(stop - start, dtype=np.int64) * n_permutations, np.diff(matrix.indptr[start : stop + 1])
        )
        block = np.full((stop - start) * n_permutations, _EMPTY, dtype=np.uint32)
        np.minimum.at(block, cell, (hashed & _U64(0x7FFFFFFF)).astype(np.uint32))
        signature[start:stop] = _densify(block.reshape(stop - start, n_permutations), tries)
    return signature


def _densify(block: npt.NDArray[np.uint32], tries: npt.NDArray[np.int32]) -> npt.NDArray[np.uint32]:
    """`block` with its rows' empty bins filled: bin ``j`` takes the first non-empty bin of
    ``tries[:, j]``, then of the bins to its right (a row with no non-empty bin stays empty)."""
    k = block.shape[1]
    found: npt.NDArray[np.uint32] = block.copy()
    # the first tries over the whole block, then cell by cell for the fewer cells left...
    for tried in tries[:_DENSE_TRIES]:
        np.copyto(found, block[:, tried], where=found == _EMPTY)  # stays empty if that bin is too
    empty = found == _EMPTY
    empty &= ~empty.all(axis=1, keepdims=True)  # a row with no shingle stays empty
    cells = np.flatnonzero(empty).astype(np.int32)
    if cells.size == 0:
        return found
    original = block.ravel()
    found = found.ravel()
    for tried in tries[_DENSE_TRIES:_DENSIFY_TRIES]:
        column = cells % np.int32(k)
        value = original.take(cells - column + tried.take(column))
        found[cells] = value  # still empty where the tried bin is empty too
        cells = cells[value == _EMPTY]
    if cells.size:  # ...then, for the rest (rows with few non-empty bins), the first in the order
        after = (np.arange(k)[None, :] - np.arange(k)[:, None] - 1) % k  # after the tries, rightward
        rank = (k + after).astype(np.int32)  # rank[j, b]: where bin b comes in bin j's order
        for attempt in range(k - 1, -1, -1):
            rank[np.arange(k), tries[attempt]] = attempt
        column = cells % np.int32(k)
        start = cells - column
        available = original.reshape(-1, k)[start // k] != _EMPTY
        chosen = np.where(available, rank[column], np.int32(3 * k)).argmin(axis=1)
        found[cells] = original[start + chosen]
    densified: npt.NDArray[np.uint32] = found.reshape(block.shape)
    return densified


def near_duplicate_clusters(
    texts: Any, *, threshold: float, n_permutations: int, bands: int, random_state: int
) -> IntArray:
    """A cluster id per text: texts linked by exact shingle Jaccard >= `threshold` share one.

    Each distinct text is processed once (identical texts share its cluster). Candidate pairs
    come from LSH banding of the MinHash signatures: in each band, the texts with an equal band
    form a group, each paired with the group's first text; while a group's texts are not all
    linked, with its second, third and fourth text in turn (so one dissimilar first text does
    not hide the links among the others). A pair is checked exactly unless its texts are
    already linked through checked pairs (the clusters are the same either way). Two texts of
    Jaccard similarity ``s`` share a band with probability about ``1 - (1 - s ** r) ** bands``
    (``r = n_permutations / bands``): 0.9998 at ``s = 0.8`` with the defaults (64, 16).
    ``bench/backdoor_detectors_scale.py`` counts the clusters of an all-pairs check this splits
    (none to two of thousands). Cluster ids are numbered in order of first text.

    Examples
    --------
    >>> near_duplicate_clusters(
    ...     ["win a prize now", "win a prize now!", "lunch?", "win a prize now"], threshold=0.6,
    ...     n_permutations=32, bands=16, random_state=0
    ... ).tolist()
    [0, 0, 1, 0]
    """
    distinct, text_of_row = distinct_texts(list(texts))
    cluster = distinct_clusters(
        list(distinct),
        threshold=threshold,
        n_permutations=n_permutations,
        bands=bands,
        random_state=random_state,
    )
    return cluster[text_of_row]


def distinct_clusters(
    texts: Sequence[str], *, threshold: float, n_permutations: int, bands: int, random_state: int
) -> IntArray:
    """`near_duplicate_clusters` of texts that are all different (each one a distinct text).

    Examples
    --------
    >>> distinct_clusters(
    ...     ["win a prize now", "lunch?", "win a prize now!"], threshold=0.6, n_permutations=32,
    ...     bands=16, random_state=0
    ... ).tolist()
    [0, 1, 0]
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    matrix = shingles(texts)
    signature = minhash(matrix, n_permutations, random_state)
    sizes = np.diff(matrix.indptr)
    width = n_permutations // bands
    index_bits = max(n - 1, 1).bit_length()
    index = np.arange(n, dtype=np.uint64)
    cluster = np.arange(n, dtype=np.int64)
    for band in range(bands):
        block = signature[:, band * width : (band + 1) * width].astype(np.uint64)
        key = block[:, 0].copy()
        for column in block.T[1:]:
            key = _mix(key) + column
        # the band's values as one key (collisions only add candidates), the text in the low
        # bits: sorting groups equal bands, each group led by its first text
        ordered = np.sort((key << _U64(index_bits)) | index)
        order = (ordered & _U64((1 << index_bits) - 1)).astype(np.int64)
        ordered >>= _U64(index_bits)
        group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]])
        members = order
        for _ in range(_LEADERS_PER_BAND):  # the group's first text leads, then its second, ...
            if members.size == 0:
                break
            first = np.r_[True, group[1:] != group[:-1]]
            leader = members[np.flatnonzero(first)[np.cumsum(first) - 1]]
            pending = cluster[leader] != cluster[members]  # not yet linked through checked pairs
            if not pending.any():
                break
            left, right = leader[pending], members[pending]
            similar = _similar(matrix, sizes, left, right, threshold)
            if similar.any():
                cluster = _merge(cluster, cluster[left[similar]], cluster[right[similar]])
            # groups whose texts are not all linked yet go on, without their leader
            unlinked = np.bincount(group, weights=cluster[leader] != cluster[members]) > 0
            going = unlinked[group] & ~first
            members, group = members[going], group[going]
    return cluster


def _similar(matrix: Any, sizes: IntArray, left: IntArray, right: IntArray, threshold: float) -> BoolArray:
    """Whether each pair of rows has exact Jaccard similarity >= `threshold` (two empty rows: 1)."""
    small, large = np.minimum(sizes[left], sizes[right]), np.maximum(sizes[left], sizes[right])
    # a pair whose smaller set is too small to reach the threshold even inside the larger fails
    similar = np.divide(small, large, out=np.ones(small.size), where=large > 0) >= threshold
    checked = np.flatnonzero(similar)
    for start in range(0, checked.size, _PAIRS_PER_CHECK):
        pairs = checked[start : start + _PAIRS_PER_CHECK]
        a, b = left[pairs], right[pairs]
        shared = np.diff(matrix[a].multiply(matrix[b]).indptr)  # data are 1: the common columns
        union = sizes[a] + sizes[b] - shared
        similar[pairs] = np.divide(shared, union, out=np.ones(pairs.size), where=union > 0) >= threshold
    return similar


def _merge(cluster: IntArray, left: IntArray, right: IntArray) -> IntArray:
    """Clusters after linking cluster `left[i]` with `right[i]`, still numbered in order of first text."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = cluster.size
    graph = sp.coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n))
    _, renamed = connected_components(graph, directed=False)  # numbered in order of lowest member
    return np.asarray(renamed, dtype=np.int64)[cluster]


@DETECTORS.register("duplicate_flood")
@dataclasses.dataclass(frozen=True, kw_only=True)
class DuplicateFlood(Detector):
    """Near-duplicate floods: clusters of near-identical rows that share a label.

    Rows are linked when the Jaccard similarity of their character 5-gram sets (case folded)
    is at least `threshold`, found by MinHash LSH and confirmed exactly; a flood is a linked
    cluster's rows of one label, at least `min_size` of them. A row's score is the number of
    other rows near-identical to it (through the cluster) that share its label. Identical
    texts are one cluster without any work, so the time grows with the distinct texts (see
    `near_duplicate_clusters`); the clusters are kept per dataset object, so `findings` and
    `floods` share them.

    Parameters
    ----------
    threshold : float
        Least Jaccard similarity of two near-identical rows, in (0, 1].
    min_size : int
        Fewest rows of one label in a cluster to call it a flood (at least 2).
    n_permutations : int
        MinHash values per text (bins of one-permutation hashing); a multiple of `bands`.
    bands : int
        LSH bands: more bands find less similar candidates (then checked exactly).
    random_state : int
        Seeds the MinHash hash.

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
        "Ullman, Mining of Massive Datasets, ch. 3 (MinHash and LSH); Shrivastava (2017), Optimal "
        "Densification for Fast and Accurate Minwise Hashing, ICML."
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
        """A near-duplicate cluster id per row (kept per dataset object; do not modify it)."""
        return self._grouped(dataset).cluster

    def score(self, dataset: Dataset) -> FloatArray:
        """Other rows near-identical to each row (through its cluster) that share its label."""
        return self.findings(dataset).scores

    def floods(self, dataset: Dataset) -> list[Flood]:
        """The floods, largest first (ties by first row)."""
        return self._grouped(dataset).floods(dataset.labels, self.min_size)

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, the rows in floods, and each flood's size and example text."""
        grouped = self._grouped(dataset)
        sizes = np.diff(grouped.starts)
        scores = np.empty(len(dataset), dtype=np.float64)
        scores[grouped.order] = np.repeat(sizes - 1, sizes)
        reasons = np.full(len(dataset), "", dtype=object)
        flags = np.zeros(len(dataset), dtype=bool)
        for flood in grouped.floods(dataset.labels, self.min_size):
            example = dataset.texts[int(flood.rows[0])]
            shown = example if len(example) <= 60 else example[:57] + "..."
            mixed = (
                f"; {flood.other_labels} near-identical rows carry other labels" if flood.other_labels else ""
            )
            reasons[flood.rows] = (
                f"one of {flood.size} near-identical rows labelled "
                f"{dataset.classes[flood.label]!r}, e.g. {shown!r}{mixed}"
            )
            flags[flood.rows] = True
        return Findings(check_scores(scores, dataset), flags, tuple(reasons.tolist()))

    def _grouped(self, dataset: Dataset) -> _Grouped:
        key = (float(self.threshold), self.n_permutations, self.bands, self.random_state)
        with _cache_lock:
            kept = _cache.get(dataset)
            if kept is not None and key in kept:
                kept.move_to_end(key)
                return kept[key]
        counts = word_counts(dataset)  # its distinct texts: shared with the scan's other detectors
        found = distinct_clusters(
            counts.distinct_texts,
            threshold=float(self.threshold),
            n_permutations=self.n_permutations,
            bands=self.bands,
            random_state=self.random_state,
        )
        grouped = _Grouped.of(found[counts.text_of_row], dataset.labels, len(dataset.classes))
        with _cache_lock:
            kept = _cache.setdefault(dataset, OrderedDict())
            kept[key] = grouped
            while len(kept) > _CACHE_SIZE:
                kept.popitem(last=False)
        return grouped


@dataclasses.dataclass(frozen=True, eq=False)
class _Grouped:
    """Rows by (cluster, label): `order` lists the rows group by group (each in row order), group
    ``g`` being ``order[starts[g]:starts[g + 1]]``."""

    cluster: IntArray
    order: IntArray
    starts: IntArray

    @classmethod
    def of(cls, cluster: IntArray, labels: npt.NDArray[np.int64], n_classes: int) -> _Grouped:
        order = np.argsort(cluster * n_classes + labels, kind="stable")
        ordered = cluster[order] * n_classes + labels[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if order.size else order
        for array in (cluster, order):
            array.setflags(write=False)
        return cls(cluster, order, np.append(starts, order.size).astype(np.int64))

    def floods(self, labels: npt.NDArray[np.int64], min_size: int) -> list[Flood]:
        """Groups of at least `min_size` rows, largest first (ties by first row)."""
        sizes = np.diff(self.starts)
        cluster_size = np.bincount(self.cluster) if self.cluster.size else np.zeros(0, dtype=np.int64)
        found = []
        for group in np.flatnonzero(sizes >= min_size).tolist():
            rows = self.order[self.starts[group] : self.starts[group + 1]]
            first = int(rows[0])
            found.append(Flood(rows, int(labels[first]), int(cluster_size[self.cluster[first]] - rows.size)))
        found.sort(key=lambda flood: (-flood.size, int(flood.rows[0])))
        return found


def clear_cache() -> None:
    """Forget the clusters kept for datasets still alive."""
    with _cache_lock:
        _cache.clear()


__all__ = [
    "SHINGLE_SIZE",
    "SHINGLE_SPACE",
    "DuplicateFlood",
    "Flood",
    "clear_cache",
    "distinct_clusters",
    "minhash",
    "near_duplicate_clusters",
    "shingles",
]
