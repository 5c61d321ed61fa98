"""`TokenCounts`: tokenize each text once, then build any refit's features by array arithmetic.

A vectorizer refit on a poisoned training set (labels flipped, texts edited, rows injected or
removed) mostly re-tokenizes texts it has seen before. `TokenCounts` runs the vectorizer's own
analyzer once per distinct text and keeps per-text token counts over one growing token index;
the vocabulary, column order and matrix of a refit ``CountVectorizer`` or ``TfidfVectorizer``
are then rebuilt from those counts, equal to scikit-learn's to the last bit (the tests compare
``vocabulary_``, ``idf_`` and the sparse matrices' ``indptr``, ``indices`` and ``data``).

Written by hand because scikit-learn has no way to fit a vectorizer from counted tokens: the
steps after counting (``min_df``/``max_df``/``max_features`` pruning, alphabetical column
order, ``binary``) follow ``CountVectorizer.fit_transform`` line by line.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Hashable, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError, ParameterError

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_INT32_MAX = int(np.iinfo(np.int32).max)


def is_supported(vectorizer: object) -> bool:
    """True for a ``CountVectorizer`` or ``TfidfVectorizer`` (not a subclass) reading text content.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
    >>> is_supported(CountVectorizer()), is_supported(HashingVectorizer())
    (True, False)
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    return type(vectorizer) in (CountVectorizer, TfidfVectorizer) and vectorizer.input == "content"  # type: ignore[attr-defined]


@dataclasses.dataclass(frozen=True, eq=False)
class Encoded:
    """Texts as token counts over a `TokenCounts` index, in a CSR layout.

    Row ``i`` holds ``tokens[indptr[i]:indptr[i + 1]]`` (token ids) and the matching `counts`,
    each distinct token once, in the order the token first occurs in the text.
    """

    indptr: IntArray
    tokens: IntArray
    counts: IntArray
    n_tokens: int

    def __len__(self) -> int:
        return int(self.indptr.size - 1)

    @property
    def row_of_entry(self) -> IntArray:
        """The row of every entry of `tokens`."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))

    def matrix(self, *, binary: bool = False, n_tokens: int | None = None) -> Any:
        """A ``scipy.sparse.csr_array`` (rows x token ids) of the counts, indices sorted.

        With `binary`, every present token counts 1, as with ``CountVectorizer(binary=True)``.
        """
        import scipy.sparse as sp

        width = self.n_tokens if n_tokens is None else n_tokens
        data = np.ones(self.tokens.size, dtype=np.int64) if binary else self.counts
        out = sp.csr_array((data, self.tokens, self.indptr), shape=(len(self), width))
        out.sort_indices()
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class Features:
    """A refit's result: the fitted vectorizer, its matrix of the training texts, and, per
    feature column, the id of its token in the `TokenCounts` index."""

    vectorizer: Any
    matrix: Any
    tokens: IntArray


class TokenCounts:
    """Token counts of every text seen, over one token index, for one vectorizer's settings.

    Parameters
    ----------
    vectorizer : CountVectorizer or TfidfVectorizer
        Its settings are used (it is cloned, never fitted): its own analyzer tokenizes, and its
        ``min_df``, ``max_df``, ``max_features``, ``binary``, ``vocabulary``, ``dtype`` and
        tf-idf options shape each refit exactly as scikit-learn would. Any other vectorizer
        (a subclass, ``HashingVectorizer``, ``input='filename'``) is refused with a
        `ParameterError`: its refit cannot be rebuilt from counts with certainty.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> counts = TokenCounts(CountVectorizer())
    >>> features = counts.fit(["cheap pills now", "see you now"])
    >>> sorted(features.vectorizer.vocabulary_.items())
    [('cheap', 0), ('now', 1), ('pills', 2), ('see', 3), ('you', 4)]
    >>> counts.transform(features.vectorizer, ["now now cheap", "unknown"]).toarray().tolist()
    [[1, 2, 0, 0, 0], [0, 0, 0, 0, 0]]
    >>> counts.n_texts  # each distinct text is tokenized once
    4
    """

    def __init__(self, vectorizer: Any) -> None:
        from sklearn.base import clone

        if not is_supported(vectorizer):
            raise ParameterError(
                "Token counts rebuild only CountVectorizer and TfidfVectorizer refits on text "
                f"content; got {type(vectorizer).__name__} with these settings."
            )
        template = clone(vectorizer)
        # The checks scikit-learn runs at fit time, so bad settings fail here as they would there.
        for check in ("_validate_params", "_validate_ngram_range"):
            if hasattr(template, check):
                getattr(template, check)()
        self.template = template
        self._analyze = template.build_analyzer()
        self._ids: dict[Hashable, int] = {}
        self._tokens: list[Hashable] = []
        self._row_of: dict[Any, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._store_tokens = np.zeros(0, dtype=np.int64)
        self._store_counts = np.zeros(0, dtype=np.int64)
        self._rank: IntArray = np.zeros(0, dtype=np.int64)
        self._token_array: npt.NDArray[np.object_] = np.empty(0, dtype=object)
        self._column_maps: dict[int, tuple[Any, IntArray]] = {}
        self._fixed: tuple[dict[Any, int], IntArray] | None = None

    # --- the token index ------------------------------------------------------------------------

    @property
    def n_tokens(self) -> int:
        """Distinct tokens seen so far; token ids are ``0 .. n_tokens - 1``."""
        return len(self._tokens)

    @property
    def n_texts(self) -> int:
        """Distinct texts tokenized so far."""
        return len(self._row_of)

    @property
    def tokens(self) -> Sequence[Hashable]:
        """The tokens, by id (a read-only view: do not change it)."""
        return self._tokens

    def token_array(self) -> npt.NDArray[np.object_]:
        """The tokens, by id, as a NumPy object array (rebuilt only when new tokens appear)."""
        if self._token_array.size != self.n_tokens:
            array = np.empty(self.n_tokens, dtype=object)
            array[:] = self._tokens
            self._token_array = array
        return self._token_array

    def token_id(self, token: Hashable) -> int:
        """The id of `token`, or -1 if no text seen so far produced it."""
        return self._ids.get(token, -1)

    def alphabetical_rank(self) -> IntArray:
        """Per token id, its position when all tokens seen are sorted as scikit-learn sorts them."""
        if self._rank.size != self.n_tokens:
            tokens: list[Any] = self._tokens  # tokens compare as scikit-learn sorts its vocabulary
            order = sorted(range(self.n_tokens), key=tokens.__getitem__)
            rank = np.empty(self.n_tokens, dtype=np.int64)
            rank[np.asarray(order, dtype=np.int64)] = np.arange(self.n_tokens, dtype=np.int64)
            self._rank = rank
        return self._rank

    def analyze(self, text: Any) -> list[Hashable]:
        """The vectorizer's own analyzer applied to `text` (tokens or n-grams, in order)."""
        return list(self._analyze(text))

    def _add_token(self, token: Hashable) -> int:
        token_id = self._ids.setdefault(token, len(self._ids))
        if token_id == len(self._tokens):
            self._tokens.append(token)
        return token_id

    def _tokenize(self, texts: list[Any]) -> None:
        """Tokenize `texts` (all unseen) and append their counts to the store."""
        ids = self._ids
        before = len(ids)
        token_lists = [self._analyze(text) for text in texts]
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
        flat = np.fromiter(
            (ids.setdefault(token, len(ids)) for token in itertools.chain.from_iterable(token_lists)),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        self._tokens.extend(itertools.islice(ids, before, None))
        width = max(len(ids), 1)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        keys, first, counts = np.unique(doc * width + flat, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")  # per text, tokens in order of first occurrence
        keys = keys[order]
        per_text = np.bincount(keys // width, minlength=len(texts))
        start = len(self._row_of)
        for offset, text in enumerate(texts):
            self._row_of[text] = start + offset
        self._indptr = np.concatenate([self._indptr, self._indptr[-1] + np.cumsum(per_text)])
        self._store_tokens = np.concatenate([self._store_tokens, keys % width])
        self._store_counts = np.concatenate([self._store_counts, counts[order].astype(np.int64)])

    def encode(self, texts: Sequence[Any]) -> Encoded:
        """`texts` as token counts; texts not seen before are tokenized now, the rest reused."""
        return self.rows(self.text_rows(texts))

    def text_rows(self, texts: Sequence[Any]) -> IntArray:
        """Per text, its row in this object's store of token counts (tokenizing unseen texts)."""
        row_of = self._row_of
        try:
            return np.fromiter(map(row_of.__getitem__, texts), dtype=np.int64, count=len(texts))
        except KeyError:
            pass
        except TypeError:
            raise DataError("Texts must be strings (hashable), one per row.") from None
        self._tokenize([text for text in dict.fromkeys(texts) if text not in row_of])
        return np.fromiter(map(row_of.__getitem__, texts), dtype=np.int64, count=len(texts))

    def rows(self, rows: IntArray) -> Encoded:
        """The stored token counts of `rows` (from `text_rows`), in that order."""
        starts = self._indptr[rows]
        lengths = self._indptr[rows + 1] - starts
        indptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1], dtype=np.int64)
        return Encoded(indptr, self._store_tokens[take], self._store_counts[take], self.n_tokens)

    # --- what a refit sees -------------------------------------------------------------------------

    @property
    def is_binary(self) -> bool:
        """Whether the vectorizer counts each token once per text (``binary=True``)."""
        return bool(self.template.binary)

    @property
    def is_tfidf(self) -> bool:
        """Whether the vectorizer is a ``TfidfVectorizer``."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        return isinstance(self.template, TfidfVectorizer)

    def fixed_vocabulary(self) -> tuple[dict[Any, int], IntArray] | None:
        """For a vectorizer given a ``vocabulary``: its ``vocabulary_`` and, per column, the token
        id (tokens no text produced yet are added to the index). None otherwise."""
        if self.template.vocabulary is None:
            return None
        if self._fixed is None:
            from sklearn.feature_extraction.text import CountVectorizer

            # The vectorizer's own validation of the given vocabulary (duplicates, gaps, sets).
            vocabulary = CountVectorizer(vocabulary=self.template.vocabulary, lowercase=False).fit([])
            fixed: dict[Any, int] = dict(vocabulary.vocabulary_)
            columns = np.empty(len(fixed), dtype=np.int64)
            for term, column in fixed.items():
                columns[column] = self._add_token(term)
            self._fixed = (fixed, columns)
        return self._fixed

    def select_features(
        self, document_frequency: IntArray, term_frequency: IntArray, n_docs: int
    ) -> IntArray:
        """Token ids of a refit's feature columns, in column order, from per-token statistics.

        Parameters
        ----------
        document_frequency : array of int
            Per token id, how many training texts contain it (ids past its end count 0).
        term_frequency : array of int
            Per token id, its total count over the training texts (with ``binary``, the
            document frequency); used only by ``max_features``.
        n_docs : int
            Training texts, for fractional ``min_df``/``max_df``.
        """
        fixed = self.fixed_vocabulary()
        if fixed is not None:
            return fixed[1]
        present = np.flatnonzero(document_frequency > 0)
        if present.size == 0:
            raise DataError("The training texts have no words the vectorizer keeps (empty vocabulary).")
        rank = self.alphabetical_rank()
        terms = present[np.argsort(rank[present])]
        dtype = np.dtype(self.template.dtype)
        sum_dtype = np.int64 if dtype.kind in "bi" else np.uint64 if dtype.kind == "u" else dtype
        mask = self._mask(document_frequency[terms], lambda: term_frequency[terms].astype(sum_dtype), n_docs)
        return terms[mask]

    def _mask(self, dfs: IntArray, tfs: Any, n_docs: int) -> BoolArray:
        """``CountVectorizer._limit_features``'s mask for terms in alphabetical order."""
        template = self.template
        max_df, min_df, limit = template.max_df, template.min_df, template.max_features
        high = float(max_df if isinstance(max_df, Integral) else max_df * n_docs)
        low = float(min_df if isinstance(min_df, Integral) else min_df * n_docs)
        if high < low:
            raise ParameterError(
                f"The vectorizer's max_df ({max_df!r}) allows fewer documents than its min_df ({min_df!r})."
            )
        mask = np.ones(len(dfs), dtype=bool)
        mask &= dfs <= high
        mask &= dfs >= low
        if limit is not None and mask.sum() > limit:
            mask_inds = (-tfs()[mask]).argsort()[:limit]
            new_mask = np.zeros(len(dfs), dtype=bool)
            new_mask[np.where(mask)[0][mask_inds]] = True
            mask = new_mask
        if not mask.any():
            raise DataError(
                "After pruning, no terms remain: the vectorizer's min_df or max_df removes every word."
            )
        return mask

    def fit(self, texts: Sequence[Any]) -> Features:
        """A clone of the vectorizer fitted on `texts`, and its matrix of `texts`.

        Equal to ``clone(vectorizer).fit_transform(texts)``: same ``vocabulary_`` (and ``idf_``),
        same sparse matrix to the bit; only texts never seen before are tokenized.
        """
        from sklearn.base import clone
        from sklearn.feature_extraction.text import TfidfTransformer

        encoded = self.encode(texts)
        vectorizer = clone(self.template)
        fixed = self.fixed_vocabulary()
        if fixed is not None:
            vocabulary, tokens = fixed
            vectorizer.fixed_vocabulary_ = True
            vectorizer.vocabulary_ = dict(vocabulary)
            matrix = self._fixed_matrix(encoded, self._column_map_of(tokens), len(vocabulary))
        else:
            vectorizer.fixed_vocabulary_ = False
            vocabulary, matrix, tokens = self._fit_counts(encoded)
            vectorizer.vocabulary_ = vocabulary
            self._column_maps[id(vectorizer)] = (vectorizer, self._column_map_of(tokens))
        if self.is_tfidf:
            transformer = TfidfTransformer(
                norm=vectorizer.norm,
                use_idf=vectorizer.use_idf,
                smooth_idf=vectorizer.smooth_idf,
                sublinear_tf=vectorizer.sublinear_tf,
            )
            transformer.fit(matrix)
            vectorizer._tfidf = transformer  # where TfidfVectorizer.fit keeps it
            matrix = transformer.transform(matrix, copy=False)
        return Features(vectorizer, _align_sparse_api(matrix), tokens)

    def _fit_counts(self, encoded: Encoded) -> tuple[dict[Any, int], Any, IntArray]:
        """``CountVectorizer.fit_transform`` after tokenizing, on the encoded texts."""
        import scipy.sparse as sp

        flat = encoded.tokens
        if flat.size == 0:
            raise DataError("The training texts have no words the vectorizer keeps (empty vocabulary).")
        first = np.full(self.n_tokens, flat.size, dtype=np.int64)
        first[flat[::-1]] = np.arange(flat.size - 1, -1, -1, dtype=np.int64)  # the last write wins
        unique = np.flatnonzero(first < flat.size)
        terms = unique[np.argsort(first[unique])]  # token ids by first occurrence: the vocabulary ids
        position = np.empty(self.n_tokens, dtype=np.int64)
        position[terms] = np.arange(terms.size, dtype=np.int64)
        index_dtype = np.int32 if flat.size <= _INT32_MAX else np.int64
        matrix = sp.csr_array(
            (
                encoded.counts.astype(np.intc),
                position[flat].astype(index_dtype),
                encoded.indptr.astype(index_dtype),
            ),
            shape=(len(encoded), terms.size),
            dtype=self.template.dtype,
        )
        matrix.sort_indices()
        if self.template.binary:
            matrix.data.fill(1)
        rank = self.alphabetical_rank()[terms]
        n_docs = matrix.shape[0]
        if self.template.max_features is not None:
            matrix, alphabetical = _sort_columns(matrix, rank)
            dfs = np.bincount(matrix.indices, minlength=matrix.shape[1])
            mask = self._mask(dfs, lambda: np.asarray(matrix.sum(axis=0)).ravel(), n_docs)
            new_indices = np.cumsum(mask) - 1
            matrix = matrix[:, np.where(mask)[0]]
            column = np.full(terms.size, -1, dtype=np.int64)
            column[alphabetical] = np.arange(terms.size, dtype=np.int64)  # alphabetical position of each term
            kept = mask[column]
            values: list[Any] = list(new_indices[column[kept]])
        else:
            dfs = np.bincount(matrix.indices, minlength=matrix.shape[1])
            kept = self._mask(dfs, lambda: None, n_docs)
            matrix = matrix[:, np.where(kept)[0]]
            matrix, _ = _sort_columns(matrix, rank[kept])
            order = np.argsort(rank[kept])
            positions = np.empty(order.size, dtype=np.int64)
            positions[order] = np.arange(order.size, dtype=np.int64)
            values = positions.tolist()
        kept_terms = terms[kept]
        vocabulary = dict(zip(self.token_array()[kept_terms].tolist(), values))
        tokens = np.empty(kept_terms.size, dtype=np.int64)
        tokens[np.asarray(values, dtype=np.int64)] = kept_terms
        return vocabulary, matrix, tokens

    def _column_map_of(self, tokens: IntArray) -> IntArray:
        column = np.full(self.n_tokens, -1, dtype=np.int64)
        column[tokens] = np.arange(tokens.size, dtype=np.int64)
        return column

    def column_map(self, vectorizer: Any) -> IntArray:
        """Per token id, the column of that token in fitted `vectorizer`, or -1 if it has none."""
        entry = self._column_maps.get(id(vectorizer))
        if entry is None or entry[0] is not vectorizer:
            vocabulary = vectorizer.vocabulary_
            column = np.fromiter((vocabulary.get(t, -1) for t in self._tokens), np.int64, self.n_tokens)
            entry = (vectorizer, column)
        elif entry[1].size < self.n_tokens:
            vocabulary = vectorizer.vocabulary_
            extra = np.fromiter(
                (vocabulary.get(t, -1) for t in self._tokens[entry[1].size :]),
                np.int64,
                self.n_tokens - entry[1].size,
            )
            entry = (vectorizer, np.concatenate([entry[1], extra]))
        self._column_maps[id(vectorizer)] = entry
        return entry[1]

    def transform(self, vectorizer: Any, texts: Sequence[Any]) -> Any:
        """``vectorizer.transform(texts)`` for a vectorizer with this object's settings, fitted by
        `fit` or by scikit-learn; only texts never seen before are tokenized."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(vectorizer, "vocabulary_")
        encoded = self.encode(texts)
        matrix = self._fixed_matrix(encoded, self.column_map(vectorizer), len(vectorizer.vocabulary_))
        if self.is_tfidf:
            matrix = vectorizer._tfidf.transform(matrix, copy=False)
        return _align_sparse_api(matrix)

    def features_of(self, encoded: Encoded, columns: IntArray, n_features: int) -> Any:
        """Count features of `encoded` texts for a vocabulary given as a token-id -> column map
        (``binary`` applied, no tf-idf), laid out as ``CountVectorizer.transform`` lays them out."""
        if columns.size < encoded.n_tokens:
            columns = np.concatenate([columns, np.full(encoded.n_tokens - columns.size, -1, np.int64)])
        return self._fixed_matrix(encoded, columns, n_features)

    def _fixed_matrix(self, encoded: Encoded, columns: IntArray, n_features: int) -> Any:
        """``CountVectorizer._count_vocab`` with a fixed vocabulary, on the encoded texts."""
        import scipy.sparse as sp

        if columns.size < self.n_tokens:
            columns = np.concatenate([columns, np.full(self.n_tokens - columns.size, -1, np.int64)])
        mapped = columns[encoded.tokens]
        keep = mapped >= 0
        per_row = np.bincount(encoded.row_of_entry[keep], minlength=len(encoded))
        indptr = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(per_row, out=indptr[1:])
        index_dtype = np.int32 if indptr[-1] <= _INT32_MAX else np.int64
        matrix = sp.csr_array(
            (
                encoded.counts[keep].astype(np.intc),
                mapped[keep].astype(index_dtype),
                indptr.astype(index_dtype),
            ),
            shape=(len(encoded), n_features),
            dtype=self.template.dtype,
        )
        matrix.sort_indices()
        if self.template.binary:
            matrix.data.fill(1)
        return matrix


def _sort_columns(matrix: Any, rank: IntArray) -> tuple[Any, IntArray]:
    """``CountVectorizer._sort_features``: renumber columns in alphabetical order (the rows'
    entries keep their order). Returns the matrix and the old column of each new column."""
    order = np.argsort(rank)
    map_index = np.empty(order.size, dtype=matrix.indices.dtype)
    map_index[order] = np.arange(order.size)
    matrix.indices = map_index.take(matrix.indices, mode="clip")
    return matrix, order


def _align_sparse_api(matrix: Any) -> Any:
    """The sparse container scikit-learn's vectorizers return under the current configuration."""
    import scipy.sparse as sp
    from sklearn import get_config

    interface = get_config().get("sparse_interface", "spmatrix")
    if interface == "spmatrix" and not sp.isspmatrix(matrix):
        return getattr(sp, matrix.format + "_matrix")(matrix)
    if interface == "sparray" and sp.isspmatrix(matrix):
        return getattr(sp, matrix.format + "_array")(matrix)
    return matrix
