"""Words as the victims' default vectorizer sees them, and which words mark a class.

The text attacks craft messages out of words, so they tokenize exactly as the victims do:
scikit-learn's ``CountVectorizer()`` analyzer (lower case, tokens of two or more letters or
digits). Word statistics come from one ``CountVectorizer`` pass over the training texts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from poisonlab.data.dataset import Dataset


def analyzer() -> Callable[[str], list[str]]:
    """The tokenizer of the victims' default vectorizer, ``CountVectorizer().build_analyzer()``.

    Examples
    --------
    >>> analyzer()("WIN a FREE iPhone, today!")
    ['win', 'free', 'iphone', 'today']
    """
    from sklearn.feature_extraction.text import CountVectorizer

    tokenize: Callable[[str], list[str]] = CountVectorizer().build_analyzer()
    return tokenize


TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
"""``CountVectorizer``'s default token pattern, for checks that must not import scikit-learn."""


def has_tokens(text: str) -> bool:
    """Whether `text` holds a word the victims' default vectorizer keeps, without importing it.

    Examples
    --------
    >>> has_tokens("a b c"), has_tokens("ok")
    (False, True)
    """
    return TOKEN_PATTERN.search(text) is not None


def distinct_tokens(text: str) -> tuple[str, ...]:
    """The distinct tokens of `text` in order of first appearance.

    Examples
    --------
    >>> distinct_tokens("see you, see you soon")
    ('see', 'you', 'soon')
    """
    return tuple(dict.fromkeys(analyzer()(text)))


@dataclasses.dataclass(frozen=True)
class WordCounts:
    """Per class, how often each word occurs (`tokens`) and in how many rows (`rows`).

    Attributes
    ----------
    words : ndarray of str
        The vocabulary, sorted.
    tokens : ndarray of shape (n_classes, n_words)
        Occurrences of each word in each class's rows.
    rows : ndarray of shape (n_classes, n_words)
        Rows of each class that contain each word.
    """

    words: npt.NDArray[np.str_]
    tokens: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]

    def frequent(self, cls: int, k: int | None) -> tuple[str, ...]:
        """The `k` words in most rows of class `cls` (all words it uses when `k` is None).

        Ties go to the word that sorts first, so the result depends on the data only.
        """
        present = np.flatnonzero(self.rows[cls] > 0)
        order = present[np.lexsort((self.words[present], -self.rows[cls][present]))]
        return tuple(str(w) for w in self.words[order[:k]])

    def marking(self, cls: int, other: int, k: int, min_ratio: float = 2.0) -> tuple[str, ...]:
        """The `k` words in most rows of class `cls` among those that mark it against `other`.

        A word marks `cls` when Naive Bayes's own estimate, with add-one smoothing, makes it at
        least `min_ratio` times as likely in `cls` as in `other`. Ties go to the word that sorts
        first.
        """
        size = self.words.size
        if size == 0:
            return ()
        log_cls = np.log(self.tokens[cls] + 1.0) - np.log(self.tokens[cls].sum() + size)
        log_other = np.log(self.tokens[other] + 1.0) - np.log(self.tokens[other].sum() + size)
        present = np.flatnonzero((self.rows[cls] > 0) & (log_cls - log_other >= np.log(min_ratio)))
        order = present[np.lexsort((self.words[present], -self.rows[cls][present]))]
        return tuple(str(w) for w in self.words[order[:k]])


def word_counts(dataset: Dataset) -> WordCounts:
    """Count every word of `dataset` per class, in one vectorizer pass.

    Examples
    --------
    >>> counts = word_counts(Dataset(["win win cash", "lunch", "cash now"], [1, 0, 1], ("ham", "spam")))
    >>> counts.frequent(1, 2), counts.marking(1, 0, 5, min_ratio=1.5)
    (('cash', 'now'), ('cash', 'win'))
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer()
    try:
        matrix = vectorizer.fit_transform(dataset.texts).tocsr()
    except ValueError:  # no row holds a single word the vectorizer keeps
        empty = np.zeros((len(dataset.classes), 0), dtype=np.int64)
        return WordCounts(np.array([], dtype=str), empty, empty.copy())
    n_classes = len(dataset.classes)
    tokens = np.zeros((n_classes, matrix.shape[1]), dtype=np.int64)
    rows = np.zeros_like(tokens)
    for cls in range(n_classes):
        part = matrix[dataset.labels == cls]
        tokens[cls] = np.asarray(part.sum(axis=0)).ravel()
        rows[cls] = np.asarray((part > 0).sum(axis=0)).ravel()
    return WordCounts(vectorizer.get_feature_names_out().astype(str), tokens, rows)
