"""Why a Naive Bayes victim decided as it did: the log-probability each word contributed."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class WordEvidence:
    """One word's pull: ``weight = value * (log P(word | positive) - log P(word | negative))``."""

    word: str
    value: float
    weight: float


@dataclasses.dataclass(frozen=True)
class NaiveBayesExplanation:
    """The log-odds of `positive` over `negative` for one message, split into its parts.

    ``prior + sum(w.weight for w in words)`` equals the model's log-odds; a positive total
    means the model chose `positive`. Words outside the vocabulary contribute nothing and are
    listed in `unseen`.
    """

    negative: str
    positive: str
    prior: float
    words: tuple[WordEvidence, ...]
    unseen: tuple[str, ...]

    @property
    def log_odds(self) -> float:
        """Total log-odds of `positive` over `negative`."""
        return self.prior + sum(w.weight for w in self.words)

    def summary(self, top: int = 4) -> str:
        """One sentence naming the strongest words on each side.

        Examples
        --------
        >>> e = NaiveBayesExplanation("ham", "spam", 0.0, (WordEvidence("win", 1, 1.2),), ("zz",))
        >>> e.summary()
        "log-odds spam vs ham = +1.20: prior +0.00; toward spam: 'win' +1.20; toward ham: none; unseen: 'zz'"
        """

        def side(sign: int) -> str:
            chosen = [w for w in self.words if np.sign(w.weight) == sign][:top]
            return ", ".join(f"{w.word!r} {w.weight:+.2f}" for w in chosen) or "none"

        unseen = f"; unseen: {', '.join(repr(u) for u in self.unseen)}" if self.unseen else ""
        return (
            f"log-odds {self.positive} vs {self.negative} = {self.log_odds:+.2f}: prior {self.prior:+.2f}; "
            f"toward {self.positive}: {side(1)}; toward {self.negative}: {side(-1)}{unseen}"
        )


def explain_naive_bayes(
    model: Any, text: str, classes: tuple[str, ...], *, negative: int = 0, positive: int = 1
) -> NaiveBayesExplanation:
    """Split a fitted vectorizer + MultinomialNB/ComplementNB pipeline's decision on `text`.

    Parameters
    ----------
    model : Pipeline
        Fitted; its first step a scikit-learn vectorizer, its last a Naive Bayes classifier.
    text : str
    classes : tuple of str
        Class names, indexed by the model's integer labels.
    negative, positive : int
        The two classes compared.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> nb = make_victim("nb").fit(["cheap pills", "see you soon"], [1, 0])
    >>> explain_naive_bayes(nb, "cheap lunch", ("ham", "spam")).words[0].word
    'cheap'
    """
    vectorizer, classifier = model[0], model[-1]
    row = vectorizer.transform([text]).tocsr()
    names = vectorizer.get_feature_names_out()
    labels = list(classifier.classes_)
    neg, pos = labels.index(negative), labels.index(positive)
    log_prob = classifier.feature_log_prob_
    delta = log_prob[pos] - log_prob[neg]
    words = sorted(
        (WordEvidence(str(names[j]), float(v), float(v * delta[j])) for j, v in zip(row.indices, row.data)),
        key=lambda w: -abs(w.weight),
    )
    analyzer = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    unseen = tuple(dict.fromkeys(t for t in analyzer(text) if t not in vocabulary))
    # The model's score for a message with no known words: the class prior for MultinomialNB,
    # zero for ComplementNB, whose decision leaves the prior out when it has two or more classes.
    empty = classifier.predict_joint_log_proba(np.zeros((1, delta.size)))[0]
    prior = float(empty[pos] - empty[neg])
    return NaiveBayesExplanation(classes[negative], classes[positive], prior, tuple(words), unseen)
