"""`NaiveBayesCounts`: a Naive Bayes victim kept as counts, so poisoning it needs no refit.

Multinomial and Complement Naive Bayes are sums of counts: per class, how often each word
occurs and how many rows the class has. Flipping a label, injecting or removing a row changes
those sums by that row's counts alone, so the model after any change is a few array updates
away. `NaiveBayesCounts` keeps the sums over a `TokenCounts` index (texts are tokenized once),
derives the vocabulary a refit would see (``min_df``, ``max_df``, ``max_features`` included)
and computes ``feature_count_``, ``feature_log_prob_``, ``class_log_prior_`` and predictions
with the very expressions scikit-learn uses, so the results equal a refit of the same Pipeline
bit for bit (the tests compare them with ``numpy.array_equal``).

Written by hand because scikit-learn's ``partial_fit`` only adds rows: it cannot remove rows or
move a row to another class, and it cannot grow the vocabulary.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError, ParameterError
from poisonlab.victims.token_counts import Encoded, TokenCounts

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def is_naive_bayes(model: Any) -> bool:
    """True for a two-step Pipeline of a supported vectorizer and a MultinomialNB or ComplementNB.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> is_naive_bayes(make_victim("nb")), is_naive_bayes(make_victim("logreg"))
    (True, False)
    """
    from sklearn.naive_bayes import ComplementNB, MultinomialNB
    from sklearn.pipeline import Pipeline

    from poisonlab.victims.token_counts import is_supported

    return (
        isinstance(model, Pipeline)
        and len(model.steps) == 2
        and is_supported(model.steps[0][1])
        and type(model.steps[1][1]) in (MultinomialNB, ComplementNB)
    )


class NaiveBayesCounts:
    """A fitted Naive Bayes Pipeline as counts that follow label flips, injections and removals.

    Parameters
    ----------
    victim : Pipeline
        Unfitted template: a ``CountVectorizer`` or ``TfidfVectorizer`` step, then a
        ``MultinomialNB`` or ``ComplementNB`` step with a scalar ``alpha`` (``make_victim("nb")``
        or ``make_victim("cnb")``). It is cloned, never fitted.
    texts : sequence of str
        Training texts.
    labels : array-like of int
        Training labels (class indices).
    token_counts : TokenCounts, optional
        Shared token counts for the victim's vectorizer settings (texts already tokenized there
        are not tokenized again).

    Notes
    -----
    With count features every update costs time in proportion to the rows it changes. With
    tf-idf features a row's values depend on every other row (idf, and float sums depend on
    their order), so each query re-derives the feature matrix from the stored counts and fits
    the classifier on it: still no tokenizing, and still equal to a refit.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> texts = ["win cash now", "cheap pills", "see you at lunch", "call me later"]
    >>> nb = NaiveBayesCounts(make_victim("nb"), texts, [1, 1, 0, 0])
    >>> nb.predict(["win cash later"]).tolist()
    [1]
    >>> nb.set_labels([0, 1], [0, 0])  # flip both spam rows to ham
    >>> nb.predict(["win cash later"]).tolist()
    [0]
    >>> refit = make_victim("nb").fit(texts, nb.labels)
    >>> bool((refit[-1].feature_log_prob_ == nb.feature_log_prob_).all())
    True
    """

    def __init__(
        self,
        victim: Any,
        texts: Sequence[str],
        labels: npt.ArrayLike,
        *,
        token_counts: TokenCounts | None = None,
    ) -> None:
        from sklearn.base import clone
        from sklearn.naive_bayes import ComplementNB

        if not is_naive_bayes(victim):
            raise ParameterError(
                "NaiveBayesCounts needs a Pipeline of a CountVectorizer or TfidfVectorizer and a "
                f"MultinomialNB or ComplementNB; got {victim!r}."
            )
        (self._vectorizer_name, vectorizer), (self._classifier_name, classifier) = victim.steps
        alpha = classifier.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, Real):
            raise ParameterError(
                "NaiveBayesCounts needs a single smoothing 'alpha' (a number): a per-feature alpha "
                "cannot follow a vocabulary that changes with the training set."
            )
        self._classifier = clone(classifier)
        self._is_complement = isinstance(classifier, ComplementNB)
        self._alpha = float(alpha)
        self.token_counts = token_counts if token_counts is not None else TokenCounts(vectorizer)
        labels_a = np.asarray(labels, dtype=np.int64).copy()
        if labels_a.ndim != 1 or labels_a.size != len(texts):
            raise DataError(
                f"NaiveBayesCounts needs one label per text: got {len(texts)} and {labels_a.size}."
            )
        if labels_a.size and labels_a.min() < 0:
            raise DataError("Labels must be class indices (integers >= 0).")
        self._texts: list[str] = list(texts)
        self._labels = labels_a
        self._rows = self.token_counts.text_rows(self._texts)
        n_classes = int(labels_a.max()) + 1 if labels_a.size else 1
        n_tokens = self.token_counts.n_tokens
        self._class_tokens = np.zeros((n_classes, n_tokens), dtype=np.int64)
        self._document_frequency = np.zeros(n_tokens, dtype=np.int64)
        self._term_frequency = np.zeros(n_tokens, dtype=np.int64)
        self._class_rows = np.zeros(n_classes, dtype=np.int64)
        self._vocabulary_version = 0
        encoded = self.token_counts.rows(self._rows)
        self._count(encoded, self._labels, +1)
        self._count_documents(encoded, +1)
        self._cache: dict[str, Any] = {}
        self._tokens_cache: tuple[int, IntArray] | None = None
        self._tfidf_features: tuple[int, Any] | None = None
        self._features_cache: dict[int, tuple[Any, int, Any]] = {}

    # --- state ------------------------------------------------------------------------------------

    @property
    def labels(self) -> IntArray:
        """The current training labels (a copy)."""
        labels: IntArray = self._labels.copy()
        return labels

    @property
    def texts(self) -> tuple[str, ...]:
        """The current training texts."""
        return tuple(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def copy(self) -> NaiveBayesCounts:
        """An independent copy sharing the token counts."""
        other = object.__new__(NaiveBayesCounts)
        other.__dict__.update(self.__dict__)
        for name in (
            "_labels",
            "_rows",
            "_class_tokens",
            "_document_frequency",
            "_term_frequency",
            "_class_rows",
        ):
            setattr(other, name, getattr(self, name).copy())
        other._texts = list(self._texts)
        other._cache = dict(self._cache)
        other._features_cache = dict(self._features_cache)
        return other

    def _grow(self, n_classes: int) -> None:
        extra_classes = max(n_classes - self._class_rows.size, 0)
        extra_tokens = self.token_counts.n_tokens - self._document_frequency.size
        if extra_classes or extra_tokens:
            self._class_tokens = np.pad(self._class_tokens, ((0, extra_classes), (0, extra_tokens)))
            self._class_rows = np.pad(self._class_rows, (0, extra_classes))
            self._document_frequency = np.pad(self._document_frequency, (0, extra_tokens))
            self._term_frequency = np.pad(self._term_frequency, (0, extra_tokens))

    def _count(self, encoded: Encoded, labels: IntArray, sign: int, moved_to: IntArray | None = None) -> None:
        """Add (`sign` = +1) or take away (-1) the counts of `encoded` rows with `labels`; with
        `moved_to`, move them from class `labels` to class `moved_to` instead (a label flip)."""
        top = max(labels.max(initial=-1), -1 if moved_to is None else moved_to.max(initial=-1))
        self._grow(int(top) + 1)
        n_classes, n_tokens = self._class_tokens.shape
        values = np.ones_like(encoded.counts) if self.token_counts.is_binary else encoded.counts
        row_of_entry = encoded.row_of_entry
        cells = labels[row_of_entry] * n_tokens + encoded.tokens
        weights = sign * values
        class_rows = sign * np.bincount(labels, minlength=n_classes)
        if moved_to is not None:
            cells = np.concatenate([cells, moved_to[row_of_entry] * n_tokens + encoded.tokens])
            weights = np.concatenate([weights, values])
            class_rows += np.bincount(moved_to, minlength=n_classes)
        if cells.size < 256:  # a few rows: touch only their cells
            np.add.at(self._class_tokens.reshape(-1), cells, weights)
        else:
            delta = np.bincount(cells, weights=weights, minlength=n_classes * n_tokens)
            self._class_tokens += delta.astype(np.int64).reshape(n_classes, n_tokens)
        self._class_rows += class_rows

    def _count_documents(self, encoded: Encoded, sign: int) -> None:
        values = np.ones_like(encoded.counts) if self.token_counts.is_binary else encoded.counts
        n = self._document_frequency.size
        self._document_frequency += sign * np.bincount(encoded.tokens, minlength=n)
        self._term_frequency += sign * np.bincount(encoded.tokens, weights=values, minlength=n).astype(
            np.int64
        )
        self._vocabulary_version += 1

    def _changed(self) -> None:
        self._cache.clear()

    def set_labels(self, rows: npt.ArrayLike, labels: npt.ArrayLike) -> None:
        """Give training `rows` new `labels` (a label flip); costs time for those rows only."""
        index = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        new = np.broadcast_to(np.asarray(labels, dtype=np.int64), index.shape)
        if new.size and new.min() < 0:
            raise DataError("Labels must be class indices (integers >= 0).")
        changed = self._labels[index] != new
        index, new = index[changed], new[changed]
        if index.size == 0:
            return
        if np.unique(index).size != index.size:
            raise ParameterError("set_labels needs each row at most once.")
        encoded = self.token_counts.rows(self._rows[index])
        self._count(encoded, self._labels[index], -1, moved_to=new)
        self._labels[index] = new
        self._changed()

    def add(self, texts: Sequence[str], labels: npt.ArrayLike) -> None:
        """Append rows (an injection); only texts never seen before are tokenized."""
        new = np.atleast_1d(np.asarray(labels, dtype=np.int64))
        if new.size != len(texts):
            raise DataError(f"add needs one label per text: got {len(texts)} and {new.size}.")
        if new.size and new.min() < 0:
            raise DataError("Labels must be class indices (integers >= 0).")
        rows = self.token_counts.text_rows(list(texts))
        encoded = self.token_counts.rows(rows)
        self._count(encoded, new, +1)
        self._count_documents(encoded, +1)
        self._texts.extend(texts)
        self._labels = np.concatenate([self._labels, new])
        self._rows = np.concatenate([self._rows, rows])
        self._changed()

    def remove(self, rows: npt.ArrayLike) -> None:
        """Delete training `rows` (positions); later rows move up."""
        index = np.unique(np.atleast_1d(np.asarray(rows, dtype=np.int64)))
        if index.size == 0:
            return
        encoded = self.token_counts.rows(self._rows[index])
        self._count(encoded, self._labels[index], -1)
        self._count_documents(encoded, -1)
        keep = np.ones(len(self._texts), dtype=bool)
        keep[index] = False
        self._texts = [text for text, kept in zip(self._texts, keep.tolist()) if kept]
        self._labels = self._labels[keep]
        self._rows = self._rows[keep]
        self._changed()

    def replace_texts(self, rows: npt.ArrayLike, texts: Sequence[str]) -> None:
        """Give training `rows` new `texts` (an edit, e.g. a trigger inserted), keeping labels."""
        index = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if index.size != len(texts) or np.unique(index).size != index.size:
            raise ParameterError("replace_texts needs distinct rows and one text per row.")
        old = self.token_counts.rows(self._rows[index])
        self._count(old, self._labels[index], -1)
        self._count_documents(old, -1)
        new_rows = self.token_counts.text_rows(list(texts))
        new = self.token_counts.rows(new_rows)
        self._count(new, self._labels[index], +1)
        self._count_documents(new, +1)
        for row, text in zip(index.tolist(), texts):
            self._texts[row] = text
        self._rows[index] = new_rows
        self._changed()

    # --- what a refit would hold -----------------------------------------------------------------

    @property
    def vocabulary_version(self) -> int:
        """A number that changes whenever the texts (and so perhaps the vocabulary) change."""
        return self._vocabulary_version

    @property
    def feature_tokens(self) -> IntArray:
        """Per feature column of a refit, the id of its token in `token_counts`."""
        if self._tokens_cache is None or self._tokens_cache[0] != self._vocabulary_version:
            self._grow(0)
            tokens = self.token_counts.select_features(
                self._document_frequency, self._term_frequency, len(self._texts)
            )
            self._tokens_cache = (self._vocabulary_version, tokens)
        return self._tokens_cache[1]

    @property
    def classes_(self) -> IntArray:
        """The classes a refit would know: those with at least one training row."""
        if "classes_" not in self._cache:
            present = np.flatnonzero(self._class_rows > 0).astype(np.int64)
            if present.size == 0:
                raise DataError("NaiveBayesCounts has no training rows left.")
            self._cache["classes_"] = present
        out: IntArray = self._cache["classes_"]
        return out

    def _tfidf_fit(self) -> Any:
        if self._tfidf_features is None or self._tfidf_features[0] != self._vocabulary_version:
            self._tfidf_features = (self._vocabulary_version, self.token_counts.fit(self._texts))
        features = self._tfidf_features[1]
        if "tfidf" not in self._cache:
            from sklearn.base import clone

            self._cache["tfidf"] = (features, clone(self._classifier).fit(features.matrix, self._labels))
        return self._cache["tfidf"]

    @property
    def feature_count_(self) -> FloatArray:
        """``feature_count_`` of the refit classifier: per class and feature, the summed values."""
        if self.token_counts.is_tfidf:
            return np.asarray(self._tfidf_fit()[1].feature_count_)
        if "feature_count_" not in self._cache:
            fc = np.zeros((self.classes_.size, self.feature_tokens.size), dtype=np.float64)
            fc += self._class_tokens[self.classes_][:, self.feature_tokens]
            self._cache["feature_count_"] = fc
        out: FloatArray = self._cache["feature_count_"]
        return out

    @property
    def class_count_(self) -> FloatArray:
        """``class_count_`` of the refit classifier: training rows per class."""
        count = np.zeros(self.classes_.size, dtype=np.float64)
        count += self._class_rows[self.classes_]
        return count

    def _alpha_used(self) -> float:
        """``_BaseDiscreteNB._check_alpha`` for a scalar alpha."""
        if self._alpha < 1e-10 and not self._classifier.force_alpha:
            warnings.warn(
                f"alpha too small will result in numeric errors, setting alpha = {1e-10:.1e}. "
                "Use `force_alpha=True` to keep alpha unchanged.",
                UserWarning,
                stacklevel=3,
            )
            return float(np.maximum(self._alpha, 1e-10))
        return self._alpha

    @property
    def feature_log_prob_(self) -> FloatArray:
        """``feature_log_prob_`` of the refit classifier."""
        if self.token_counts.is_tfidf:
            return np.asarray(self._tfidf_fit()[1].feature_log_prob_)
        if "feature_log_prob_" not in self._cache:
            alpha = self._alpha_used()
            fc = self.feature_count_
            if self._is_complement:  # ComplementNB._update_feature_log_prob
                comp_count = fc.sum(axis=0) + alpha - fc
                logged = np.log(comp_count / comp_count.sum(axis=1, keepdims=True))
                flp = logged / logged.sum(axis=1, keepdims=True) if self._classifier.norm else -logged
            else:  # MultinomialNB._update_feature_log_prob
                smoothed_fc = fc + alpha
                smoothed_cc = smoothed_fc.sum(axis=1)
                flp = np.log(smoothed_fc) - np.log(smoothed_cc.reshape(-1, 1))
            self._cache["feature_log_prob_"] = flp
        out: FloatArray = self._cache["feature_log_prob_"]
        return out

    @property
    def class_log_prior_(self) -> FloatArray:
        """``class_log_prior_`` of the refit classifier (``_update_class_log_prior``)."""
        if self.token_counts.is_tfidf:
            return np.asarray(self._tfidf_fit()[1].class_log_prior_)
        if "class_log_prior_" not in self._cache:
            self._cache["class_log_prior_"] = self._class_log_prior()
        out: FloatArray = self._cache["class_log_prior_"]
        return out

    def _class_log_prior(self) -> FloatArray:
        n_classes = self.classes_.size
        class_prior = self._classifier.class_prior
        if class_prior is not None:
            if len(class_prior) != n_classes:
                raise ParameterError("Number of priors must match number of classes.")
            fixed: FloatArray = np.log(np.asarray(class_prior, dtype=np.float64))
            return fixed
        if self._classifier.fit_prior:
            count = self.class_count_
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                log_class_count = np.log(count)
            fitted: FloatArray = log_class_count - np.log(count.sum())
            return fitted
        return np.full(n_classes, -np.log(n_classes))

    def classifier(self) -> Any:
        """A fitted classifier equal to the refit's (a clone of the template with the learned
        attributes set, so its own ``predict``/``predict_log_proba`` run)."""
        from sklearn.base import clone

        if self.token_counts.is_tfidf:
            return self._tfidf_fit()[1]
        if "classifier" not in self._cache:
            model = clone(self._classifier)
            model.classes_ = self.classes_
            model.class_count_ = self.class_count_
            model.feature_count_ = self.feature_count_
            model.n_features_in_ = self.feature_tokens.size
            if self._is_complement:
                model.feature_all_ = model.feature_count_.sum(axis=0)
            model.feature_log_prob_ = self.feature_log_prob_
            model.class_log_prior_ = self.class_log_prior_
            self._cache["classifier"] = model
        return self._cache["classifier"]

    def vectorizer(self) -> Any:
        """A fitted vectorizer equal to the refit's (from the stored counts: no tokenizing)."""
        if self.token_counts.is_tfidf:
            return self._tfidf_fit()[0].vectorizer
        if "vectorizer" not in self._cache:
            features = self.token_counts.fit(self._texts)
            self._cache["vectorizer"] = features.vectorizer
        return self._cache["vectorizer"]

    def pipeline(self) -> Any:
        """A fitted Pipeline equal to ``clone(victim).fit(texts, labels)``."""
        from sklearn.pipeline import Pipeline

        return Pipeline(
            [(self._vectorizer_name, self.vectorizer()), (self._classifier_name, self.classifier())]
        )

    # --- predictions ------------------------------------------------------------------------------

    def features(self, texts: Sequence[str]) -> Any:
        """The refit vectorizer's ``transform(texts)``; reused while the vocabulary stays the same
        (a tuple of texts is remembered by identity: keep it alive)."""
        if self.token_counts.is_tfidf:
            return self.token_counts.transform(self._tfidf_fit()[0].vectorizer, texts)
        tokens = self.feature_tokens
        version = self._vocabulary_version
        if isinstance(texts, tuple):
            hit = self._features_cache.get(id(texts))
            if hit is not None and hit[0] is texts and hit[1] == version:
                return hit[2]
        columns = np.full(self.token_counts.n_tokens, -1, dtype=np.int64)
        columns[tokens] = np.arange(tokens.size, dtype=np.int64)
        encoded = self.token_counts.encode(texts)
        from poisonlab.victims.token_counts import _align_sparse_api

        matrix = _align_sparse_api(self.token_counts.features_of(encoded, columns, tokens.size))
        if isinstance(texts, tuple):
            self._features_cache[id(texts)] = (texts, version, matrix)
        return matrix

    def joint_log_likelihood(self, features: Any) -> FloatArray:
        """Per row of `features` (from `features`), the classifier's joint log-likelihood."""
        if self.token_counts.is_tfidf:
            return np.asarray(self.classifier().predict_joint_log_proba(features))
        jll = np.asarray(features @ self.feature_log_prob_.T)
        if not self._is_complement or self.classes_.size == 1:
            jll = jll + self.class_log_prior_
        return jll

    def predict(self, texts: Sequence[str]) -> IntArray:
        """Predicted class per text, as the refit Pipeline's ``predict``."""
        return self.predict_features(self.features(texts))

    def predict_features(self, features: Any) -> IntArray:
        """Predicted class per row of `features` (from `features`)."""
        jll = self.joint_log_likelihood(features)
        predicted: IntArray = self.classes_[np.argmax(jll, axis=1)]
        return predicted

    def predict_log_proba(self, texts: Sequence[str]) -> FloatArray:
        """The refit Pipeline's ``predict_log_proba(texts)``, columns in `classes_` order."""
        return np.asarray(self.classifier().predict_log_proba(self.features(texts)))
