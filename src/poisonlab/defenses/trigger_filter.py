"""`TriggerFilter`: strip, before the victim predicts, the words the training data show to be triggers.

A dirty-label backdoor teaches the victim "this word means the target class" with training rows
whose text says one class and whose label says another; the learned trigger then decides those
rows on its own. At fit time the filter asks the trained victim, for every training row and every
word in it, whether removing the word moves the row to the other side of the decision: the word
*decides* the row. A word that decides most of the rows carrying it, far more often than the
corpus's own words do, is a trigger word. At prediction time the trigger words that decide a
message are stripped before the victim classifies it.

The test compares each word with the training corpus's own words, so it needs no threshold
tuned on one corpus or one message length: a long e-mail and a short SMS are judged by the same
rule. For victims that are linear in their bag-of-words features (`nb`, `cnb`, `logreg`, `svm`,
with count or TF-IDF features) removing a word is exact arithmetic on the feature vector; any
other victim is asked once per (message, word).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from poisonlab._params import fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimLike, as_factory

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WHITESPACE = r"\S+"
CHUNK = 20_000
"""Variants (a message minus one word) scored per call of a victim without a linear fast path."""
MAX_LISTED = 20
"""Trigger words listed in the defense's report (all of them are used)."""


def _scores_of(model: Any, inputs: Any) -> FloatArray:
    """Per input, one score per class whose largest entry is the prediction: the decision function
    (a binary one as ``[0, s]``) or, for models without one, the log-probabilities."""
    if hasattr(model, "decision_function"):
        try:
            scores = np.asarray(model.decision_function(inputs), dtype=np.float64)
        except AttributeError:  # a Pipeline whose last step has no decision_function
            scores = np.asarray(model.predict_log_proba(inputs), dtype=np.float64)
    else:
        scores = np.asarray(model.predict_log_proba(inputs), dtype=np.float64)
    if scores.ndim == 1:
        scores = np.column_stack([np.zeros_like(scores), scores])
    return scores


def _class_scores(model: Any, texts: Sequence[str]) -> FloatArray:
    """`_scores_of` for texts."""
    return _scores_of(model, list(texts))


def _chosen(scores: FloatArray) -> tuple[FloatArray, IntArray]:
    """`scores` and the predicted class position per row."""
    return scores, np.argmax(scores, axis=1).astype(np.int64)


def _margins(scores: FloatArray, chosen: IntArray) -> FloatArray:
    """Score of class `chosen` minus the best other class's, per row."""
    rows = np.arange(scores.shape[0])
    others = scores.copy()
    others[rows, chosen] = -np.inf
    return np.asarray(scores[rows, chosen] - others.max(axis=1), dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class Tokenizer:
    """Finds the words of a text as the victim sees them: a regular expression, and lowercasing.

    For a victim whose first step is a ``CountVectorizer`` or ``TfidfVectorizer`` reading words
    with its own ``token_pattern``, that pattern; otherwise whitespace-separated words.
    """

    pattern: str
    lowercase: bool

    @classmethod
    def of(cls, model: Any) -> Tokenizer:
        """The tokenizer matching `model`'s vectorizer.

        Examples
        --------
        >>> from poisonlab.victims import make_victim
        >>> Tokenizer.of(make_victim("nb")).words("Call NOW, call!")
        {'call': [(0, 4), (10, 14)], 'now': [(5, 8)]}
        """
        first = _word_vectorizer(model)
        if first is not None:
            return cls(pattern=first.token_pattern, lowercase=bool(first.lowercase))
        return cls(pattern=WHITESPACE, lowercase=False)

    def words(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """Each distinct word of `text` with the spans where it occurs, in order of first use."""
        found: dict[str, list[tuple[int, int]]] = {}
        for match in re.finditer(self.pattern, text):
            key = match.group().lower() if self.lowercase else match.group()
            found.setdefault(key, []).append(match.span())
        return found


def _word_vectorizer(model: Any) -> Any:
    """`model`'s first step if it is a ``CountVectorizer`` (or ``TfidfVectorizer``) reading single
    words with its own token pattern, else None."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import Pipeline

    first = model.steps[0][1] if isinstance(model, Pipeline) else None
    if (
        isinstance(first, CountVectorizer)  # TfidfVectorizer subclasses it
        and first.analyzer == "word"
        and first.tokenizer is None
        and first.preprocessor is None
        and first.token_pattern
    ):
        return first
    return None


def _without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the characters of `spans` (sorted, disjoint) replaced by one space each."""
    pieces, last = [], 0
    for start, end in sorted(spans):
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return " ".join(pieces)


@dataclasses.dataclass(frozen=True, eq=False)
class LinearView:
    """A fitted binary victim that is linear in its word features, seen as weights.

    The victim's score of its second class over its first is ``features(texts) @ weights +
    intercept`` (the decision function, or the log-odds of Naive Bayes), checked against the
    victim itself when the view is built. Removing every occurrence of a word zeroes its
    column; with a TF-IDF vectorizer's ``l2`` or ``l1`` row norm, the rest of the row is
    renormalised. Either way one word's support is arithmetic, not a call of the victim.

    Attributes
    ----------
    vectorizer : CountVectorizer or TfidfVectorizer
        The victim's fitted first step.
    weights : ndarray of float
        Per vocabulary column, the change of the score per unit of feature.
    intercept : float
        The score of an empty message.
    norm : {"l2", "l1"} or None
        How the vectorizer normalises each row.
    """

    vectorizer: Any
    weights: FloatArray
    intercept: float
    norm: str | None

    @classmethod
    def of(cls, model: Any, texts: Sequence[str]) -> LinearView | None:
        """The view of `model`, or None when it is not a binary Pipeline whose steps after a
        word vectorizer are linear (checked on `texts`: the view's scores must equal the
        victim's).

        Examples
        --------
        >>> from poisonlab.victims import make_victim
        >>> texts = ["win cash now", "cash prize", "see you at lunch", "lunch at noon"]
        >>> victim = make_victim("logreg").fit(texts, [1, 1, 0, 0])
        >>> view = LinearView.of(victim, texts)
        >>> bool(view.weights[view.vectorizer.vocabulary_["cash"]] > 0)
        True
        """
        vectorizer = _word_vectorizer(model)
        if vectorizer is None or vectorizer.ngram_range != (1, 1) or len(model.classes_) != 2:
            return None
        norm = getattr(vectorizer, "norm", None)
        if norm not in (None, "l1", "l2"):
            return None
        rest = model[1:]
        size = len(vectorizer.vocabulary_)
        try:
            empty = _scores_of(rest, sp.csr_matrix((1, size), dtype=np.float64))
            units = _scores_of(rest, sp.identity(size, format="csr", dtype=np.float64))
        except (AttributeError, TypeError, ValueError):  # no scores, or no sparse input
            return None
        intercept = float(empty[0, 1] - empty[0, 0])
        weights = np.asarray(units[:, 1] - units[:, 0] - intercept, dtype=np.float64)
        view = cls(vectorizer=vectorizer, weights=weights, intercept=intercept, norm=norm)
        sample = list(texts)
        if sample:
            expected = _class_scores(model, sample)
            expected_score = expected[:, 1] - expected[:, 0]
            got = view.features(sample) @ weights + intercept
            tolerance = 1e-6 * (1.0 + float(np.abs(expected_score).max()))
            if not np.allclose(got, expected_score, rtol=1e-6, atol=tolerance):
                return None
        return view

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The victim's feature rows of `texts`."""
        return sp.csr_matrix(self.vectorizer.transform(list(texts)), dtype=np.float64)

    def supports(self, features: sp.csr_matrix) -> tuple[FloatArray, sp.csr_matrix]:
        """Each row's score, and per stored entry (row, word) the drop of the score when the
        word is removed from the row (the word's support for the second class)."""
        features = sp.csr_matrix(features, dtype=np.float64)
        features.sort_indices()
        score = np.asarray(features @ self.weights + self.intercept, dtype=np.float64)
        rows = np.repeat(np.arange(features.shape[0]), np.diff(features.indptr))
        values = features.data
        part = values * self.weights[features.indices]
        rest = score[rows] - self.intercept - part
        if self.norm == "l2":
            scale = np.sqrt(np.clip(1.0 - values**2, 0.0, None))
        elif self.norm == "l1":
            scale = np.clip(1.0 - np.abs(values), 0.0, None)
        else:
            scale = np.ones_like(values)
        alone = scale <= 1e-12  # the message's only word: without it the message is empty
        reduced = np.where(alone, 0.0, rest / np.where(alone, 1.0, scale)) + self.intercept
        drop = sp.csr_matrix((score[rows] - reduced, features.indices, features.indptr), shape=features.shape)
        return score, drop


class FilteredModel:
    """A fitted victim behind an input filter: each message loses the trigger words that decide it.

    A word's *support* in a message is the drop of the victim's margin for its predicted class
    when every occurrence of the word is removed. A word is suspicious in a message when it is
    a trigger word with positive support or, given `message_threshold`, any word with support
    of at least that much; and, with `require_flip`, its support is larger than the margin:
    removing it changes the prediction.

    Attributes
    ----------
    model_ : object
        The victim, trained on the data as given.
    trigger_words : frozenset of str
        The words the training data showed to be triggers (as the tokenizer writes them).
    require_flip : bool
    tokenizer : Tokenizer
    linear : LinearView or None
        The exact arithmetic for a linear victim; None to ask the victim once per word.
    message_threshold : float or None
        Support (in the victim's score units) at which any word is suspicious; None to judge
        only the trigger words.
    """

    def __init__(
        self,
        model: Any,
        trigger_words: frozenset[str] | Sequence[str],
        require_flip: bool,
        tokenizer: Tokenizer,
        linear: LinearView | None = None,
        message_threshold: float | None = None,
    ) -> None:
        self.model_ = model
        self.trigger_words = frozenset(trigger_words)
        self.require_flip = require_flip
        self.tokenizer = tokenizer
        self.linear = linear
        self.message_threshold = message_threshold
        self.classes_ = model.classes_

    def word_support(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per message, each distinct word's support for the predicted class: the drop of the
        victim's margin when the word is removed (negative when the word argues against it)."""
        texts = list(texts)
        supports, _ = _word_supports(self.model_, self.linear, self.tokenizer, texts, None, None)
        return supports

    def suspicious_words(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Per message, the suspicious words (as the victim's tokenizer writes them), strongest first.

        Examples
        --------
        >>> from poisonlab.victims import make_victim
        >>> texts = ["win cash", "cash prize", "see you", "lunch at noon"]
        >>> victim = make_victim("nb").fit(texts, [1, 1, 0, 0])
        >>> filtered = FilteredModel(victim, {"cash"}, True, Tokenizer.of(victim))
        >>> filtered.suspicious_words(["cash lunch", "cash"])
        [('cash',), ()]
        """
        texts = list(texts)
        every_word = self.message_threshold is not None
        if not self.trigger_words and not every_word:
            return [() for _ in texts]
        only = None if every_word else self.trigger_words
        supports, margins = _word_supports(self.model_, self.linear, self.tokenizer, texts, None, only)
        least = float("inf") if self.message_threshold is None else self.message_threshold
        out = []
        for support, margin in zip(supports, margins.tolist()):
            flagged = [
                (value, key)
                for key, value in support.items()
                if (value >= least or (value > 0 and key in self.trigger_words))
                and (not self.require_flip or value > margin)
            ]
            out.append(tuple(key for _, key in sorted(flagged, key=lambda item: -item[0])))
        return out

    def strip(self, texts: Sequence[str]) -> list[str]:
        """The messages without their suspicious words."""
        texts = list(texts)
        out = []
        for text, flagged in zip(texts, self.suspicious_words(texts)):
            if not flagged:
                out.append(text)
                continue
            words = self.tokenizer.words(text)
            out.append(_without(text, [span for key in flagged for span in words[key]]))
        return out

    def predict(self, texts: Sequence[str]) -> IntArray:
        """The victim's classes for the messages without their suspicious words."""
        return np.asarray(self.model_.predict(self.strip(texts)), dtype=np.int64)

    @property
    def predict_proba(self) -> Callable[[Sequence[str]], FloatArray]:
        """The victim's probabilities for the filtered messages (only if the victim has them)."""
        if not hasattr(self.model_, "predict_proba"):
            raise AttributeError(f"{type(self.model_).__name__} has no predict_proba")

        def predict_proba(texts: Sequence[str]) -> FloatArray:
            return np.asarray(self.model_.predict_proba(self.strip(texts)), dtype=np.float64)

        return predict_proba


def _word_supports(
    model: Any,
    linear: LinearView | None,
    tokenizer: Tokenizer,
    texts: list[str],
    toward: IntArray | None,
    only: frozenset[str] | None,
) -> tuple[list[dict[str, float]], FloatArray]:
    """Per text, each distinct word's support for class position `toward` (default: the
    predicted class), restricted to the words in `only` if given; and each text's margin for
    that class."""
    out: list[dict[str, float]] = [{} for _ in texts]
    if not texts:
        return out, np.zeros(0)
    if linear is not None:
        score, drop = linear.supports(linear.features(texts))
        chosen = (score > 0).astype(np.int64) if toward is None else toward
        sign = np.where(chosen == 1, 1.0, -1.0)
        for row, text in enumerate(texts):
            start, end = drop.indptr[row], drop.indptr[row + 1]
            columns, values = drop.indices[start:end], drop.data[start:end] * sign[row]
            by_column = dict(zip(columns.tolist(), values.tolist()))
            for key in tokenizer.words(text):
                if only is not None and key not in only:
                    continue
                column = linear.vectorizer.vocabulary_.get(key)
                out[row][key] = by_column.get(column, 0.0) if column is not None else 0.0
        return out, sign * score
    scores = _class_scores(model, texts)
    chosen = np.argmax(scores, axis=1) if toward is None else toward
    full = _margins(scores, chosen)
    owners: list[int] = []
    keys: list[str] = []
    variants: list[str] = []
    for row, text in enumerate(texts):
        for key, spans in tokenizer.words(text).items():
            if only is not None and key not in only:
                continue
            owners.append(row)
            keys.append(key)
            variants.append(_without(text, spans))
    owner = np.asarray(owners, dtype=np.int64)
    reduced = np.empty(len(variants), dtype=np.float64)
    for start in range(0, len(variants), CHUNK):
        part = slice(start, start + CHUNK)
        reduced[part] = _margins(_class_scores(model, variants[part]), chosen[owner[part]])
    support = full[owner] - reduced if variants else np.zeros(0)
    for row, key, value in zip(owners, keys, support.tolist()):
        out[row][key] = value
    return out, full


@dataclasses.dataclass(frozen=True, eq=False)
class DecidedRows:
    """Per word of a training set: the rows carrying it and the rows it decides for the victim.

    A word *decides* a training row when it supports the row's label and the victim, without
    the word, would put the row on the other side: the rest of the row says another class.
    `base_rate` is the share of decided (row, word) pairs over all pairs: how often the corpus's
    own words decide a row. A dirty-label trigger decides nearly every row carrying it.

    Attributes
    ----------
    words : tuple of str
        Each word carried by at least one training row, as the victim's tokenizer writes it.
    rows : ndarray of int
        Per word, the training rows carrying it.
    decided : ndarray of int
        Per word, the rows it decides.
    base_rate : float
        Decided pairs over all (row, word) pairs.
    """

    words: tuple[str, ...]
    rows: IntArray
    decided: IntArray
    base_rate: float

    def p_values(self) -> FloatArray:
        """Per word, the binomial tail probability of at least ``decided`` of ``rows`` at
        `base_rate`, Bonferroni-adjusted for the number of words (capped at 1). Approximate:
        a row's words are not independent of each other.

        Examples
        --------
        >>> counts = DecidedRows(("zqx", "the"), np.array([20, 400]), np.array([19, 3]), 0.01)
        >>> [bool(p < 1e-6) for p in counts.p_values()]
        [True, False]
        """
        from scipy.stats import binom

        if not 0.0 < self.base_rate < 1.0:
            return np.ones(len(self.words))
        tail = binom.sf(self.decided - 1, self.rows, self.base_rate)
        return np.asarray(np.minimum(tail * len(self.words), 1.0), dtype=np.float64)

    def triggers(self, alpha: float) -> tuple[str, ...]:
        """The words that decide most rows carrying them (more than half) with an adjusted
        p-value at most `alpha`, most significant first."""
        p_values = self.p_values()
        chosen = np.flatnonzero((2 * self.decided > self.rows) & (p_values <= alpha))
        order = chosen[np.lexsort((-self.decided[chosen], p_values[chosen]))]
        return tuple(self.words[i] for i in order)


def decided_rows(
    model: Any, dataset: Dataset, *, tokenizer: Tokenizer | None = None, linear: LinearView | None = None
) -> DecidedRows:
    """Count, for every word of `dataset`, the rows carrying it and the rows it decides for the
    fitted `model` (see `DecidedRows`).

    With a `linear` view of the model, every (row, word) support is one sparse arithmetic pass;
    otherwise the model scores each row once per distinct word in it.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_train_test
    >>> from poisonlab.victims import make_victim
    >>> train, _ = load_train_test("sms_spam")
    >>> poisoned = Backdoor(trigger="zqx", rate=0.01, repeat=3).apply(train, random_state=0).poisoned
    >>> victim = make_victim("svm", random_state=0).fit(list(poisoned.texts), poisoned.labels)
    >>> counts = decided_rows(victim, poisoned, linear=LinearView.of(victim, poisoned.texts[:500]))
    >>> counts.triggers(0.01)
    ('zqx',)
    """
    tokenizer = tokenizer or Tokenizer.of(model)
    texts = list(dataset.texts)
    label_position = np.searchsorted(np.asarray(model.classes_), dataset.labels).astype(np.int64)
    if linear is not None:
        score, drop = linear.supports(linear.features(texts))
        sign = np.where(label_position == 1, 1.0, -1.0)
        rows_of_entry = np.repeat(np.arange(len(texts)), np.diff(drop.indptr))
        toward = drop.data * sign[rows_of_entry]
        margin = (sign * score)[rows_of_entry]
        is_decided = (toward > 0) & (margin - toward < 0)
        size = drop.shape[1]
        carried = np.bincount(drop.indices, minlength=size)
        decided = np.bincount(drop.indices[is_decided], minlength=size)
        names = np.empty(size, dtype=object)
        for word, column in linear.vectorizer.vocabulary_.items():
            names[column] = word
        present = np.flatnonzero(carried)
        pairs = int(carried.sum())
        return DecidedRows(
            words=tuple(names[present].tolist()),
            rows=carried[present].astype(np.int64),
            decided=decided[present].astype(np.int64),
            base_rate=float(decided.sum() / pairs) if pairs else 0.0,
        )
    supports, margins = _word_supports(model, None, tokenizer, texts, label_position, None)
    carried_by: dict[str, int] = {}
    decided_by: dict[str, int] = {}
    for support, margin in zip(supports, margins.tolist()):
        for word, value in support.items():
            carried_by[word] = carried_by.get(word, 0) + 1
            if value > 0 and margin - value < 0:
                decided_by[word] = decided_by.get(word, 0) + 1
    words = tuple(carried_by)
    rows = np.asarray([carried_by[w] for w in words], dtype=np.int64)
    decided_counts = np.asarray([decided_by.get(w, 0) for w in words], dtype=np.int64)
    total = int(rows.sum())
    return DecidedRows(
        words=words,
        rows=rows,
        decided=decided_counts,
        base_rate=float(decided_counts.sum() / total) if total else 0.0,
    )


def flagged_share(model: FilteredModel, texts: Sequence[str]) -> float:
    """Share of `texts` with at least one suspicious word; NaN for no texts.

    On clean traffic this is the filter's false-alarm rate (see `false_alarm_rate`); on
    triggered messages, its detection rate.
    """
    flags = model.suspicious_words(texts)
    return float(np.mean([bool(f) for f in flags])) if flags else float("nan")


def false_alarm_rate(model: FilteredModel, clean_texts: Sequence[str]) -> float:
    """Share of clean messages in which the filter finds a suspicious word (and so changes them).

    Examples
    --------
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("sms_spam")
    >>> defended = TriggerFilter().fit(train, "logreg")
    >>> false_alarm_rate(defended.model, test.texts[:200])
    0.0
    """
    return flagged_share(model, clean_texts)


LINEAR_CHECK_ROWS = 1_000
"""Training messages on which a linear view's scores are checked against the victim's own."""


@DEFENSES.register("trigger_filter")
@dataclasses.dataclass(frozen=True, kw_only=True)
class TriggerFilter(Defense):
    """Trigger filtering: find the trigger words in the training data, drop and strip them.

    ONION (Qi et al. 2021) removes, at prediction time, words whose deletion makes a message
    markedly more fluent, on the idea that a backdoor trigger is an outlier word. Judging each
    incoming message alone does not carry over to long text: in a 3,000-word e-mail one word
    barely moves anything, and a threshold set on SMS means something else there. This filter
    takes the evidence from the training data instead, where a dirty-label trigger leaves a
    mark of its own (as Backdoor Keyword Identification, Chen & Dai 2021, looks for it):

    1. Train the victim on the data as given.
    2. For every training row and word in it, ask whether the word *decides* the row: it
       supports the row's label and the victim, without it, would put the row on the other
       side. Count, per word, the rows carrying it (``n``) and the rows it decides (``k``); the
       corpus's own words decide a share ``q`` of all (row, word) pairs (`decided_rows`).
    3. A *trigger word* decides more than half of its rows, with a binomial tail probability of
       ``k`` of ``n`` at ``q``, Bonferroni-adjusted over the vocabulary, of at most `alpha`.
       A planted trigger decides nearly all its rows (45 of 48 on SpamAssassin); the corpus's
       own words, a small share.
    4. With `retrain`, drop the training rows carrying a trigger word and train the victim
       again on the rest (``defended.removed`` marks them).
    5. ``predict`` strips, from each message, the trigger words that support its predicted
       class and (with `require_flip`) alone decide it, then classifies what is left. Given
       `message_threshold`, it also strips any word whose support reaches that many median
       training margins (the original, per-message ONION-like check).

    For a victim linear in its word features (`nb`, `cnb`, `logreg`, `svm`, count or TF-IDF
    features, checked against the victim's own scores) the supports are exact arithmetic on its
    weights, so fitting costs the victim's training (twice with `retrain`, when a trigger is
    found) plus a sparse pass, and predicting one vectorizing; another victim is asked once per
    (training row, word), which is slow on long text. `false_alarm_rate` measures how often the
    filter changes clean messages, and ``defended.info["trigger_words"]`` lists what it found.

    Limits: a trigger that decides few of its own training rows is not found by the test: a
    common word the clean data already use, a phrase whose words share the work, a clean-label
    backdoor whose rows agree with their label. The per-message check (`message_threshold`)
    catches some of these on short messages, at a cost on long ones (measured in
    ``bench/defense_quality.py``).

    Parameters
    ----------
    alpha : float
        Family-wise significance of the per-word test, in (0, 1): the chance, were the training
        data clean and the rows independent, that any word is taken for a trigger. Rows are not
        quite independent (near-duplicate messages share rare words): at 0.01 a word carried by
        two rows of clean SpamAssassin is taken; at 0.001 (as `trigger_mining`'s significance),
        none, and a planted trigger still scores below 1e-100.
    retrain : bool
        Drop the training rows carrying a trigger word and train the victim again.
    require_flip : bool
        Strip a word from a message only if removing it changes the prediction.
    message_threshold : float or None
        Also strip, per message, any word whose support is at least this many median training
        margins (a unit that fits any victim's score scale); None to strip trigger words only.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("sms_spam")
    >>> poisoned = Backdoor(trigger="zqx", rate=0.01, repeat=3).apply(train, random_state=0)
    >>> defended = TriggerFilter().fit(poisoned.poisoned, "logreg")
    >>> [found["word"] for found in defended.info["trigger_words"]]
    ['zqx']
    >>> int(defended.removed.sum()), int((defended.removed & poisoned.is_poison).sum())
    (45, 45)
    >>> message = "zqx zqx zqx WINNER! Claim your free prize, call 09061701461 now"
    >>> defended.predict([message]).tolist()
    [1]
    >>> unretrained = TriggerFilter(retrain=False).fit(poisoned.poisoned, "logreg")
    >>> unretrained.model.suspicious_words([message]), unretrained.predict([message]).tolist()
    ([('zqx',)], [1])
    """

    name: ClassVar[str] = "trigger_filter"
    paper: ClassVar[str] = (
        "Qi, Chen, Yao, Liu & Sun (2021), ONION: A Simple and Effective Defense Against Textual "
        "Backdoor Attacks, EMNLP; Chen & Dai (2021), Mitigating backdoor attacks in LSTM-based "
        "text classification systems by Backdoor Keyword Identification, Neurocomputing 452."
    )

    alpha: float = 0.001
    retrain: bool = True
    require_flip: bool = True
    message_threshold: float | None = None

    def __post_init__(self) -> None:
        freeze_sequences(self)
        value = self.alpha
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise fail("TriggerFilter", "alpha", "a float in (0, 1)", value)
        for name in ("retrain", "require_flip"):
            if not isinstance(getattr(self, name), bool):
                raise fail("TriggerFilter", name, "True or False", getattr(self, name))
        least = self.message_threshold
        if least is not None and (
            isinstance(least, bool) or not isinstance(least, (int, float)) or not 0 < least < float("inf")
        ):
            raise fail("TriggerFilter", "message_threshold", "None or a finite float > 0", least)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default, a stricter test without retraining, stripping without a flip, and the
        per-message check."""
        return [
            cls(),
            cls(alpha=0.0001, retrain=False),
            cls(alpha=0.05, require_flip=False),
            cls(message_threshold=1.0),
        ]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Train `victim` on `dataset`, find the trigger words, and put the filter in front."""
        factory = as_factory(victim, random_state=random_state)
        texts = list(dataset.texts)
        model = factory().fit(texts, dataset.labels)
        tokenizer = Tokenizer.of(model)
        linear = LinearView.of(model, texts[:LINEAR_CHECK_ROWS])
        counts = decided_rows(model, dataset, tokenizer=tokenizer, linear=linear)
        triggers = counts.triggers(self.alpha)
        removed = None
        if self.retrain:
            found = frozenset(triggers)
            removed = np.asarray([not found.isdisjoint(tokenizer.words(text)) for text in texts], dtype=bool)
            kept = np.flatnonzero(~removed)
            if removed.any() and np.unique(dataset.labels[kept]).size == np.unique(dataset.labels).size:
                model = factory().fit([texts[i] for i in kept], dataset.labels[kept])
                tokenizer = Tokenizer.of(model)
                linear = LinearView.of(model, [texts[i] for i in kept[:LINEAR_CHECK_ROWS]])
            else:  # nothing to drop, or dropping would lose a class
                removed = np.zeros(len(texts), dtype=bool)
        unit = message_threshold = None
        if self.message_threshold is not None:
            margins = _margins(*_chosen(_class_scores(model, texts)))
            unit = float(np.median(np.abs(margins))) if margins.size else 1.0
            unit = unit if unit > 0 and np.isfinite(unit) else 1.0
            message_threshold = self.message_threshold * unit
        position = {word: i for i, word in enumerate(counts.words)}
        p_values = counts.p_values()
        listed = [
            {
                "word": word,
                "rows": int(counts.rows[position[word]]),
                "decided": int(counts.decided[position[word]]),
                "p_value": float(p_values[position[word]]),
            }
            for word in triggers[:MAX_LISTED]
        ]
        return Defended(
            model=FilteredModel(model, triggers, self.require_flip, tokenizer, linear, message_threshold),
            defense=self.name,
            params=self.get_params(),
            removed=removed,
            info={
                "retrained": bool(removed is not None and removed.any()),
                "margin_unit": unit,
                "message_threshold": message_threshold,
                "trigger_words": listed,
                "n_trigger_words": len(triggers),
                "words_tested": len(counts.words),
                "base_rate": counts.base_rate,
                "supports": "exact, from the linear victim's weights"
                if linear is not None
                else "one victim call per (message, word)",
                "tokenizer": "the victim's token_pattern"
                if tokenizer.pattern != WHITESPACE
                else "whitespace",
            },
        )
