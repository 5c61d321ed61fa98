"""What adding one training row does to a held-out calibration set: the measurement behind RONI.

The calibration score is bounded per message, so a few badly fitted calibration messages cannot
outweigh the rest: the probability of the true class where the victim has probabilities, and
otherwise the margin of the true class clipped to [-1, 1] (a linear SVM's margin unit). A row's
*impact* is the mean calibration score of the model trained with it minus that of the model
trained without it: positive when the row helps, negative when it hurts.

Three ways to get every candidate row's impact, from exact to generic:

- `naive_bayes_impacts`: multinomial Naive Bayes on word counts, exact by count arithmetic (no
  refit): removing a row subtracts its counts from its class, and its words seen in no other
  row leave the vocabulary. Equal to refitting the Pipeline without the row (tested).
- `linear_impacts`: binary logistic regression and linear SVMs (squared hinge), by the
  influence-function approximation (Koh & Liang 2017): one Newton step of the regularised
  objective, with one conjugate-gradient solve per calibration set for every row at once; the
  vectorizer's vocabulary and weights are held fixed.
- `batch_impacts`: any other victim, by refits on small candidate batches: each batch is
  removed and the classifier refitted once, and every row of a batch gets its batch's impact.

Written by hand: no library computes leave-one-out effects for these models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

MAX_BLOCK_CELLS = 2_000_000
"""Naive Bayes impacts are computed for blocks of rows of at most this many (message, row) cells."""


def message_scores(classifier: Any, features: Any, labels: IntArray) -> FloatArray:
    """Per calibration message, the bounded score of its true class under a fitted classifier.

    The probability of the true class where the classifier has ``predict_proba``; otherwise the
    decision margin of the true class over the best other class, clipped to [-1, 1].

    Examples
    --------
    >>> from sklearn.svm import LinearSVC
    >>> svm = LinearSVC().fit([[-3.0], [-2.0], [2.0], [3.0]], [0, 0, 1, 1])
    >>> message_scores(svm, [[-3.0], [3.0], [0.5]], np.array([0, 0, 1])).round(2).tolist()
    [1.0, -1.0, 0.24]
    """
    classes = np.asarray(classifier.classes_)
    column = np.searchsorted(classes, labels)
    known = (column < classes.size) & (classes[np.minimum(column, classes.size - 1)] == labels)
    column = np.minimum(column, classes.size - 1)
    rows = np.arange(labels.size)
    if hasattr(classifier, "predict_proba"):
        proba = np.asarray(classifier.predict_proba(features), dtype=np.float64)
        return np.where(known, proba[rows, column], 0.0)
    scores = np.asarray(classifier.decision_function(features), dtype=np.float64)
    if scores.ndim == 1:  # binary: positive scores mean the second class
        margin = np.where(column == 1, scores, -scores)
    else:
        own = scores[rows, column]
        others = scores.copy()
        others[rows, column] = -np.inf
        margin = own - others.max(axis=1)
    return np.where(known, np.clip(margin, -1.0, 1.0), -1.0)


# --- multinomial Naive Bayes: exact leave-one-out by count arithmetic -----------------------------


def is_count_naive_bayes(template: Any) -> bool:
    """True for a ``CountVectorizer`` (keeping every token) then ``MultinomialNB`` Pipeline, the
    victims whose leave-one-out `naive_bayes_impacts` computes exactly.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> is_count_naive_bayes(make_victim("nb")), is_count_naive_bayes(make_victim("nb", features="tfidf"))
    (True, False)
    """
    from numbers import Real

    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    if not isinstance(template, Pipeline) or len(template.steps) != 2:
        return False
    vectorizer, classifier = template.steps[0][1], template.steps[1][1]
    if type(vectorizer) is not CountVectorizer or type(classifier) is not MultinomialNB:
        return False
    settings = vectorizer.get_params()
    return bool(
        settings["min_df"] == 1
        and isinstance(settings["min_df"], int)
        and settings["max_df"] == 1.0
        and isinstance(settings["max_df"], float)
        and settings["max_features"] is None
        and settings["vocabulary"] is None
        and isinstance(classifier.alpha, Real)
        and not isinstance(classifier.alpha, bool)
        and classifier.class_prior is None
    )


def _true_class_probability(jll: FloatArray, labels: IntArray) -> FloatArray:
    """``p(label | message)`` from joint log-likelihoods of shape (messages, rows, classes)."""
    top = jll.max(axis=2, keepdims=True)
    with np.errstate(invalid="ignore"):
        shifted = np.exp(jll - top)
    own = np.take_along_axis(shifted, np.broadcast_to(labels[:, None, None], (*jll.shape[:2], 1)), 2)[..., 0]
    return np.asarray(np.nan_to_num(own / shifted.sum(axis=2)), dtype=np.float64)


def naive_bayes_impacts(
    matrix: Any,
    labels: IntArray,
    calibration: Any,
    calibration_labels: IntArray,
    n_classes: int,
    *,
    alpha: float = 1.0,
    fit_prior: bool = True,
) -> FloatArray:
    """Each candidate row's impact on the calibration set, exactly, for multinomial Naive Bayes.

    `matrix` holds the candidates' word counts from a ``CountVectorizer`` fitted on them, and
    `calibration` the calibration messages' counts from the same vectorizer. With ``N`` the
    class-word counts, ``T`` the class totals and ``V`` the vocabulary size, removing row ``i``
    of class ``y`` subtracts its counts from ``N[y]`` and ``T[y]``, one row from the class
    count, and drops its words that occur in no other row from the vocabulary (``V`` shrinks,
    and those words no longer count in any message). The calibration log-likelihoods after
    every removal then follow from two sparse products, with no refit.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> vec = CountVectorizer().fit(["win cash", "cash prize", "lunch at noon", "see you at noon"])
    >>> X = vec.transform(["win cash", "cash prize", "lunch at noon", "see you at noon"])
    >>> calibration = vec.transform(["win a prize", "noon lunch"])
    >>> impacts = naive_bayes_impacts(X, np.array([1, 1, 0, 0]), calibration, np.array([1, 0]), 2)
    >>> bool((impacts > 0).all())  # every row helps this calibration set
    True
    """
    import scipy.sparse as sp

    X = sp.csr_matrix(matrix, dtype=np.float64)
    Xc = sp.csr_matrix(calibration, dtype=np.float64)
    X.sort_indices()
    n, n_words = X.shape
    alpha = max(float(alpha), 1e-10)
    membership = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(n_classes, n))
    counts = np.asarray((membership @ X).todense())  # class x word
    totals = counts.sum(axis=1)
    class_rows = np.bincount(labels, minlength=n_classes).astype(np.float64)
    word_sums = np.asarray(Xc @ np.log(counts + alpha).T)  # message x class
    lengths = np.asarray(Xc.sum(axis=1)).ravel()

    def log_prior(rows_per_class: FloatArray, total: float) -> FloatArray:
        if not fit_prior:
            return np.full(rows_per_class.shape, -np.log(n_classes))
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(rows_per_class) - np.log(total), dtype=np.float64)

    full = log_prior(class_rows, n) + word_sums - lengths[:, None] * np.log(totals + alpha * n_words)
    baseline = float(_true_class_probability(full[:, None, :], calibration_labels).mean())
    row_of_entry = np.repeat(np.arange(n), np.diff(X.indptr))
    words = X.indices
    own = counts[labels[row_of_entry], words]
    document_frequency = np.bincount(words, minlength=n_words)
    # Removing the row: its class's log(N + alpha) changes by `delta`; words unique to it leave.
    delta = sp.csr_matrix(
        (np.log(own - X.data + alpha) - np.log(own + alpha), words, X.indptr), shape=X.shape
    )
    unique = sp.csr_matrix(
        ((document_frequency[words] == 1).astype(np.float64), words, X.indptr), shape=X.shape
    )
    n_unique = np.asarray(unique.sum(axis=1)).ravel()
    row_totals = np.asarray(X.sum(axis=1)).ravel()
    onehot = np.eye(n_classes)[labels]
    impacts = np.empty(n, dtype=np.float64)
    block = max(1, MAX_BLOCK_CELLS // max(1, Xc.shape[0] * n_classes))
    # Without row i, message j's joint log-likelihood of class c is, up to a term that is the
    # same for every class (and so cancels): prior'[i, c] + A[j, c] + [c = y_i] changed[j, i]
    # - (L[j] - dropped[j, i]) * G[i, c], with G = log(T' + alpha V') for the reduced model.
    if n_classes == 2:  # two classes: one log-odds per (message, row) instead of two scores
        from scipy.special import expit

        sign = np.where(calibration_labels == 1, 1.0, -1.0)
        own_sums = sign * (word_sums[:, 1] - word_sums[:, 0])
    for start in range(0, n, block):
        rows = slice(start, min(n, start + block))
        changed = np.asarray((Xc @ delta[rows].T).todense())  # message x row
        dropped = np.asarray((Xc @ unique[rows].T).todense())  # message x row
        hot = onehot[rows]
        kept_totals = totals[None, :] - hot * row_totals[rows, None]
        vocabulary = n_words - n_unique[rows]
        normaliser = np.log(kept_totals + alpha * vocabulary[:, None])  # row x class
        prior = log_prior(class_rows[None, :] - hot, n - 1)
        if n_classes == 2:
            with np.errstate(invalid="ignore"):
                prior_odds = prior[:, 1] - prior[:, 0]
            norm_odds = normaliser[:, 1] - normaliser[:, 0]
            same = np.where(labels[rows][None, :] == calibration_labels[:, None], 1.0, -1.0)
            odds = (
                sign[:, None] * (prior_odds[None, :] - (lengths[:, None] - dropped) * norm_odds[None, :])
                + own_sums[:, None]
                + same * changed
            )
            impacts[rows] = baseline - expit(odds).mean(axis=0)
            continue
        jll = (
            prior[None]
            + word_sums[:, None, :]
            + hot[None] * changed[:, :, None]
            - (lengths[:, None] - dropped)[:, :, None] * normaliser[None]
        )
        impacts[rows] = baseline - _true_class_probability(jll, calibration_labels).mean(axis=0)
    return impacts


# --- linear models: influence functions ----------------------------------------------------------


def is_linear(template: Any) -> bool:
    """True for a Pipeline ending in an L2 ``LogisticRegression`` or a squared-hinge L2
    ``LinearSVC`` without class weights: the victims `linear_impacts` approximates.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> is_linear(make_victim("logreg")), is_linear(make_victim("svm")), is_linear(make_victim("nb"))
    (True, True, False)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    if not isinstance(template, Pipeline) or len(template.steps) != 2:
        return False
    classifier = template.steps[1][1]
    if classifier.get_params().get("class_weight") is not None:
        return False
    if type(classifier) is LogisticRegression:
        return classifier.l1_ratio in (None, 0, 0.0) and classifier.penalty in ("deprecated", "l2")
    if type(classifier) is LinearSVC:
        return bool(classifier.penalty == "l2" and classifier.loss == "squared_hinge")
    return False


def linear_impacts(
    classifier: Any, matrix: Any, labels: IntArray, calibration: Any, calibration_labels: IntArray
) -> FloatArray:
    """Each candidate row's approximate impact on the calibration set, for a fitted binary
    ``LogisticRegression`` or ``LinearSVC`` (squared hinge) trained on `matrix`.

    The objective is ``0.5 ||w||^2 + C sum_i loss_i`` (the intercept penalised as liblinear
    does, through `intercept_scaling`, and unpenalised for the other logistic solvers). Without
    row ``i`` its optimum moves by about ``H^-1 C grad loss_i`` (one Newton step, ``H`` the
    Hessian), so the calibration score changes by ``C grad loss_i . v`` with ``v = H^-1 grad
    score``: one conjugate-gradient solve serves every row.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.0, 1.5]])
    >>> y = np.array([1, 1, 0, 0, 1])  # the last row is mislabelled
    >>> model = LogisticRegression().fit(X, y)
    >>> impacts = linear_impacts(model, X, y, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1, 0]))
    >>> int(np.argmin(impacts))
    4
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, cg
    from scipy.special import expit
    from sklearn.svm import LinearSVC

    X = sp.csr_matrix(matrix, dtype=np.float64)
    Xc = sp.csr_matrix(calibration, dtype=np.float64)
    n_words = X.shape[1]
    is_svm = isinstance(classifier, LinearSVC)
    C = float(classifier.C)
    w = np.asarray(classifier.coef_, dtype=np.float64).ravel()
    fit_intercept = bool(classifier.fit_intercept)
    penalised = is_svm or getattr(classifier, "solver", "") == "liblinear"
    # The intercept as a feature of constant value `scale`, with weight `b / scale`.
    scale = float(classifier.intercept_scaling) if (penalised and fit_intercept) else 1.0
    b = float(np.ravel(classifier.intercept_)[0]) if fit_intercept else 0.0
    positive = np.asarray(classifier.classes_)[1]
    t = np.where(labels == positive, 1.0, -1.0)
    tc = np.where(calibration_labels == positive, 1.0, -1.0)
    z = X @ w + b
    zc = Xc @ w + b
    if is_svm:
        slack = np.maximum(0.0, 1.0 - t * z)
        curvature = 2.0 * (slack > 0)  # squared hinge: 2 on rows inside the margin
        row_gradient = -2.0 * slack * t  # d loss_i / d z_i
        inside = np.abs(tc * zc) < 1.0
        score_gradient = np.where(inside, tc, 0.0) / max(len(tc), 1)  # d clip(t z) / d z
    else:
        p = expit(z)
        curvature = p * (1.0 - p)
        row_gradient = p - (t > 0)
        pc = expit(zc)
        own = np.where(tc > 0, pc, 1.0 - pc)
        score_gradient = tc * own * (1.0 - own) / max(len(tc), 1)  # d p(true class) / d z
    ridge = 1.0 if penalised else 0.0

    def hessian_times(vector: FloatArray) -> FloatArray:
        vw, vb = vector[:n_words], vector[n_words]
        inner = curvature * (X @ vw + scale * vb)
        out = np.empty_like(vector)
        out[:n_words] = vw + C * (X.T @ inner)
        out[n_words] = ridge * vb + C * scale * inner.sum() if fit_intercept else vb
        return out

    hessian = LinearOperator((n_words + 1, n_words + 1), matvec=hessian_times, dtype=np.float64)
    gradient = np.concatenate(
        [Xc.T @ score_gradient, [scale * score_gradient.sum() if fit_intercept else 0.0]]
    )
    solution, _ = cg(hessian, gradient, rtol=1e-8, maxiter=1000)
    along = X @ solution[:n_words] + (scale * solution[n_words] if fit_intercept else 0.0)
    return np.asarray(-C * row_gradient * along, dtype=np.float64)


# --- any victim: refits on small batches ----------------------------------------------------------


def batch_impacts(
    template: Any,
    texts: Sequence[str],
    labels: IntArray,
    calibration_texts: Sequence[str],
    calibration_labels: IntArray,
    *,
    batch_size: int,
    rng: np.random.Generator,
) -> FloatArray | None:
    """Each candidate row's impact, as the impact of a random batch of `batch_size` rows holding
    it: the model is refitted once per batch, without it.

    For a two-step Pipeline the vectorizer is fitted once on all candidates and only the
    classifier is refitted (the vocabulary is held fixed); any other estimator is refitted whole.
    None when the candidates hold no word at all (an empty vocabulary).
    """
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    n = len(texts)
    order = rng.permutation(n)
    impacts = np.zeros(n, dtype=np.float64)
    if isinstance(template, Pipeline) and len(template.steps) == 2:
        vectorizer = clone(template.steps[0][1])
        try:
            matrix = vectorizer.fit_transform(list(texts))
        except ValueError:  # scikit-learn's "empty vocabulary"
            return None
        features = vectorizer.transform(list(calibration_texts))
        classifier = template.steps[1][1]

        def score(keep: npt.NDArray[np.bool_]) -> float:
            if np.unique(labels[keep]).size < 2:
                return float("nan")
            fitted = clone(classifier).fit(matrix[np.flatnonzero(keep)], labels[keep])
            return float(message_scores(fitted, features, calibration_labels).mean())

    else:

        def score(keep: npt.NDArray[np.bool_]) -> float:
            if np.unique(labels[keep]).size < 2:
                return float("nan")
            fitted = clone(template).fit([texts[int(i)] for i in np.flatnonzero(keep)], labels[keep])
            return float(message_scores(fitted, list(calibration_texts), calibration_labels).mean())

    everything = np.ones(n, dtype=bool)
    baseline = score(everything)
    for start in range(0, n, batch_size):
        batch = order[start : start + batch_size]
        keep = everything.copy()
        keep[batch] = False
        without = score(keep)
        impacts[batch] = 0.0 if np.isnan(without) or np.isnan(baseline) else baseline - without
    return impacts
