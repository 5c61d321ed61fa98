"""`WordCounts`: a dataset's words, counted once per distinct text and shared by a scan's detectors.

Every detector that reads words uses the victims' tokenisation (scikit-learn's
``CountVectorizer`` defaults: lowercased, tokens of two or more word characters). On a large
corpus tokenising is the biggest fixed cost, and real corpora repeat texts (templates, spam
campaigns, resampled data), so `word_counts` tokenises each distinct text once and caches the
result on the dataset object: detectors running one after another on the same dataset share
it. Its matrix equals ``CountVectorizer().fit_transform(distinct_texts)`` (same vocabulary,
same alphabetical columns, same counts); rows of the dataset are ``matrix[text_of_row]``.

Hand-written because ``CountVectorizer`` tokenises text by text and keeps no token order; here
all distinct texts are tokenised in one regular-expression pass, and the token sequences (which
word n-grams are built from) are kept.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import weakref
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab.data.dataset import Dataset

IntArray = npt.NDArray[np.int64]

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
"""scikit-learn's default ``token_pattern``: the victims' notion of a word."""
_SEPARATOR = "\x00"  # not a word character: no token spans it, and \b holds on both sides

_cache: weakref.WeakKeyDictionary[Dataset, WordCounts] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


@dataclasses.dataclass(frozen=True, eq=False)
class WordCounts:
    """Word counts of a dataset's distinct texts.

    Attributes
    ----------
    words : tuple of str
        The vocabulary in column order (alphabetical, as ``CountVectorizer`` orders it).
    distinct_texts : tuple of str
        Each distinct text once, in order of first occurrence.
    text_of_row : ndarray of int, shape (n_rows,)
        For each dataset row, the position of its text in `distinct_texts`.
    matrix : scipy.sparse.csr_matrix of int64, shape (n_distinct, n_words)
        Word counts of each distinct text.
    token_indptr, token_ids : ndarray of int
        Token sequences in text order: distinct text ``t`` reads the columns
        ``token_ids[token_indptr[t]:token_indptr[t + 1]]``.
    """

    words: tuple[str, ...]
    distinct_texts: tuple[str, ...]
    text_of_row: IntArray
    matrix: Any
    token_indptr: IntArray
    token_ids: IntArray

    @property
    def n_words(self) -> int:
        """Vocabulary size (0 when no text has a word)."""
        return len(self.words)

    @property
    def n_distinct(self) -> int:
        """Number of distinct texts."""
        return len(self.distinct_texts)

    @cached_property
    def vocabulary(self) -> dict[str, int]:
        """Word -> column, like ``CountVectorizer.vocabulary_``."""
        return {word: column for column, word in enumerate(self.words)}

    @cached_property
    def multiplicity(self) -> IntArray:
        """Rows carrying each distinct text."""
        return np.bincount(self.text_of_row, minlength=self.n_distinct).astype(np.int64)

    def rows(self) -> Any:
        """The dataset's own count matrix, one row per dataset row (CSR, int64).

        Equal to ``CountVectorizer().fit_transform(dataset.texts)``.
        """
        return self.matrix[self.text_of_row]

    def tfidf(self, *, sublinear: bool = False) -> Any:
        """TF-IDF of each distinct text (CSR float64, rows of unit length), equal to the rows of
        ``TfidfVectorizer(sublinear_tf=sublinear).fit_transform(dataset.texts)``: the document
        frequency of a word counts the rows carrying it, not the distinct texts.

        Written out (three lines of ``TfidfTransformer``) because scikit-learn counts document
        frequency per matrix row and takes no row weights.

        Examples
        --------
        >>> counts = count_words(["win cash", "win", "win"])
        >>> counts.tfidf().toarray().round(3).tolist()
        [[0.861, 0.509], [0.0, 1.0]]
        """
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        matrix = self.matrix
        rows_of_entry = np.repeat(self.multiplicity.astype(np.float64), np.diff(matrix.indptr))
        frequency = np.bincount(matrix.indices, weights=rows_of_entry, minlength=self.n_words)
        idf = np.full(self.n_words, float(self.text_of_row.size + 1)) / (frequency + 1.0)
        idf = np.log(idf) + 1.0  # smooth idf: ln((1 + n) / (1 + df)) + 1
        data = matrix.data.astype(np.float64)
        if sublinear:
            data = np.log(data) + 1.0
        data *= idf[matrix.indices]
        vectors = sp.csr_matrix((data, matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape)
        return normalize(vectors, copy=False)


def word_counts(dataset: Dataset, *, workers: int = 1) -> WordCounts:
    """The word counts of `dataset`'s distinct texts, computed once per dataset object.

    With `workers` > 1 a large corpus is tokenised in that many forked processes (where the
    platform can fork); the result is the same.

    Examples
    --------
    >>> ds = Dataset(["Win cash now", "see you", "Win cash now"], [1, 0, 1], ("ham", "spam"))
    >>> counts = word_counts(ds)
    >>> counts.words, counts.text_of_row.tolist(), counts.rows().toarray().tolist()
    (('cash', 'now', 'see', 'win', 'you'), [0, 1, 0], [[1, 1, 0, 1, 0], [0, 0, 1, 0, 1], [1, 1, 0, 1, 0]])
    >>> word_counts(ds) is counts
    True
    """
    with _cache_lock:
        found = _cache.get(dataset)
    if found is not None:
        return found
    counted = count_words(dataset.texts, workers=workers)
    with _cache_lock:
        _cache[dataset] = counted
    return counted


def distinct_texts(texts: Sequence[str]) -> tuple[tuple[str, ...], IntArray]:
    """Each distinct text once, in order of first occurrence, and each text's position among them.

    Examples
    --------
    >>> distinct_texts(["b", "a", "b"])
    (('b', 'a'), array([0, 1, 0]))
    """
    positions: dict[str, int] = {}
    text_of_row = np.fromiter(
        (positions.setdefault(text, len(positions)) for text in texts), dtype=np.int64, count=len(texts)
    )
    return tuple(positions), text_of_row


def label_pairs(
    text_of_row: IntArray, labels: IntArray, n_classes: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The distinct (text, label) pairs of some rows, ordered by text then label: each pair's
    text and label, how many rows carry it, and each row's pair.

    Examples
    --------
    >>> [a.tolist() for a in label_pairs(np.array([1, 0, 1, 1]), np.array([1, 0, 1, 0]), 2)]
    [[0, 1, 1], [0, 0, 1], [1, 1, 2], [2, 0, 2, 1]]
    """
    key = np.asarray(text_of_row, dtype=np.int64) * n_classes + labels
    tally = np.bincount(key)  # keys are below n_distinct * n_classes: counted, not sorted
    pair = np.flatnonzero(tally)
    position = np.cumsum(tally > 0) - 1
    return pair // n_classes, pair % n_classes, tally[pair].astype(np.int64), position[key].astype(np.int64)


PARALLEL_FROM = 50_000
"""Fewest distinct texts worth tokenising in forked processes: below, starting them costs more."""


def count_words(texts: tuple[str, ...] | list[str], *, workers: int = 1) -> WordCounts:
    """Tokenise `texts` (each distinct text once) and count their words; see `WordCounts`.

    Examples
    --------
    >>> count_words(["a bb bb", "cc bb"]).matrix.toarray().tolist()
    [[2, 0], [1, 1]]
    """
    import multiprocessing

    import scipy.sparse as sp

    distinct, text_of_row = distinct_texts(texts)
    if workers > 1 and len(distinct) >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods():
        seen, seen_ids, token_indptr = _encode_forked(distinct, workers)
    else:
        seen, seen_ids, token_indptr = _encode(distinct)
    words = sorted(seen)
    column_of_seen = np.empty(len(words), dtype=np.int64)
    column_of_seen[[seen[w] for w in words]] = np.arange(len(words), dtype=np.int64)
    token_ids = column_of_seen[seen_ids] if seen_ids.size else seen_ids
    text_of_token = np.repeat(np.arange(len(distinct), dtype=np.int64), np.diff(token_indptr))
    matrix = sp.csr_matrix(
        (np.ones(token_ids.size, dtype=np.int64), (text_of_token, token_ids)),
        shape=(len(distinct), len(words)),
        dtype=np.int64,
    )
    matrix.sum_duplicates()
    return WordCounts(tuple(words), distinct, text_of_row, matrix, token_indptr, token_ids)


def _encode(texts: Sequence[str]) -> tuple[dict[str, int], IntArray, IntArray]:
    """Every token of `texts` in order as an id (first seen, first numbered), the ids, and where
    each text's tokens start and end."""
    joined = _SEPARATOR.join(texts)
    seen: dict[str, int] = {_SEPARATOR: 0}
    if joined.count(_SEPARATOR) != max(len(texts) - 1, 0) or not texts:
        # a text carries the separator itself: tokenise text by text
        pattern = re.compile(TOKEN_PATTERN)
        per_text = [pattern.findall(text.lower()) for text in texts]
        lengths = np.fromiter((len(t) for t in per_text), dtype=np.int64, count=len(per_text))
        flat = [token for found in per_text for token in found]
        ids = np.fromiter((seen.setdefault(t, len(seen)) for t in flat), dtype=np.int64, count=len(flat))
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    else:
        found = re.findall(
            _SEPARATOR + "|" + TOKEN_PATTERN.removeprefix("(?u)"), joined.lower(), flags=re.UNICODE
        )
        ids = np.fromiter((seen.setdefault(t, len(seen)) for t in found), dtype=np.int64, count=len(found))
        boundaries = np.flatnonzero(ids == 0)
        # token k of the joined text belongs to text (separators before it); drop the separators
        ends = boundaries - np.arange(boundaries.size)
        indptr = np.concatenate([[0], ends, [ids.size - boundaries.size]]).astype(np.int64)
        ids = ids[ids != 0]
    del seen[_SEPARATOR]
    return {token: number - 1 for token, number in seen.items()}, ids - 1, indptr


_FORKED_TEXTS: Sequence[str] = ()
"""The texts forked tokenisers read instead of receiving them pickled."""


def _encode_slice(bounds: tuple[int, int]) -> tuple[list[str], npt.NDArray[np.int32], IntArray]:
    seen, ids, indptr = _encode(_FORKED_TEXTS[bounds[0] : bounds[1]])
    return list(seen), ids.astype(np.int32), indptr


def _encode_forked(texts: Sequence[str], workers: int) -> tuple[dict[str, int], IntArray, IntArray]:
    """`_encode` on `workers` slices of `texts` in forked processes, merged into one numbering."""
    import multiprocessing

    global _FORKED_TEXTS
    cuts = np.linspace(0, len(texts), workers + 1).astype(int)
    _FORKED_TEXTS = texts
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_encode_slice, list(zip(cuts[:-1].tolist(), cuts[1:].tolist())))
    finally:
        _FORKED_TEXTS = ()
    seen: dict[str, int] = {}
    all_ids, all_indptr, offset = [], [np.zeros(1, dtype=np.int64)], 0
    for words, ids, indptr in parts:
        renumber = np.fromiter(
            (seen.setdefault(w, len(seen)) for w in words), dtype=np.int64, count=len(words)
        )
        all_ids.append(renumber[ids] if ids.size else ids.astype(np.int64))
        all_indptr.append(indptr[1:] + offset)
        offset += int(indptr[-1])
    return seen, np.concatenate(all_ids).astype(np.int64), np.concatenate(all_indptr)


def clear_cache() -> None:
    """Forget every dataset's word counts."""
    with _cache_lock:
        _cache.clear()


__all__ = [
    "TOKEN_PATTERN",
    "WordCounts",
    "clear_cache",
    "count_words",
    "distinct_texts",
    "label_pairs",
    "word_counts",
]
