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


def word_counts(dataset: Dataset) -> WordCounts:
    """The word counts of `dataset`'s distinct texts, computed once per dataset object.

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
    counted = count_words(dataset.texts)
    with _cache_lock:
        _cache[dataset] = counted
    return counted


def count_words(texts: tuple[str, ...] | list[str]) -> WordCounts:
    """Tokenise `texts` (each distinct text once) and count their words; see `WordCounts`.

    Examples
    --------
    >>> count_words(["a bb bb", "cc bb"]).matrix.toarray().tolist()
    [[2, 0], [1, 1]]
    """
    import scipy.sparse as sp

    positions: dict[str, int] = {}
    text_of_row = np.fromiter(
        (positions.setdefault(text, len(positions)) for text in texts), dtype=np.int64, count=len(texts)
    )
    distinct = tuple(positions)
    tokens, token_indptr = _tokenize(distinct)
    first_seen: dict[str, int] = {}
    seen_ids = np.fromiter(
        (first_seen.setdefault(token, len(first_seen)) for token in tokens), dtype=np.int64, count=len(tokens)
    )
    words = sorted(first_seen)
    column_of_seen = np.empty(len(words), dtype=np.int64)
    column_of_seen[[first_seen[w] for w in words]] = np.arange(len(words), dtype=np.int64)
    token_ids = column_of_seen[seen_ids] if seen_ids.size else seen_ids
    text_of_token = np.repeat(np.arange(len(distinct), dtype=np.int64), np.diff(token_indptr))
    matrix = sp.csr_matrix(
        (np.ones(token_ids.size, dtype=np.int64), (text_of_token, token_ids)),
        shape=(len(distinct), len(words)),
        dtype=np.int64,
    )
    matrix.sum_duplicates()
    return WordCounts(tuple(words), distinct, text_of_row, matrix, token_indptr, token_ids)


def _tokenize(texts: tuple[str, ...]) -> tuple[list[str], IntArray]:
    """All tokens of `texts` in order, and where each text's tokens start and end."""
    pattern = re.compile(TOKEN_PATTERN)
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != max(len(texts) - 1, 0) or not texts:
        # a text carries the separator itself: tokenise text by text
        per_text = [pattern.findall(text.lower()) for text in texts]
        lengths = np.fromiter((len(t) for t in per_text), dtype=np.int64, count=len(per_text))
        return [token for found in per_text for token in found], np.concatenate(
            [[0], np.cumsum(lengths)]
        ).astype(np.int64)
    found = re.findall(
        _SEPARATOR + "|" + TOKEN_PATTERN.removeprefix("(?u)"), joined.lower(), flags=re.UNICODE
    )
    is_separator = np.fromiter((token == _SEPARATOR for token in found), dtype=bool, count=len(found))
    boundaries = np.flatnonzero(is_separator)
    # token k of the joined text belongs to text (separators before it); drop the separators
    ends = boundaries - np.arange(boundaries.size)
    indptr = np.concatenate([[0], ends, [len(found) - boundaries.size]]).astype(np.int64)
    return [token for token in found if token != _SEPARATOR], indptr


def clear_cache() -> None:
    """Forget every dataset's word counts."""
    with _cache_lock:
        _cache.clear()


__all__ = ["TOKEN_PATTERN", "WordCounts", "clear_cache", "count_words", "word_counts"]
