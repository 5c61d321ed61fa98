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
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import check_positive_int, fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.detectors.base import Detector, FloatArray, check_scores
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.registry import DETECTORS

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_CACHE_SIZE = 2
_cache: OrderedDict[tuple[object, ...], _Evidence] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget the mining results kept for the last datasets (kept so that `score`,
    `suspected_triggers` and `findings` on one dataset share one computation)."""
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
    """

    token: str
    score: float
    p_value: float
    target: str
    rows: tuple[int, ...]
    explained_rows: tuple[int, ...]

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
    import scipy.sparse as sp

    X = sp.csr_matrix(counts, dtype=np.float64)
    X.sort_indices()
    n, n_words = X.shape
    y = np.asarray(labels, dtype=np.int64)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), y)), shape=(n, n_classes))
    word_counts = np.asarray((onehot.T @ X).todense(), dtype=np.float64)  # (K, V)
    lengths = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    log_counts = np.log(word_counts + alpha)
    entry_rows = np.repeat(np.arange(n), np.diff(X.indptr))
    entry_own = y[entry_rows]
    own_counts = word_counts[entry_own, X.indices]

    # Row i's class without row i: its words' counts drop by the row's own counts.
    base = np.asarray(X @ log_counts.T, dtype=np.float64)
    np.add.at(
        base,
        (entry_rows, entry_own),
        X.data * (np.log(own_counts - X.data + alpha) - np.log(own_counts + alpha)),
    )
    rows = np.arange(n)
    totals = np.tile(word_counts.sum(axis=1), (n, 1))
    totals[rows, y] -= lengths
    priors = np.tile(np.bincount(y, minlength=n_classes).astype(np.float64), (n, 1))
    priors[rows, y] -= 1.0
    with np.errstate(divide="ignore"):
        log_prior = np.log(priors) - np.log(max(n - 1, 1))
    loo = log_prior + base - lengths[:, None] * np.log(totals + alpha * n_words)

    pr = np.asarray(pair_rows, dtype=np.int64)
    pw = np.asarray(pair_words, dtype=np.int64).reshape(pr.size, -1)
    keys = entry_rows.astype(np.int64) * n_words + X.indices
    removed_base = base[pr].copy()
    removed_length = np.zeros(pr.size)
    removed_totals = np.zeros((pr.size, n_classes))
    removed_words = np.zeros(pr.size)
    own = y[pr]
    for slot in range(pw.shape[1]):
        has = pw[:, slot] >= 0
        at, words = np.flatnonzero(has), pw[has, slot]
        x = X.data[np.searchsorted(keys, pr[at] * n_words + words)]
        column_counts = word_counts[:, words].T.copy()  # (pairs, K)
        column_counts[np.arange(at.size), own[at]] -= x
        removed_base[at] -= x[:, None] * np.log(column_counts + alpha)
        removed_length[at] += x
        removed_totals[at] += column_counts
        removed_words[at] += 1
    denominators = totals[pr] - removed_totals + alpha * (n_words - removed_words)[:, None]
    rest = log_prior[pr] + removed_base - (lengths[pr] - removed_length)[:, None] * np.log(denominators)

    def normalise(joint: FloatArray) -> FloatArray:
        return np.asarray(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True), dtype=np.float64)

    return normalise(loo), normalise(rest)


def likelihood_ratio(n: FloatArray, k: FloatArray, base_rate: float) -> FloatArray:
    """``n * KL(k/n || q)`` where the share ``k/n`` exceeds ``q``, else 0: the binomial
    log-likelihood ratio of an elevated rate (Dunning 1993), always finite.

    Examples
    --------
    >>> likelihood_ratio(np.array([10.0, 10.0]), np.array([10.0, 0.0]), 0.5).round(3).tolist()
    [6.931, 0.0]
    """
    n = np.asarray(n, dtype=np.float64)
    share = np.divide(k, n, out=np.zeros_like(n), where=n > 0)
    q = float(base_rate)
    if not 0.0 < q < 1.0:
        return np.zeros_like(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(share > 0, share * np.log(share / q), 0.0)
        miss = np.where(share < 1, (1 - share) * np.log((1 - share) / (1 - q)), 0.0)
    return np.asarray(np.where(share > q, n * (hit + miss), 0.0), dtype=np.float64)


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not np.isnan(value)


@dataclasses.dataclass(frozen=True, eq=False)
class _Evidence:
    """Per candidate token and per (row, token) pair: what the mining found."""

    tokens: tuple[str, ...]
    words: IntArray  # (candidates, max_ngram) word columns, -1 padded
    carriers: Any  # sparse (rows, candidates): 1 where the row carries the token
    explained: Any  # sparse (rows, candidates): 1 where the pair is explained
    scores: FloatArray  # per candidate
    n_rows: FloatArray
    n_explained: FloatArray
    base_rate: float
    row_scores: FloatArray


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
        Largest adjusted p-value of a reported trigger, in (0, 1]. At 0.01, three tokens of
        the clean SMS training split are reported (template messages labelled against their
        text, 3 rows each); at 0.001, none.

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
    ('promo2026', 'not spam', (14, 15, 16), 0.89)
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

    def __post_init__(self) -> None:
        freeze_sequences(self)
        check_positive_int("TriggerMining", "max_ngram", self.max_ngram)
        check_positive_int("TriggerMining", "min_rows", self.min_rows)
        if not _is_real(self.alpha) or not 0 < self.alpha < np.inf:
            raise fail("TriggerMining", "alpha", "a positive float", self.alpha)
        if not _is_real(self.significance) or not 0 < self.significance <= 1:
            raise fail("TriggerMining", "significance", "a float in (0, 1]", self.significance)

    @classmethod
    def examples(cls) -> list[Detector]:
        """The default, single words only, and a stricter, smoother variant."""
        return [
            cls(),
            cls(max_ngram=1, min_rows=2),
            cls(max_ngram=2, min_rows=5, alpha=0.5, significance=0.05),
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
        ranked = self._rank(dataset, self._evidence(dataset), top if not significant else None)
        if significant:
            ranked = [t for t in ranked if t.p_value <= self.significance]
        return ranked if top is None else ranked[:top]

    def findings(self, dataset: Dataset) -> Findings:
        """Scores, flags on the rows of significant triggers, and the trigger behind each flag."""
        evidence = self._evidence(dataset)
        flags = np.zeros(len(dataset), dtype=bool)
        reasons = [""] * len(dataset)
        for trigger in self.suspected_triggers(dataset):
            chosen = trigger.rows if trigger.share > 0.5 else trigger.explained_rows
            for row in chosen:
                if flags[row]:
                    continue
                flags[row] = True
                reasons[row] = (
                    f"carries {trigger.token!r}, a suspected trigger: {len(trigger.explained_rows)} of "
                    f"{len(trigger.rows)} rows carrying it are labelled {trigger.target!r} against the "
                    f"rest of their text (p={trigger.p_value:.1g})"
                )
        return Findings(check_scores(evidence.row_scores, dataset), flags, tuple(reasons))

    # --- the mining ---------------------------------------------------------------------------

    def _evidence(self, dataset: Dataset) -> _Evidence:
        """The mining's results for `dataset`, cached: `score`, `suspected_triggers` and
        `findings` on one dataset share one computation."""
        key = (self, dataset.fingerprint())
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        evidence = self._mine(dataset)
        with _cache_lock:
            _cache[key] = evidence
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        return evidence

    def _mine(self, dataset: Dataset) -> _Evidence:
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import CountVectorizer

        n, n_classes = len(dataset), len(dataset.classes)
        texts = list(dataset.texts)
        if n < self.min_rows:
            return self._empty(n)
        unigrams = CountVectorizer(dtype=np.float64)
        grams = CountVectorizer(
            ngram_range=(1, self.max_ngram), min_df=self.min_rows, binary=True, dtype=np.float64
        )
        try:
            counts = sp.csr_matrix(unigrams.fit_transform(texts))
            carriers = sp.csr_matrix(grams.fit_transform(texts))
        except ValueError:  # no word at all, or none in `min_rows` rows: nothing to mine
            return self._empty(n)
        tokens = tuple(str(t) for t in grams.get_feature_names_out())
        vocabulary = unigrams.vocabulary_
        words = np.full((len(tokens), self.max_ngram), -1, dtype=np.int64)
        for c, token in enumerate(tokens):
            distinct = [vocabulary[w] for w in dict.fromkeys(token.split(" "))]
            words[c, : len(distinct)] = distinct

        pairs = carriers.tocoo()
        pair_rows, pair_tokens = pairs.row.astype(np.int64), pairs.col.astype(np.int64)
        labels = dataset.labels
        loo, rest = naive_bayes_leave_out(
            counts, labels, n_classes, pair_rows=pair_rows, pair_words=words[pair_tokens], alpha=self.alpha
        )
        own = labels[pair_rows]
        at = np.arange(pair_rows.size)
        rest_own = rest[at, own]
        rest_other = rest.copy()
        rest_other[at, own] = -np.inf
        explained = (rest_other.max(axis=1) > rest_own) & (loo[pair_rows, own] > rest_own)
        base_rate = float(explained.mean()) if explained.size else 0.0

        n_rows = np.bincount(pair_tokens, minlength=len(tokens)).astype(np.float64)
        n_explained = np.bincount(pair_tokens, weights=explained, minlength=len(tokens)).astype(np.float64)
        scores = likelihood_ratio(n_rows, n_explained, base_rate)
        share = np.divide(n_explained, n_rows, out=np.zeros_like(n_rows), where=n_rows > 0)
        contribution = np.where(explained, scores[pair_tokens], scores[pair_tokens] * share[pair_tokens])
        row_scores = np.zeros(n, dtype=np.float64)
        np.maximum.at(row_scores, pair_rows, contribution)
        explained_matrix = sp.csc_matrix(
            (np.ones(int(explained.sum())), (pair_rows[explained], pair_tokens[explained])),
            shape=carriers.shape,
        )
        return _Evidence(
            tokens=tokens,
            words=words,
            carriers=sp.csc_matrix(carriers),
            explained=explained_matrix,
            scores=scores,
            n_rows=n_rows,
            n_explained=n_explained,
            base_rate=base_rate,
            row_scores=row_scores,
        )

    def _empty(self, n: int) -> _Evidence:
        import scipy.sparse as sp

        empty = sp.csc_matrix((n, 0))
        none = np.zeros(0)
        return _Evidence(
            (), np.zeros((0, self.max_ngram), np.int64), empty, empty, none, none, none, 0.0, np.zeros(n)
        )

    def _rank(self, dataset: Dataset, evidence: _Evidence, top: int | None) -> list[SuspectedTrigger]:
        """Greedy: best raw score first; a token sharing a word with an accepted one is re-scored
        on the rows that accepted token does not carry (so sub- and super-grams of a trigger drop out)."""
        from scipy.stats import binom

        order = np.argsort(-evidence.scores, kind="stable")
        order = order[evidence.scores[order] > 0]
        tested = len(evidence.tokens)
        accepted: list[SuspectedTrigger] = []
        covering: dict[int, set[int]] = {}  # word -> rows of the accepted tokens containing it
        carriers, explained = evidence.carriers, evidence.explained
        for c in order:
            raw = float(evidence.scores[c])
            if top is not None and len(accepted) >= top:
                kth = sorted((t.score for t in accepted), reverse=True)[top - 1]
                if raw <= kth:
                    break  # conditioning only lowers a score: nothing later can enter the top
            rows = carriers.indices[carriers.indptr[c] : carriers.indptr[c + 1]]
            hits = explained.indices[explained.indptr[c] : explained.indptr[c + 1]]
            token_words = evidence.words[c][evidence.words[c] >= 0].tolist()
            covered: set[int] = set().union(*(covering.get(w, set()) for w in token_words))
            n_free = sum(1 for r in rows.tolist() if r not in covered)
            k_free = sum(1 for r in hits.tolist() if r not in covered)
            score = float(
                likelihood_ratio(np.array([float(n_free)]), np.array([float(k_free)]), evidence.base_rate)[0]
            )
            if score <= 0:
                continue
            p_value = min(1.0, float(binom.sf(k_free - 1, n_free, evidence.base_rate)) * tested)
            hit_labels = dataset.labels[hits] if hits.size else dataset.labels[rows]
            target = dataset.classes[int(np.bincount(hit_labels, minlength=len(dataset.classes)).argmax())]
            trigger = SuspectedTrigger(
                token=evidence.tokens[c],
                score=score,
                p_value=p_value,
                target=target,
                rows=tuple(int(r) for r in np.sort(rows)),
                explained_rows=tuple(int(r) for r in np.sort(hits)),
            )
            accepted.append(trigger)
            for word in token_words:
                covering.setdefault(word, set()).update(rows.tolist())
        ranked = sorted(accepted, key=lambda t: -t.score)
        return ranked if top is None else ranked[:top]


__all__ = ["SuspectedTrigger", "TriggerMining", "clear_cache", "likelihood_ratio", "naive_bayes_leave_out"]
