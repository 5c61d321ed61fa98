"""`TriggerFilter`: inference-time trigger filtering — strip the words that alone decide a message."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from poisonlab._params import fail, freeze_sequences
from poisonlab.data.dataset import Dataset
from poisonlab.defenses.base import Defended, Defense
from poisonlab.defenses.registry import DEFENSES
from poisonlab.victims.factory import VictimLike, as_factory

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

WHITESPACE = r"\S+"
CHUNK = 20_000
"""Variants (a message minus one word) scored per call of the victim."""


def _class_scores(model: Any, texts: Sequence[str]) -> FloatArray:
    """Per text, one score per class whose largest entry is the prediction: the decision function
    (a binary one as ``[0, s]``) or, for victims without one, the log-probabilities."""
    if hasattr(model, "decision_function"):
        try:
            scores = np.asarray(model.decision_function(list(texts)), dtype=np.float64)
        except AttributeError:  # a Pipeline whose last step has no decision_function
            scores = np.asarray(model.predict_log_proba(list(texts)), dtype=np.float64)
    else:
        scores = np.asarray(model.predict_log_proba(list(texts)), dtype=np.float64)
    if scores.ndim == 1:
        scores = np.column_stack([np.zeros_like(scores), scores])
    return scores


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
            return cls(pattern=first.token_pattern, lowercase=bool(first.lowercase))
        return cls(pattern=WHITESPACE, lowercase=False)

    def words(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """Each distinct word of `text` with the spans where it occurs, in order of first use."""
        found: dict[str, list[tuple[int, int]]] = {}
        for match in re.finditer(self.pattern, text):
            key = match.group().lower() if self.lowercase else match.group()
            found.setdefault(key, []).append(match.span())
        return found


def _without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with the characters of `spans` (sorted, disjoint) replaced by one space each."""
    pieces, last = [], 0
    for start, end in sorted(spans):
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return " ".join(pieces)


class FilteredModel:
    """A fitted victim behind an input filter: each message loses its suspicious words first.

    A word is suspicious in a message when removing every occurrence of it moves the victim's
    margin for its predicted class down by at least `threshold` (and, with `require_flip`,
    below zero: the word alone decides the message).

    Attributes
    ----------
    model_ : object
        The victim, trained on the data as given.
    threshold : float
        The margin drop (in the victim's score units) that makes a word suspicious.
    require_flip : bool
    tokenizer : Tokenizer
    """

    def __init__(self, model: Any, threshold: float, require_flip: bool, tokenizer: Tokenizer) -> None:
        self.model_ = model
        self.threshold = threshold
        self.require_flip = require_flip
        self.tokenizer = tokenizer
        self.classes_ = model.classes_

    def word_support(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per message, each distinct word's support for the predicted class: the drop of the
        victim's margin when the word is removed (negative when the word argues against it)."""
        return self._support(list(texts))[0]

    def _support(self, texts: list[str]) -> tuple[list[dict[str, float]], FloatArray]:
        """`word_support`, and each message's margin for its predicted class."""
        found = [self.tokenizer.words(text) for text in texts]
        out: list[dict[str, float]] = [{} for _ in texts]
        if not texts:
            return out, np.zeros(0)
        scores = _class_scores(self.model_, texts)
        chosen = np.argmax(scores, axis=1)
        full = _margins(scores, chosen)
        owners: list[int] = []
        keys: list[str] = []
        variants: list[str] = []
        for row, (text, words) in enumerate(zip(texts, found)):
            for key, spans in words.items():
                owners.append(row)
                keys.append(key)
                variants.append(_without(text, spans))
        owner = np.asarray(owners, dtype=np.int64)
        reduced = np.empty(len(variants), dtype=np.float64)
        for start in range(0, len(variants), CHUNK):
            part = slice(start, start + CHUNK)
            reduced[part] = _margins(_class_scores(self.model_, variants[part]), chosen[owner[part]])
        support = full[owner] - reduced
        for row, key, value in zip(owners, keys, support.tolist()):
            out[row][key] = value
        return out, full

    def suspicious_words(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Per message, the suspicious words (as the victim's tokenizer writes them), strongest first.

        Examples
        --------
        >>> from poisonlab.victims import make_victim
        >>> texts = ["win cash", "cash prize", "see you", "lunch at noon"]
        >>> victim = make_victim("nb").fit(texts, [1, 1, 0, 0])
        >>> FilteredModel(victim, 0.5, True, Tokenizer.of(victim)).suspicious_words(["cash lunch", "cash"])
        [('cash',), ()]
        """
        supports, margins = self._support(list(texts))
        out = []
        for support, margin in zip(supports, margins.tolist()):
            flagged = [
                (value, key)
                for key, value in support.items()
                if value >= self.threshold and (not self.require_flip or value > margin)
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


@DEFENSES.register("trigger_filter")
@dataclasses.dataclass(frozen=True, kw_only=True)
class TriggerFilter(Defense):
    """Inference-time trigger filtering: strip the words that alone swing a message's prediction.

    ONION (Qi et al. 2021) removes words whose deletion makes a message markedly more fluent
    to a language model, on the idea that a backdoor trigger is an outlier word. Without a
    language model, this filter asks the victim itself: for every incoming message and every
    distinct word in it, how far does the victim's margin for its predicted class drop when
    all occurrences of the word are removed (its *support*)? A word is suspicious when its
    support is at least `threshold` times the median margin of the training messages (a unit
    that fits any victim's score scale) and, with `require_flip`, larger than the message's
    margin: the word alone decides the message, as a trigger does. ``predict`` strips the
    suspicious words and classifies what is left; ``defended.model.suspicious_words(texts)``
    lists them per message. The victim is trained on the data as given: nothing is removed.

    Every word of every message is tried, so predicting costs one victim call per distinct
    word (batched). `false_alarm_rate` measures how often it changes clean messages.

    Parameters
    ----------
    threshold : float
        Support, in median training margins, at which a word is suspicious; > 0.
    require_flip : bool
        Flag a word only if removing it flips the prediction.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("sms_spam")
    >>> poisoned = Backdoor(trigger="zqx", rate=0.01, repeat=3).apply(train, random_state=0)
    >>> defended = TriggerFilter().fit(poisoned.poisoned, "logreg")
    >>> message = "zqx zqx zqx WINNER! Claim your free prize, call 09061701461 now"
    >>> defended.model.suspicious_words([message]), defended.predict([message]).tolist()
    ([('zqx',)], [1])
    """

    name: ClassVar[str] = "trigger_filter"
    paper: ClassVar[str] = (
        "Qi, Chen, Yao, Liu & Sun (2021), ONION: A Simple and Effective Defense Against Textual "
        "Backdoor Attacks, EMNLP."
    )

    threshold: float = 1.0
    require_flip: bool = True

    def __post_init__(self) -> None:
        freeze_sequences(self)
        value = self.threshold
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise fail("TriggerFilter", "threshold", "a finite float > 0", value)
        if not isinstance(self.require_flip, bool):
            raise fail("TriggerFilter", "require_flip", "True or False", self.require_flip)

    @classmethod
    def examples(cls) -> list[Defense]:
        """The default, a lenient threshold, and flagging without a flip."""
        return [cls(), cls(threshold=0.25), cls(threshold=2.0, require_flip=False)]

    def fit(self, dataset: Dataset, victim: VictimLike = "nb", *, random_state: int | None = 0) -> Defended:
        """Train `victim` on `dataset` and put the filter in front of it."""
        factory = as_factory(victim, random_state=random_state)
        model = factory().fit(list(dataset.texts), dataset.labels)
        scores = _class_scores(model, dataset.texts)
        margins = _margins(scores, np.argmax(scores, axis=1))
        unit = float(np.median(np.abs(margins))) if margins.size else 1.0
        unit = unit if unit > 0 and np.isfinite(unit) else 1.0
        tokenizer = Tokenizer.of(model)
        return Defended(
            model=FilteredModel(model, self.threshold * unit, self.require_flip, tokenizer),
            defense=self.name,
            params=self.get_params(),
            info={
                "margin_unit": unit,
                "support_threshold": self.threshold * unit,
                "tokenizer": "the victim's token_pattern"
                if tokenizer.pattern != WHITESPACE
                else "whitespace",
            },
        )
