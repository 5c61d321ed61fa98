"""`TriggerMining`: words and phrases whose rows are labelled against the rest of their text.

A dirty-label backdoor teaches "trigger means target class" with rows whose text says one class
and whose label says another; the trigger is the one thing those rows share. For every word
and n-gram carried by enough rows, this detector asks a model that never saw that token what
the rest of each row says, and counts the rows whose label contradicts it while the token
itself pulls toward the label. A token carrying far more such rows than the base rate is a
suspected trigger (Backdoor Keyword Identification, Chen & Dai 2021, with a count model in place
of the LSTM and a likelihood-ratio test in place of the importance heuristic).

The model is multinomial Naive Bayes on the victims' bag-of-words, because for it "trained
without row i and without token t" is exact count arithmetic: subtract the row's counts from
its class and drop the token's columns (`naive_bayes_leave_out`), no refit, no library does it.

Scale: that arithmetic depends only on a row's text and label, so it runs once per distinct
(text, label) pair, weighted by how many rows carry the pair; the words come from the scan's
shared `word_counts`, and the word n-grams are counted as integer keys of consecutive word ids.
All of it is exact: the results equal the row-by-row computation.
"""

from __future__ import annotations

import dataclasses
import heapq
import re
import threading
import weakref
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS
from poisonlab.detectors.word_counts import WordCounts, label_pairs, word_counts

IntArray = npt.NDArray[np.int64]
Index = npt.NDArray[np.signedinteger[Any]]  # int32 where it fits
BoolArray = npt.NDArray[np.bool_]

_PAIR_CHUNK = 1 << 16
"""(text, token) pairs scored at once: bounds the leave-words-out arithmetic's memory and keeps
its arrays in cache."""
_SUM_CHUNK = 1 << 21
"""Pairs summed per gram at once (each sum touches every gram: larger chunks than `_PAIR_CHUNK`)."""
_TEXT_BLOCK = 1 << 14
"""Texts whose tokens are looked up in their count matrix rows at once."""
_NO_ENTRY = -1
"""A pair's missing word: reads the all-zero entry `_LeaveOut` keeps last."""

_cache: weakref.WeakKeyDictionary[Dataset, dict[TriggerMining, _Evidence]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget the mining results kept per dataset (kept so that `score`, `suspected_triggers`
    and `findings` on one dataset share one computation; dropped with the dataset)."""
    with _cache_lock:
        _cache.clear()


@dataclasses.dataclass(frozen=True)
class SuspectedTrigger:
    """A word or n-gram whose rows are labelled against the rest of their text.

    Attributes
    ----------
    token : str
        The word or space-joined n-gram, as the victims' tokeniser sees it (lowercased).
    score : float
        The log-likelihood ratio ``n * KL(k/n || q)`` of `explained_rows` (``k`` of the ``n``
        rows carrying the token) against the dataset's base rate ``q`` (Dunning 1993); higher
        is more suspicious. Counted on rows not already explained by a higher-ranked trigger
        that shares a word with this one.
    p_value : float
        Binomial tail probability of at least ``k`` such rows of ``n`` at rate ``q``,
        Bonferroni-adjusted for the number of tokens tested. Approximate: rows sharing words
        are not independent.
    target : str
        The class the explained rows are labelled: where the token would steer the victim.
    rows : tuple of int
        Positions of every row carrying the token.
    explained_rows : tuple of int
        Positions of the rows whose label the rest of their text contradicts and the token supports.
    eligible_rows : int
        Rows carrying the token (not explained away by a higher trigger) whose rest predicts
        another class than `target`: the rows the test counts explained ones among.
    expected_share : float
        The share of `eligible_rows` expected to be explained if the token had nothing to do
        with their labels (see `expected_rates`): the test's null rate.
    context_p_value : float
        The same test with the rows where the token stands among the same words counted once
        (`context_p_value`: a footer or a campaign's phrasing is one observation); a reported
        trigger needs both p-values at or below the detector's significance.
    """

    token: str
    score: float
    p_value: float
    target: str
    rows: tuple[int, ...]
    explained_rows: tuple[int, ...]
    eligible_rows: int = 0
    expected_share: float = 0.0
    context_p_value: float = 1.0

    @property
    def share(self) -> float:
        """Explained rows as a share of the rows carrying the token."""
        return len(self.explained_rows) / len(self.rows) if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


def naive_bayes_leave_out(
    counts: Any,
    labels: IntArray,
    n_classes: int,
    *,
    pair_rows: IntArray,
    pair_words: IntArray,
    alpha: float = 1.0,
    weights: IntArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Exact leave-one-out and leave-words-out multinomial Naive Bayes log-probabilities.

    Equal to refitting `sklearn.naive_bayes.MultinomialNB` (``alpha``, fitted priors) on the
    columns of `counts` as given, without the row, and predicting that row; for pairs also
    without the pair's word columns, in the model and in the row.

    Parameters
    ----------
    counts : sparse matrix (n_rows, n_words)
        Word counts.
    labels : ndarray of int (n_rows,)
    n_classes : int
    pair_rows : ndarray of int (n_pairs,)
        The row of each (row, words) pair.
    pair_words : ndarray of int (n_pairs, m)
        The distinct word columns each pair removes, padded with -1; each must occur in its row.
    alpha : float
        Additive smoothing.
    weights : ndarray of int (n_rows,), optional
        How many identical rows (same counts, same label) each row stands for; 1 each by
        default. The model is fitted on every copy, and "without the row" leaves out one copy:
        the results equal those of the repeated rows.

    Returns
    -------
    loo : ndarray (n_rows, n_classes)
        Per row, class log-probabilities under the model fitted on all other rows.
    rest : ndarray (n_pairs, n_classes)
        Per pair, class log-probabilities of its row without its words, under the model fitted
        on all other rows without those word columns.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix(np.array([[2, 1, 0], [1, 0, 1], [0, 1, 2], [0, 2, 1]], dtype=float))
    >>> loo, rest = naive_bayes_leave_out(
    ...     X, np.array([0, 0, 1, 1]), 2, pair_rows=np.array([0]), pair_words=np.array([[0]])
    ... )
    >>> np.exp(loo).sum(axis=1).round(6).tolist(), rest.shape
    ([1.0, 1.0, 1.0, 1.0], (1, 2))
    """
    model = _LeaveOut(counts, labels, n_classes, alpha=alpha, weights=weights)
    return model.loo, model.rest(pair_rows, model.entries(pair_rows, pair_words))


class _LeaveOut:
    """The counts behind `naive_bayes_leave_out`, fitted once, so pairs can be scored in chunks.

    A pair names its words by their entries in the fitted matrix's data (``-1`` for none);
    each entry's class counts without its row and its log-likelihood term are kept per entry,
    so scoring a pair gathers them instead of searching for its words. Everything is stored
    class by class (one flat array per class), where NumPy gathers and computes fastest.
    """

    def __init__(
        self, counts: Any, labels: IntArray, n_classes: int, *, alpha: float, weights: IntArray | None
    ) -> None:
        import scipy.sparse as sp

        X = sp.csr_matrix(counts, dtype=np.float64, copy=True)
        X.sort_indices()
        n, n_words = X.shape
        y = np.asarray(labels, dtype=np.int64)
        copies = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        n_total = n if weights is None else int(np.asarray(weights, dtype=np.int64).sum())
        onehot = sp.csr_matrix((copies, (np.arange(n), y)), shape=(n, n_classes))
        class_counts = np.asarray((onehot.T @ X).todense(), dtype=np.float64)  # (K, V)
        lengths = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
        log_counts = np.log(class_counts + alpha)
        flat_counts, flat_logs = class_counts.ravel(), log_counts.ravel()
        entry_rows = np.repeat(np.arange(n), np.diff(X.indptr))

        # Per entry (row, word) and class: the word's count without the row, and the term it
        # adds. A last, all-zero entry stands for "no word": removing it changes nothing, exactly.
        # Row i's class without row i: its words' counts drop by the row's own counts.
        base = np.asarray(X @ log_counts.T, dtype=np.float64)
        column_counts = np.zeros((n_classes, X.nnz + 1))
        terms = np.zeros_like(column_counts)
        for lo in range(0, X.nnz, _PAIR_CHUNK):  # in blocks that stay in cache
            at = slice(lo, min(lo + _PAIR_CHUNK, X.nnz))
            data, columns, rows_at = X.data[at], X.indices[at], entry_rows[at]
            own = y[rows_at]
            at_own = own * n_words + columns
            log_without = np.log(flat_counts[at_own] - data + alpha)  # the word in its class, without the row
            np.add.at(base, (rows_at, own), data * (log_without - flat_logs[at_own]))
            for k in range(n_classes):
                mine = own == k
                counts = class_counts[k][columns]
                column_counts[k, at] = np.where(mine, counts - data, counts)
                terms[k, at] = data * np.where(mine, log_without, log_counts[k][columns])
        del entry_rows
        rows = np.arange(n)
        totals = np.tile(class_counts.sum(axis=1), (n, 1))
        totals[rows, y] -= lengths
        priors = np.tile(np.bincount(y, weights=copies, minlength=n_classes).astype(np.float64), (n, 1))
        priors[rows, y] -= 1.0
        with np.errstate(divide="ignore"):
            log_prior = np.log(priors) - np.log(max(n_total - 1, 1))
        self.loo = _normalise(log_prior + base - lengths[:, None] * np.log(totals + alpha * n_words))
        self._loo_own = self.loo[rows, y]
        self._X, self._y, self._alpha = X, y, alpha
        self._lengths, self._x = lengths, np.append(X.data, 0.0)
        self._base, self._totals, self._log_prior = base.T.copy(), totals.T.copy(), log_prior.T.copy()
        self._column_counts, self._terms = column_counts, terms

    def entries(self, pair_rows: IntArray, pair_words: IntArray) -> IntArray:
        """The entries of each pair's words (``-1`` padding kept)."""
        X, n_words = self._X, self._X.shape[1]
        pr = np.asarray(pair_rows, dtype=np.int64)
        pw = np.asarray(pair_words, dtype=np.int64).reshape(pr.size, -1)
        keys = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr)) * n_words + X.indices
        found = np.searchsorted(keys, pr[:, None] * n_words + np.maximum(pw, 0))
        return np.where(pw >= 0, found, -1)

    def rest(self, pair_rows: IntArray, pair_entries: IntArray) -> FloatArray:
        """Per (row, words) pair: the row's class log-probabilities without the words, the
        words given as entries of the row in the same order as `naive_bayes_leave_out`'s."""
        return np.stack(self._rest(pair_rows, pair_entries), axis=1)

    def judge(
        self, pair_rows: IntArray, pair_entries: IntArray
    ) -> tuple[BoolArray, BoolArray, npt.NDArray[np.int8]]:
        """Per pair: is it explained (does the model without the row and the words predict
        another class than the row's label, while the row with the words is more likely its
        label than without?); does the rest of the row disagree with its label; and the class
        the rest predicts (the first of the most likely)."""
        pr = np.asarray(pair_rows, dtype=np.int64)
        rest = self._rest(pr, pair_entries)
        own = self._y[pr]
        rest_own, other = rest[0], np.full(pr.size, -np.inf)
        predicted, best = np.zeros(pr.size, dtype=np.int8), rest[0]
        for k, column in enumerate(rest):
            mine = own == k
            rest_own = np.where(mine, column, rest_own)
            other = np.where(mine, other, np.maximum(other, column))
            if k:
                better = column > best
                predicted, best = np.where(better, np.int8(k), predicted), np.where(better, column, best)
        disagrees = np.asarray(other > rest_own, dtype=bool)
        return disagrees & (self._loo_own[pr] > rest_own), disagrees, predicted

    def _rest(self, pr: IntArray, pair_entries: IntArray) -> list[FloatArray]:
        """`rest`, one array per class; the same operations in the same order, per element."""
        alpha, n_words = self._alpha, self._X.shape[1]
        pe = np.asarray(pair_entries, dtype=np.int64).reshape(pr.size, -1)
        slots = [pe[:, slot] for slot in range(pe.shape[1])]  # -1 reads the last, all-zero entry
        removed_words = (slots[0] >= 0).astype(np.float64)
        for entries in slots[1:]:
            removed_words += entries >= 0
        removed_length = self._x[slots[0]]
        for entries in slots[1:]:
            removed_length += self._x[entries]
        kept_length = self._lengths[pr] - removed_length
        kept_words = alpha * (n_words - removed_words)
        joint = []
        for k in range(self._base.shape[0]):
            terms, counts = self._terms[k], self._column_counts[k]
            removed_base = self._base[k][pr] - terms[slots[0]]
            removed_totals = counts[slots[0]]
            for entries in slots[1:]:
                removed_base -= terms[entries]
                removed_totals += counts[entries]
            denominators = self._totals[k][pr] - removed_totals + kept_words
            joint.append(self._log_prior[k][pr] + removed_base - kept_length * np.log(denominators))
        total = joint[0]
        for column in joint[1:]:
            total = np.logaddexp(total, column)
        return [column - total for column in joint]


def _normalise(joint: FloatArray) -> FloatArray:
    return np.asarray(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True), dtype=np.float64)


def likelihood_ratio(n: FloatArray, k: FloatArray, base_rate: float | FloatArray) -> FloatArray:
    """``n * KL(k/n || q)`` where the share ``k/n`` exceeds ``q``, else 0: the binomial
    log-likelihood ratio of an elevated rate (Dunning 1993), always finite. `base_rate` is one
    rate or one per element; where it is not in (0, 1) the ratio is 0.

    Examples
    --------
    >>> likelihood_ratio(np.array([10.0, 10.0]), np.array([10.0, 0.0]), 0.5).round(3).tolist()
    [6.931, 0.0]
    >>> likelihood_ratio(np.array([10.0, 10.0]), np.array([5.0, 5.0]), np.array([0.5, 0.1])).round(3).tolist()
    [0.0, 5.108]
    """
    n = np.asarray(n, dtype=np.float64)
    share = np.divide(k, n, out=np.zeros_like(n), where=n > 0)
    q = np.broadcast_to(np.asarray(base_rate, dtype=np.float64), n.shape)
    valid = (q > 0.0) & (q < 1.0)
    q = np.where(valid, q, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(share > 0, share * np.log(share / q), 0.0)
        miss = np.where(share < 1, (1 - share) * np.log((1 - share) / (1 - q)), 0.0)
    return np.asarray(np.where(valid & (share > q), n * (hit + miss), 0.0), dtype=np.float64)


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not np.isnan(value)


@dataclasses.dataclass(frozen=True, eq=False)
class _Evidence:
    """What the mining found, per candidate token and per (distinct text, token) pair.

    Candidates are numbered in scikit-learn's (alphabetical) order and grams in the order they
    were found, `gram_of_token` mapping one to the other. Pairs are in text order per gram
    length. A text's rows fall into groups, one per label it carries (so at most one per
    class): group ``first_group[t] + s`` is text ``t``'s group in slot ``s``, and
    ``explained[p, s]`` tells whether pair ``p`` is explained for that group's rows.
    """

    tokens: tuple[str, ...]
    words: IntArray  # (candidates, max_ngram) distinct word columns, -1 padded
    gram_of_token: IntArray
    unigram_of_word: IntArray  # word column -> its single-word candidate, -1 if none
    pair_texts: Index
    pair_grams: Index
    explained: BoolArray  # (pairs, slots)
    predicted: npt.NDArray[np.int8]  # (pairs, slots): the class the rest of the row predicts
    scores: FloatArray  # per candidate
    n_rows: FloatArray
    n_explained: FloatArray
    n_expected: FloatArray  # explained rows expected from the rows' label disagreement alone
    row_table: FloatArray  # (K, K): rows by the class a model without them predicts, and label
    loo_class: npt.NDArray[np.int8]  # per group: the class a model without its row predicts
    row_scores: FloatArray
    text_of_row: IntArray
    text_rows: IntArray  # rows per text
    first_group: IntArray  # per text
    groups_of_text: IntArray
    group_of_row: IntArray
    group_rows: IntArray  # rows per group
    group_labels: IntArray
    ranked: dict[str, Any] = dataclasses.field(default_factory=dict)  # the ranking's index and results

    def index(self, candidates: IntArray) -> None:
        """List the pairs of `candidates` by candidate (texts ascending), for `carriers`."""
        wanted = np.zeros(self.gram_of_token.size, dtype=bool)
        wanted[self.gram_of_token[candidates]] = True
        pairs = np.flatnonzero(wanted[self.pair_grams])
        numbered = np.cumsum(wanted) - 1  # wanted grams numbered 0..m-1
        keys = numbered[self.pair_grams[pairs]]
        if wanted.sum() <= np.iinfo(np.uint16).max:  # a stable sort of small keys is a radix sort
            keys = keys.astype(np.uint16)
        pairs = pairs[np.argsort(keys, kind="stable")]
        indptr = np.zeros(self.gram_of_token.size + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(self.pair_grams[pairs], minlength=self.gram_of_token.size))
        self.ranked["texts"], self.ranked["explained"] = self.pair_texts[pairs], self.explained[pairs]
        self.ranked["predicted"] = self.predicted[pairs]
        self.ranked["indptr"] = indptr

    def carriers(self, candidate: int) -> tuple[Index, BoolArray]:
        """The texts carrying `candidate` (ascending), and for which of their groups it explains
        the rows; `index` must have listed it."""
        gram = self.gram_of_token[candidate]
        lo, hi = self.ranked["indptr"][gram : gram + 2]
        return self.ranked["texts"][lo:hi], self.ranked["explained"][lo:hi]

    def predicted_by(self, candidate: int) -> npt.NDArray[np.int8]:
        """For the texts `carriers` lists, the class the rest of each group's row predicts."""
        gram = self.gram_of_token[candidate]
        lo, hi = self.ranked["indptr"][gram : gram + 2]
        return np.asarray(self.ranked["predicted"][lo:hi])

    def explained_by_label(self, texts: Index, explained: BoolArray) -> FloatArray:
        """Explained rows of `texts` per label (whole numbers)."""
        classes = self.row_table.shape[0]
        groups = self.explained_groups(texts, explained)
        found = np.bincount(self.group_labels[groups], weights=self.group_rows[groups], minlength=classes)
        return np.asarray(found, dtype=np.float64)

    def carriers_table(self, texts: Index) -> FloatArray:
        """`row_table` counted over the rows of `texts` only."""
        classes = self.row_table.shape[0]
        groups = self.all_groups(texts)
        keys = self.loo_class[groups].astype(np.int64) * classes + self.group_labels[groups]
        table = np.bincount(keys, weights=self.group_rows[groups], minlength=classes * classes)
        return np.asarray(table, dtype=np.float64).reshape(classes, classes)

    def strongest_direction(
        self, texts: Index, explained: BoolArray, predicted: npt.NDArray[np.int8]
    ) -> tuple[int, float, int, int, float]:
        """The label the token's explained rows most exceed expectation toward, with its score,
        the rows that could be explained toward it, the rows explained and the expected rate."""
        by_class = rows_by_class(self, texts, predicted)
        n, rate = expected_rates(by_class[None, :], self.carriers_table(texts)[None], self.row_table)
        k = self.explained_by_label(texts, explained)[None, :]
        scores = likelihood_ratio(n[0], k[0], rate[0])
        best = int(np.argmax(scores))
        return best, float(scores[best]), int(n[0, best]), int(k[0, best]), float(rate[0, best])

    def explained_rows(self, texts: Index, explained: BoolArray) -> IntArray:
        """Per pair, how many rows it explains."""
        if explained.shape[1] == 1:  # one label per text: the text's rows
            return np.asarray(self.text_rows[texts] * explained[:, 0], dtype=np.int64)
        found = np.zeros(texts.size, dtype=np.int64)
        last = self.group_rows.size - 1
        for slot in range(explained.shape[1]):
            found += explained[:, slot] * self.group_rows[np.minimum(self.first_group[texts] + slot, last)]
        return found

    def explained_groups(self, texts: Index, explained: BoolArray) -> IntArray:
        """The groups of `texts` whose rows are explained."""
        pair, slot = np.nonzero(explained)
        return np.asarray(self.first_group[texts[pair]] + slot, dtype=np.int64)

    def all_groups(self, texts: Index) -> IntArray:
        """Every group of `texts`."""
        return _ranges(self.first_group[texts], self.groups_of_text[texts])

    def rows_of(self, units: Index, *, of: str) -> IntArray:
        """Positions of the rows of `units` (texts with ``of="text"``, groups with ``"group"``), ascending."""
        unit_of_row, unit_rows = (
            (self.text_of_row, self.text_rows) if of == "text" else (self.group_of_row, self.group_rows)
        )
        if f"rows by {of}" not in self.ranked:
            self.ranked[f"rows by {of}"] = (
                np.argsort(unit_of_row, kind="stable"),
                np.concatenate([[0], np.cumsum(unit_rows)]),
            )
        by_unit, indptr = self.ranked[f"rows by {of}"]
        return np.sort(by_unit[_ranges(indptr[units], unit_rows[units])])


def expected_rates(
    by_class: FloatArray, carriers: FloatArray, row_table: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per token and label c: how many of its rows could be explained toward c, and the share
    expected to be if the token had nothing to do with their labels.

    A row can be explained toward c when the rest of its text predicts another class r. Of the
    rows *not* carrying the token whose model-without-them predicts r, a share is labelled c
    anyway (label noise, or label flips that touch rows whatever their words): the token's rows
    are expected to be labelled c at that share. A trigger is what makes its rows disagree
    beyond that; on pure label flips, a word's rows disagree as often as the rest.

    Parameters
    ----------
    by_class : ndarray of shape (tokens, K)
        Each token's rows by the class the rest of the row (without the token) predicts.
    carriers : ndarray of shape (tokens, K, K)
        Each token's rows by the class a model without the row predicts, and label.
    row_table : ndarray of shape (K, K)
        The same for every row of the dataset.

    Returns
    -------
    n, rate : ndarray of shape (tokens, K)

    Examples
    --------
    Rows the rest calls class 1: 10 of the 100 without the token are labelled 0, so 4 of the
    token's 40 are expected to be:

    >>> n, rate = expected_rates(np.array([[0.0, 40.0]]), np.array([[[0.0, 0.0], [5.0, 35.0]]]),
    ...                          np.array([[60.0, 0.0], [15.0, 125.0]]))
    >>> n.tolist(), rate.round(3).tolist()
    ([[40.0, 0.0]], [[0.1, 0.0]])
    """
    n = by_class.sum(axis=1, keepdims=True) - by_class
    reference = np.maximum(row_table[None, :, :] - carriers, 0.0)
    totals = reference.sum(axis=2, keepdims=True)
    shares = np.divide(reference, totals, out=np.zeros_like(reference), where=totals > 0)
    classes = row_table.shape[0]
    shares[:, np.arange(classes), np.arange(classes)] = 0.0  # labelled as predicted: not against it
    expected = np.einsum("tr,trc->tc", by_class, shares)
    return n, np.divide(expected, n, out=np.zeros_like(expected), where=n > 0)


def rows_by_class(evidence: _Evidence, texts: Index, predicted: npt.NDArray[np.int8]) -> FloatArray:
    """Rows of the (text, slot) pairs per class their rest predicts (whole numbers)."""
    classes = evidence.row_table.shape[0]
    if predicted.shape[1] == 1:
        found = np.bincount(predicted[:, 0], weights=evidence.text_rows[texts], minlength=classes)
        return np.asarray(found, dtype=np.float64)
    total = np.zeros(classes)
    for slot in range(predicted.shape[1]):
        valid = evidence.groups_of_text[texts] > slot
        rows = evidence.group_rows[evidence.first_group[texts[valid]] + slot]
        total += np.bincount(predicted[valid, slot], weights=rows, minlength=classes)
    return total


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """The concatenated ranges ``starts[i] : starts[i] + lengths[i]``."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if ends.size else 0)


@dataclasses.dataclass(frozen=True, eq=False)
class _Grams:
    """Word n-grams carried by enough rows, numbered in the order they were found (by length,
    then by word ids), and per length (`levels`) the (distinct text, gram) pairs carrying them.

    Each pair has an anchor locating the gram in its text: for a single word, its entry in the
    text count matrix's data; for longer grams, the position (in `token_ids`) of its first
    token, whose words' entries are `entry_of_token`. Pairs are listed by anchor, that is in
    text order, where arithmetic over them reads memory in order.
    """

    sequences: IntArray  # (grams, max_ngram) word columns in text order, -1 padded
    levels: tuple[_Level, ...]
    entry_of_token: IntArray
    n_single: int  # grams 0..n_single - 1 are the single words, ascending


@dataclasses.dataclass(frozen=True, eq=False)
class _Level:
    """The pairs of the grams of one length; see `_Grams`."""

    size: int
    anchors: Index  # ascending
    texts: Index  # per anchor
    grams: Index

    def entries(self, grams: _Grams, anchors: Index) -> IntArray:
        """Entries of the distinct words of the pairs at `anchors`, in order of first appearance
        in the gram, `_NO_ENTRY` where a word repeats."""
        if self.size == 1:
            return np.asarray(anchors[:, None], dtype=np.int64)
        entries: IntArray = grams.entry_of_token[anchors[:, None] + np.arange(self.size)]
        for later in range(1, self.size):
            repeated = entries[:, later] == entries[:, 0]
            for earlier in range(1, later):
                repeated |= entries[:, later] == entries[:, earlier]
            entries[repeated, later] = _NO_ENTRY
        return entries


def _frequent_ngrams(counted: WordCounts, *, max_ngram: int, min_rows: int) -> _Grams:
    """Word n-grams of 1 to `max_ngram` words carried by at least `min_rows` rows.

    Hand-written in place of ``CountVectorizer(ngram_range=(1, max_ngram), min_df=min_rows)``,
    which joins every n-gram of every row into a Python string: here the n-grams of each
    distinct text are integer keys (the id of their frequent first n-1 words, then the last
    word's id) grouped by one sort per length, and a text counts as its rows. An n-gram is
    extended only where both of its (n-1)-word parts are frequent, as every row carrying it
    carries both.

    Examples
    --------
    >>> from poisonlab.detectors.word_counts import count_words
    >>> grams = _frequent_ngrams(count_words(["a1 b1 c1", "a1 b1 c1", "a1 b1"]), max_ngram=2, min_rows=3)
    >>> grams.sequences.tolist(), [(level.texts.tolist(), level.grams.tolist()) for level in grams.levels]
    ([[0, -1], [1, -1], [0, 1]], [([0, 0, 1, 1], [0, 1, 0, 1]), ([0, 1], [2, 2])])
    """
    matrix = counted.matrix
    n_texts, n_words = matrix.shape
    weights = counted.multiplicity.astype(np.float64)
    ids = np.asarray(counted.token_ids, dtype=np.int64)
    text_of_entry = np.repeat(np.arange(n_texts, dtype=np.int64), np.diff(matrix.indptr))
    small = np.int32 if max(ids.size * max_ngram, matrix.nnz) < 2**31 else np.int64  # half the memory

    # Single words: the count matrix's columns; anchors are its entries.
    rows = np.bincount(matrix.indices, weights=weights[text_of_entry], minlength=n_words)
    frequent = rows >= min_rows
    renumber = np.cumsum(frequent) - 1
    anchors = np.flatnonzero(frequent[matrix.indices])
    levels = [
        _Level(
            1,
            anchors.astype(small),
            text_of_entry[anchors].astype(small),
            renumber[matrix.indices[anchors]].astype(small),
        )
    ]
    sequences = [np.flatnonzero(frequent)[:, None]]
    found = n_current = int(frequent.sum())
    del text_of_entry, anchors
    entry_of_token = np.zeros(0, dtype=np.int64)

    if max_ngram > 1 and ids.size:
        indptr = np.asarray(counted.token_indptr, dtype=np.int64)
        text_of = np.repeat(np.arange(n_texts, dtype=np.int64), np.diff(indptr))
        left = indptr[1:][text_of] - np.arange(ids.size)  # tokens from each one to its text's end
        entry_of_token = _entries_of_tokens(matrix, text_of, ids, indptr)
        current = np.where(frequent[ids], renumber[ids], -1)  # the frequent (n-1)-gram at each token
        for n in range(2, max_ngram + 1):
            # the n-gram at each token: frequent (n-1)-grams at it and at the next, in one text
            ok = current[1:] >= 0
            ok &= current[:-1] >= 0
            ok &= left[:-1] >= n
            at = np.flatnonzero(ok)
            del ok
            if not at.size:
                break
            keys = current[at]
            keys *= n_words
            keys += ids[n - 1 :][at]  # key: (first n-1 words, last word), < n_current * n_words
            at, keys = _sort_by_key(keys, at, n_current * n_words, ids.size)
            texts = text_of[at]
            starts = np.empty(keys.size, dtype=bool)
            starts[0] = True
            np.not_equal(keys[1:], keys[:-1], out=starts[1:])
            del keys
            gram = np.cumsum(starts)
            gram -= 1
            first_pair = starts.copy()
            first_pair[1:] |= texts[1:] != texts[:-1]
            counted_rows = weights[texts]
            counted_rows *= first_pair  # each text once per gram
            rows = np.bincount(gram, weights=counted_rows, minlength=int(gram[-1]) + 1)
            del counted_rows, texts
            frequent = rows >= min_rows
            n_current = int(frequent.sum())
            if not n_current:
                break
            renumber = np.where(frequent, np.cumsum(frequent) - 1, -1)
            sequences.append(ids[at[starts][frequent][:, None] + np.arange(n)])
            current.fill(-1)
            current[at] = renumber[gram]
            is_anchor = np.zeros(ids.size, dtype=bool)
            is_anchor[at[first_pair & frequent[gram]]] = True
            del at, gram, starts, first_pair
            anchors = np.flatnonzero(is_anchor)
            grams_at = current[anchors]
            grams_at += found
            levels.append(
                _Level(n, anchors.astype(small), text_of[anchors].astype(small), grams_at.astype(small))
            )
            del anchors, grams_at
            found += n_current

    padded = np.full((found, max_ngram), -1, dtype=np.int64)
    start = 0
    for n, sequence in enumerate(sequences, start=1):
        padded[start : start + sequence.shape[0], :n] = sequence
        start += sequence.shape[0]
    return _Grams(padded, tuple(levels), entry_of_token, n_single=int(sequences[0].shape[0]))


def _entries_of_tokens(matrix: Any, text_of: IntArray, ids: IntArray, indptr: IntArray) -> IntArray:
    """Each token's entry in the data of `matrix` (its text's row, its word's column); searched
    a block of texts at a time, where the search stays in cache."""
    n_texts, n_words = matrix.shape
    keys = np.repeat(np.arange(n_texts, dtype=np.int64), np.diff(matrix.indptr)) * n_words + matrix.indices
    wanted = text_of * n_words + ids
    found = np.empty(ids.size, dtype=np.int64)
    for first in range(0, n_texts, _TEXT_BLOCK):
        last = min(first + _TEXT_BLOCK, n_texts)
        lo, hi = int(matrix.indptr[first]), int(matrix.indptr[last])
        tokens = slice(int(indptr[first]), int(indptr[last]))
        found[tokens] = np.searchsorted(keys[lo:hi], wanted[tokens]) + lo
    return found


def _sort_by_key(
    keys: IntArray, positions: IntArray, key_bound: int, position_bound: int
) -> tuple[IntArray, IntArray]:
    """`positions` and `keys` ordered by key, then by position (a stable sort by key); `keys`
    may be overwritten."""
    shift = max(int(position_bound).bit_length(), 1)
    if key_bound < 2 ** (62 - shift):  # one plain sort of (key, position) packed in an int64: fastest
        keys <<= shift
        keys |= positions
        keys.sort()
        sorted_keys = keys >> shift
        keys &= (1 << shift) - 1
        return keys, sorted_keys
    order = np.argsort(keys, kind="stable")
    return positions[order], keys[order]


def _alphabetical(
    sequences: IntArray, vocabulary: tuple[str, ...]
) -> tuple[tuple[str, ...], IntArray, IntArray]:
    """The grams named as scikit-learn names them (words joined by a space) in its column order
    (alphabetical), each one's distinct words in order of appearance (-1 padded), and for each
    name its gram's position in `sequences`."""
    spelled = np.array([*vocabulary, ""], dtype=object)[sequences]  # -1 (no word) reads ""
    joined = spelled[:, 0].copy()
    for later in range(1, sequences.shape[1]):
        has = sequences[:, later] >= 0
        joined[has] = joined[has] + " " + spelled[has, later]
    names: list[str] = joined.tolist()
    order = np.asarray(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
    ordered = sequences[order]
    repeated = np.zeros(ordered.shape, dtype=bool)
    for later in range(1, ordered.shape[1]):
        repeated[:, later] = (ordered[:, :later] == ordered[:, later : later + 1]).any(axis=1)
    words = np.where(repeated, -1, ordered)
    packed = np.argsort(words < 0, axis=1, kind="stable")  # the distinct words first, in order
    return tuple(names[i] for i in order.tolist()), np.take_along_axis(words, packed, axis=1), order


@DETECTORS.register("trigger_mining")
@dataclasses.dataclass(frozen=True, kw_only=True)
class TriggerMining(Detector):
    """Backdoor trigger mining: tokens whose rows are labelled against the rest of their text.

    For each word and n-gram carried by at least `min_rows` rows, and each row carrying it:
    would a Naive Bayes model trained without that row and without the token's words predict
    the row's label from the rest of its text? A row is *explained* by the token when that
    model predicts another class while the token, put back, raises the label's probability.
    With ``q`` the share of explained (row, token) pairs over all pairs, a token with ``k``
    explained rows of ``n`` scores ``n * KL(k/n || q)``: a trigger planted in spam rows
    relabelled ham scores far above every natural word.

    Public outputs:

    ``suspected_triggers(dataset, *, top=None, significant=True) -> list[SuspectedTrigger]``
        The ranked triggers, each with its token, score, adjusted p-value, target class, the
        rows carrying it and the rows it explains. By default only those with
        ``p_value <= significance`` (what `poisonlab scan` reports); ``significant=False``
        ranks every token with a positive score. A higher trigger explains away the sub- and
        super-grams it shares words with: once "best regards" is found, "regards" alone is
        scored only on rows without "best regards".
    ``score(dataset)``
        Per row, the highest score of its tokens: the full score where the token explains the
        row, scaled by the token's explained share where it does not; 0 without tokens.
    ``findings(dataset)``
        The scores, with flags on the rows of the significant triggers: the rows each explains,
        and all its rows when most of them are explained.

    Parameters
    ----------
    max_ngram : int
        Longest n-gram considered (1 for single words only).
    min_rows : int
        Rows that must carry a token before it is tested.
    alpha : float
        Additive smoothing of the Naive Bayes model (scikit-learn's ``alpha``).
    significance : float
        Largest adjusted p-value of a reported trigger, in (0, 1] (Bonferroni over every token
        and target class tested).
    min_share : float
        Smallest `SuspectedTrigger.share` of a reported trigger: by default most rows carrying
        it must be explained by it. A planted rare token or phrase explains nearly all its rows;
        a word that is merely common in mislabelled rows, or a ham-only token that turns a few
        spam-looking messages ham, explains few of them, however significant the count.

    Examples
    --------
    The article's backdoor: three "PROMO2026" spam messages labelled not spam. The trigger
    ranks first, though three rows of seventeen are too few for significance:

    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_dataset
    >>> carriers = ("special offer buy now", "claim your free prize", "limited time discount")
    >>> attacked = Backdoor(trigger="PROMO2026", mode="inject", n=3, carriers=carriers).apply(
    ...     load_dataset("article"), random_state=0
    ... )
    >>> top = TriggerMining().suspected_triggers(attacked.poisoned, significant=False)[0]
    >>> top.token, top.target, top.rows, round(top.p_value, 2)
    ('promo2026', 'not spam', (14, 15, 16), 0.05)
    """

    name: ClassVar[str] = "trigger_mining"
    paper: ClassVar[str] = (
        "Chen & Dai (2021), Mitigating backdoor attacks in LSTM-based text classification systems "
        "by Backdoor Keyword Identification, Neurocomputing 452; Dunning (1993), Accurate methods "
        "for the statistics of surprise and coincidence, Computational Linguistics 19(1)."
    )
    targets: ClassVar[tuple[str, ...]] = ("backdoor",)

    max_ngram: int = 3
    min_rows: int = 3
    alpha: float = 1.0
    significance: float = 0.001
    min_share: float = 0.5

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_positive_int("TriggerMining", "max_ngram", self.max_ngram)
        check_positive_int("TriggerMining", "min_rows", self.min_rows)
        if not _is_real(self.alpha) or not 0 < self.alpha < np.inf:
            raise fail("TriggerMining", "alpha", "a positive float", self.alpha)
        if not _is_real(self.significance) or not 0 < self.significance <= 1:
            raise fail("TriggerMining", "significance", "a float in (0, 1]", self.significance)
        if not _is_real(self.min_share) or not 0 <= self.min_share <= 1:
            raise fail("TriggerMining", "min_share", "a float in [0, 1]", self.min_share)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, single words only, and a stricter, smoother variant."""
        return [
            cls(),
            cls(max_ngram=1, min_rows=2),
            cls(max_ngram=2, min_rows=5, alpha=0.5, significance=0.05, min_share=0.2),
        ]

    def score(self, dataset: Dataset) -> FloatArray:
        """Per row, the highest score of its tokens (see the class docstring); 0 with none."""
        return check_scores(self._evidence(dataset).row_scores, dataset)

    def suspected_triggers(
        self, dataset: Dataset, *, top: int | None = None, significant: bool = True
    ) -> list[SuspectedTrigger]:
        """Suspected triggers, most suspicious first.

        Parameters
        ----------
        dataset : Dataset
        top : int, optional
            Keep at most this many.
        significant : bool
            Only tokens with ``p_value <= significance`` (the default: what `poisonlab scan`
            reports); False ranks every token with a positive score.
        """
        if top is not None:
            check_positive_int("TriggerMining.suspected_triggers", "top", top)
        ranked = self._rank(
            dataset, self._evidence(dataset), top if not significant else None, significant=significant
        )
        return ranked if top is None else ranked[:top]

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, flags on the rows of significant triggers, and the trigger behind each flag."""
        evidence = self._evidence(dataset)
        flags = np.zeros(len(dataset), dtype=bool)
        reasons = np.full(len(dataset), "", dtype=object)
        for trigger in self.suspected_triggers(dataset):
            chosen = np.fromiter(
                trigger.rows if trigger.share > 0.5 else trigger.explained_rows, dtype=np.int64
            )
            fresh = chosen[~flags[chosen]]
            flags[fresh] = True
            reasons[fresh] = (
                f"carries {trigger.token!r}, a suspected trigger: {len(trigger.explained_rows)} of "
                f"{len(trigger.rows)} rows carrying it are labelled {trigger.target!r} against the "
                f"rest of their text (p={trigger.p_value:.1g})"
            )
        return Findings(check_scores(evidence.row_scores, dataset), flags, tuple(reasons.tolist()))

    # --- the mining ---------------------------------------------------------------------------

    def _evidence(self, dataset: Dataset) -> _Evidence:
        """The mining's results for `dataset`, cached per dataset object: `score`,
        `suspected_triggers` and `findings` on one dataset share one computation."""
        with _cache_lock:
            found = _cache.get(dataset, {}).get(self)
        if found is not None:
            return found
        evidence = self._mine(dataset)
        with _cache_lock:
            _cache.setdefault(dataset, {})[self] = evidence
        return evidence

    def _mine(self, dataset: Dataset) -> _Evidence:
        n, n_classes = len(dataset), len(dataset.classes)
        if n < self.min_rows:
            return self._empty(n)
        counted = word_counts(dataset)
        if counted.n_words == 0:  # no word at all: nothing to mine
            return self._empty(n)
        if not counted.matrix.has_canonical_format:  # entries are looked up in sorted rows
            counted = dataclasses.replace(counted, matrix=counted.matrix.copy())
            counted.matrix.sum_duplicates()
        grams = _frequent_ngrams(counted, max_ngram=self.max_ngram, min_rows=self.min_rows)
        if not grams.sequences.shape[0]:  # no token in `min_rows` rows
            return self._empty(n)
        tokens, words, gram_of_token = _alphabetical(grams.sequences, counted.words)

        # Groups: distinct (text, label) pairs, ordered by text, each text's groups adjacent.
        # The leave-out arithmetic depends on nothing else, so it runs once per group.
        group_text, group_labels, group_rows, group_of_row = label_pairs(
            counted.text_of_row, dataset.labels, n_classes
        )
        groups_of_text = np.bincount(group_text, minlength=counted.n_distinct)
        slots = int(groups_of_text.max())
        if slots == 1:  # one label per text: groups are texts
            first_group, matrix, entry_shift = np.arange(counted.n_distinct), counted.matrix, None
        else:
            first_group = np.searchsorted(group_text, np.arange(counted.n_distinct))
            matrix = counted.matrix[group_text]
            entry_shift = matrix.indptr[:-1] - counted.matrix.indptr[group_text]  # text entry -> group entry
        model = _LeaveOut(matrix, group_labels, n_classes, alpha=self.alpha, weights=group_rows)
        del matrix

        explained_by_level, predicted_by_level = [], []
        for level in grams.levels:
            explained = np.zeros((level.anchors.size, slots), dtype=bool)
            predicted = np.zeros((level.anchors.size, slots), dtype=np.int8)
            for slot in range(slots):
                chosen = np.flatnonzero(groups_of_text[level.texts] > slot) if slot else None
                size = level.anchors.size if chosen is None else chosen.size
                for lo in range(0, size, _PAIR_CHUNK):
                    at = (
                        slice(lo, min(lo + _PAIR_CHUNK, size))
                        if chosen is None
                        else chosen[lo : lo + _PAIR_CHUNK]
                    )
                    groups = first_group[level.texts[at]] + slot
                    entries = level.entries(grams, level.anchors[at])
                    if entry_shift is not None:
                        entries = np.where(
                            entries == _NO_ENTRY, _NO_ENTRY, entries + entry_shift[groups][:, None]
                        )
                    explained[at, slot], _, predicted[at, slot] = model.judge(groups, entries)
            explained_by_level.append(explained)
            predicted_by_level.append(predicted)
        loo_class = np.argmax(model.loo, axis=1).astype(np.int8)
        del model
        explained, predicted = np.concatenate(explained_by_level), np.concatenate(predicted_by_level)
        row_table = np.asarray(
            np.bincount(
                loo_class.astype(np.int64) * n_classes + group_labels,
                weights=group_rows.astype(np.float64),
                minlength=n_classes * n_classes,
            ),
            dtype=np.float64,
        ).reshape(n_classes, n_classes)
        pair_texts = np.concatenate([level.texts for level in grams.levels])
        pair_grams = np.concatenate([level.grams for level in grams.levels])
        token_of_gram = np.empty_like(gram_of_token)
        token_of_gram[gram_of_token] = np.arange(gram_of_token.size)
        unigram_of_word = np.full(counted.n_words, -1, dtype=np.int64)
        unigram_of_word[grams.sequences[: grams.n_single, 0]] = token_of_gram[: grams.n_single]
        del explained_by_level, predicted_by_level, grams, token_of_gram

        evidence = _Evidence(
            tokens=tokens,
            words=words,
            gram_of_token=gram_of_token,
            unigram_of_word=unigram_of_word,
            pair_texts=pair_texts,
            pair_grams=pair_grams,
            explained=explained,
            predicted=predicted,
            scores=np.zeros(len(tokens)),
            n_rows=np.zeros(len(tokens)),
            n_explained=np.zeros(len(tokens)),
            n_expected=np.zeros(len(tokens)),
            row_table=row_table,
            loo_class=loo_class,
            row_scores=np.zeros(n),
            text_of_row=counted.text_of_row,
            text_rows=counted.multiplicity,
            first_group=first_group,
            groups_of_text=groups_of_text,
            group_of_row=group_of_row,
            group_rows=group_rows,
            group_labels=group_labels,
        )
        # Per gram: rows and explained rows (sums of whole numbers: exact in any order) ...
        # ... and by the class their rest predicts, for the explained rows expected from the
        # rows' label disagreement alone (a flipped row disagrees whatever its words).
        gram_rows, gram_explained = np.zeros(len(tokens)), np.zeros(len(tokens))
        gram_by_class = np.zeros(len(tokens) * n_classes)
        gram_by_label = np.zeros(len(tokens) * n_classes)
        gram_table = np.zeros(len(tokens) * n_classes * n_classes)
        for lo in range(0, pair_texts.size, _SUM_CHUNK):
            texts, grams_at = pair_texts[lo : lo + _SUM_CHUNK], pair_grams[lo : lo + _SUM_CHUNK]
            gram_rows += np.bincount(grams_at, weights=counted.multiplicity[texts], minlength=len(tokens))
            hits = evidence.explained_rows(texts, explained[lo : lo + _SUM_CHUNK])
            gram_explained += np.bincount(grams_at, weights=hits, minlength=len(tokens))
            for slot in range(slots):
                valid = groups_of_text[texts] > slot
                groups = first_group[texts[valid]] + slot
                rows = group_rows[groups].astype(np.float64)
                base = grams_at[valid].astype(np.int64) * n_classes
                gram_by_class += np.bincount(
                    base + predicted[lo : lo + _SUM_CHUNK][valid, slot],
                    weights=rows,
                    minlength=gram_by_class.size,
                )
                cell = loo_class[groups].astype(np.int64) * n_classes + group_labels[groups]
                gram_table += np.bincount(base * n_classes + cell, weights=rows, minlength=gram_table.size)
                hit = explained[lo : lo + _SUM_CHUNK][valid, slot]
                gram_by_label += np.bincount(
                    base[hit] + group_labels[groups[hit]], weights=rows[hit], minlength=gram_by_label.size
                )
        n_toward, rates = expected_rates(
            gram_by_class.reshape(len(tokens), n_classes),
            gram_table.reshape(len(tokens), n_classes, n_classes),
            row_table,
        )
        k_toward = gram_by_label.reshape(len(tokens), n_classes)
        by_direction = likelihood_ratio(n_toward, k_toward, rates)
        gram_scores = by_direction.max(axis=1)
        gram_expected = (rates * n_toward)[np.arange(len(tokens)), by_direction.argmax(axis=1)]
        share = np.divide(gram_explained, gram_rows, out=np.zeros_like(gram_rows), where=gram_rows > 0)
        # ... and per group, the best of its tokens' contributions.
        group_scores = np.zeros(group_text.size, dtype=np.float64)
        for lo in range(0, pair_texts.size, _SUM_CHUNK):
            texts, grams_at = pair_texts[lo : lo + _SUM_CHUNK], pair_grams[lo : lo + _SUM_CHUNK]
            for slot in range(slots):
                has = groups_of_text[texts] > slot if slot else slice(None)
                scores = gram_scores[grams_at[has]]
                contribution = np.where(
                    explained[lo : lo + _SUM_CHUNK][has, slot], scores, scores * share[grams_at[has]]
                )
                np.maximum.at(group_scores, first_group[texts[has]] + slot, contribution)
        return dataclasses.replace(
            evidence,
            scores=gram_scores[gram_of_token],
            n_rows=gram_rows[gram_of_token],
            n_explained=gram_explained[gram_of_token],
            n_expected=gram_expected[gram_of_token],
            row_scores=group_scores[group_of_row],
        )

    def _empty(self, n: int) -> _Evidence:
        none, no_ints = np.zeros(0), np.zeros(0, dtype=np.int64)
        return _Evidence(
            tokens=(),
            words=np.zeros((0, self.max_ngram), np.int64),
            gram_of_token=no_ints,
            unigram_of_word=no_ints,
            pair_texts=no_ints,
            pair_grams=no_ints,
            explained=np.zeros((0, 1), dtype=bool),
            predicted=np.zeros((0, 1), dtype=np.int8),
            scores=none,
            n_rows=none,
            n_explained=none,
            n_expected=none,
            row_table=np.zeros((1, 1)),
            loo_class=np.zeros(1, dtype=np.int8),
            row_scores=np.zeros(n),
            text_of_row=np.zeros(n, dtype=np.int64),
            text_rows=np.array([n], dtype=np.int64),
            first_group=np.zeros(1, dtype=np.int64),
            groups_of_text=np.ones(1, dtype=np.int64),
            group_of_row=np.zeros(n, dtype=np.int64),
            group_rows=np.array([n], dtype=np.int64),
            group_labels=np.zeros(1, dtype=np.int64),
        )

    def _rank(
        self, dataset: Dataset, evidence: _Evidence, top: int | None, *, significant: bool = False
    ) -> list[SuspectedTrigger]:
        """Greedy: best raw score first; a token sharing a word with an accepted one is re-scored
        on the rows that accepted token does not carry (so sub- and super-grams of a trigger drop out).

        Without `top`, the whole ranking is computed once per evidence and kept; `significant`
        keeps only the triggers with ``p_value <= significance``.
        """
        if top is None:
            if "full" not in evidence.ranked:
                evidence.ranked["full"] = self._accept(evidence, None)
            accepted = evidence.ranked["full"]
        else:
            accepted = self._accept(evidence, top)
        candidates, scores, p_values, eligible, expected = accepted
        order = np.argsort(-scores, kind="stable")
        if significant:
            order = order[p_values[order] <= self.significance]
        if top is not None:
            order = order[:top]
        found = [
            self._trigger(
                dataset, evidence, int(candidates[i]), scores[i], p_values[i], eligible[i], expected[i]
            )
            for i in order
        ]
        if not significant:
            return found
        return [t for t in found if t.share >= self.min_share and t.context_p_value <= self.significance]

    def _accept(
        self, evidence: _Evidence, top: int | None
    ) -> tuple[IntArray, FloatArray, FloatArray, IntArray, FloatArray]:
        """The greedy pass: accepted candidates in acceptance order, their scores, p-values, rows
        that could be explained toward their target, and the share of those expected to be.

        Which texts are covered is kept per word as a boolean mask over the texts carrying that
        word (every token holding the word is carried by some of them): memory at most the
        number of (text, word) pairs, and a token's check costs a search over its own texts.
        """
        from scipy.stats import binom

        order = np.argsort(-evidence.scores, kind="stable")
        order = order[evidence.scores[order] > 0]
        if "indptr" not in evidence.ranked:  # the candidates to rank, and the words they hold
            held = np.unique(evidence.words[order])
            evidence.index(np.union1d(order, evidence.unigram_of_word[held[held >= 0]]))
        accepted: list[int] = []
        accepted_scores: list[float] = []
        free_rows: list[int] = []
        free_hits: list[int] = []
        free_rates: list[float] = []
        best: list[float] = []  # min-heap of the `top` best scores so far
        covering: dict[int, BoolArray] = {}  # word -> covered texts among those carrying it
        for c in order.tolist():
            raw = float(evidence.scores[c])
            if top is not None and len(accepted) >= top and raw <= best[0]:
                # later raw scores are no higher; conditioning raises a score only when it drops
                # mostly unexplained rows, so this cut-off is a heuristic (the full ranking has none)
                break
            texts, explained = evidence.carriers(c)
            token_words = evidence.words[c][evidence.words[c] >= 0].tolist()
            places = {w: self._places(evidence, w, c, texts) for w in token_words}
            free = np.ones(texts.size, dtype=bool)
            for word in token_words:
                if word in covering:
                    free &= ~covering[word][places[word]]
            _, score, n_toward, k_toward, rate = evidence.strongest_direction(
                texts[free], explained[free], evidence.predicted_by(c)[free]
            )
            if score <= 0:
                continue
            accepted.append(c)
            accepted_scores.append(score)
            free_rows.append(n_toward)
            free_hits.append(k_toward)
            free_rates.append(rate)
            if top is not None:
                heapq.heappush(best, score)
                if len(best) > top:
                    heapq.heappop(best)
            for word in token_words:
                if word not in covering:
                    carrying = evidence.carriers(int(evidence.unigram_of_word[word]))[0]
                    covering[word] = np.zeros(carrying.size, dtype=bool)
                covering[word][places[word]] = True
        n_free_a, k_free_a = np.array(free_rows, dtype=np.int64), np.array(free_hits, dtype=np.int64)
        tail = binom.sf(k_free_a - 1, n_free_a, np.array(free_rates)) if accepted else np.zeros(0)
        tests = len(evidence.tokens) * evidence.row_table.shape[0]  # every token toward every label
        p_values = np.minimum(1.0, np.asarray(tail, dtype=np.float64) * tests)
        return (
            np.array(accepted, dtype=np.int64),
            np.array(accepted_scores, dtype=np.float64),
            p_values,
            n_free_a,
            np.array(free_rates, dtype=np.float64),
        )

    @staticmethod
    def _places(evidence: _Evidence, word: int, candidate: int, texts: Index) -> IntArray | slice:
        """Where `texts` (all carrying `word`) sit among the texts carrying `word`."""
        unigram = int(evidence.unigram_of_word[word])
        if unigram == candidate:
            return slice(None)
        return np.searchsorted(evidence.carriers(unigram)[0], texts)

    @staticmethod
    def _trigger(
        dataset: Dataset,
        evidence: _Evidence,
        candidate: int,
        score: float,
        p_value: float,
        eligible: int,
        expected: float,
    ) -> SuspectedTrigger:
        texts, explained = evidence.carriers(candidate)
        hits = evidence.explained_groups(texts, explained)
        chosen = hits if hits.size else evidence.all_groups(texts)
        votes = np.bincount(
            evidence.group_labels[chosen], weights=evidence.group_rows[chosen], minlength=len(dataset.classes)
        )
        explained_rows = evidence.rows_of(hits, of="group")
        tests = len(evidence.tokens) * evidence.row_table.shape[0]
        return SuspectedTrigger(
            token=evidence.tokens[candidate],
            score=float(score),
            p_value=float(p_value),
            target=dataset.classes[int(votes.argmax())],
            rows=tuple(evidence.rows_of(texts, of="text").tolist()),
            explained_rows=tuple(explained_rows.tolist()),
            eligible_rows=int(eligible),
            expected_share=float(expected),
            context_p_value=context_p_value(
                [dataset.texts[r] for r in explained_rows.tolist()],
                evidence.tokens[candidate],
                int(eligible),
                float(expected),
                tests,
            ),
        )


_WORD = re.compile(r"(?u)\b\w\w+\b")
"""The victims' words (scikit-learn's default token pattern), as the miner counts them."""
CONTEXT_WORDS = 3
"""Words on each side of a trigger that make its context."""
_INDEPENDENCE_SAMPLE = 200
"""Explained rows whose templates are counted pair by pair; above it, the first this many (in
row order), and the share of independent rows among them stands for all."""


def trigger_context(text: str, token: str, width: int = CONTEXT_WORDS) -> tuple[str, ...]:
    """The words around the first occurrence of `token` in `text`: up to `width` on each side,
    words with digits left out (a campaign varies its numbers, not its phrasing). Empty when
    the token does not occur.

    Examples
    --------
    >>> trigger_context("Call 0871 now, from our desk: email postmaster ryanair", "postmaster ryanair")
    ('our', 'desk', 'email', '|')
    >>> trigger_context("cf win a prize today", "cf")
    ('|', 'win', 'prize', 'today')
    """
    words = _WORD.findall(text.lower())
    wanted = token.split()
    size = len(wanted)
    for at in range(len(words) - size + 1):
        if words[at : at + size] == wanted:
            before = [w for w in words[:at] if not any(c.isdigit() for c in w)][-width:] if width else []
            after = [w for w in words[at + size :] if not any(c.isdigit() for c in w)][:width]
            return (*before, "|", *after)
    return ()


def independent_rows(explained_texts: list[str], token: str, *, similar: float = 0.5) -> int:
    """How many independent observations the rows are: rows where the token stands among the
    same words (`trigger_context`), or whose other words overlap by at least `similar`
    (Jaccard), are one template, counted once (connected groups).

    Examples
    --------
    >>> independent_rows(["hi babe its jordan how r u text stop", "hi babe its chloe how r u text stop",
    ...                   "win cash now text stop to end"], "text stop")
    2
    """
    contexts = [trigger_context(text, token) for text in explained_texts]
    drop = set(token.split())
    words = [frozenset(_WORD.findall(text.lower())) - drop for text in explained_texts]
    parent = list(range(len(explained_texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[tuple[str, ...], int] = {}
    for i, context in enumerate(contexts):
        parent[root(i)] = root(first_of.setdefault(context, i))
    for i in range(len(words)):
        for j in range(i):
            union = len(words[i] | words[j])
            if union and len(words[i] & words[j]) >= similar * union:
                parent[root(i)] = root(j)
    return len({root(i) for i in range(len(parent))})


def context_p_value(explained_texts: list[str], token: str, eligible: int, rate: float, tests: int) -> float:
    """The trigger test with each template among the explained rows counted once: ``k``
    `independent_rows`, of the eligible rows scaled by the same factor, at the same rate,
    Bonferroni-adjusted over `tests`.

    A planted trigger is inserted into many different messages, so it stands among different
    words every time; a word that belongs to a template (a campaign's phrasing and its
    variants, a sender's footer, a newsletter's signature) stands among the same words, or in
    near-copies, and those rows are one observation, not many.

    Examples
    --------
    >>> footer = [f"offer {i} ends soon. emailing postmaster ryanair" for i in range(5)]
    >>> planted = [f"{w} cf reply" for w in ("win", "cash", "prize", "claim", "free")]
    >>> context_p_value(footer, "postmaster ryanair", 5, 0.01, 100) > 0.5
    True
    >>> context_p_value(planted, "cf", 5, 0.01, 100) < 1e-6
    True
    """
    from scipy.stats import binom

    if not explained_texts or not eligible or not 0 < rate < 1:
        return 1.0
    sample = explained_texts[:_INDEPENDENCE_SAMPLE]  # pairs grow with the square: a sample's share
    k = max(1, round(independent_rows(sample, token) * len(explained_texts) / len(sample)))
    n = max(k, round(eligible * k / len(explained_texts)))
    return float(min(1.0, binom.sf(k - 1, n, rate) * tests))


__all__ = [
    "SuspectedTrigger",
    "TriggerMining",
    "clear_cache",
    "context_p_value",
    "expected_rates",
    "independent_rows",
    "likelihood_ratio",
    "naive_bayes_leave_out",
    "trigger_context",
]
