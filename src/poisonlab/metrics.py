"""Metrics as plain functions: label arrays in, floats out.

Glossary: CACC is clean accuracy on held-out data; ham loss is the share of legitimate
messages classified spam; spam leak is the share of spam classified legitimate; ASR is the
attack success rate of a backdoor (see `attack_success_rate`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from poisonlab._errors import ParameterError

Labels = npt.ArrayLike


def _paired(first: npt.ArrayLike, second: npt.ArrayLike) -> tuple[npt.NDArray[np.generic], ...]:
    """Both arrays, after checking they are one-dimensional and of one length (no broadcasting)."""
    a, b = np.asarray(first), np.asarray(second)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ParameterError(
            f"Metrics need two flat arrays of one length, one value per message: got shapes {a.shape} "
            f"and {b.shape}."
        )
    return a, b


def accuracy(y_true: Labels, y_pred: Labels) -> float:
    """Share of predictions equal to the truth (CACC when `y_true` is clean held-out data).

    Examples
    --------
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    truth, pred = _paired(y_true, y_pred)
    return float(np.mean(truth == pred)) if truth.size else float("nan")


def _rate(y_true: Labels, y_pred: Labels, actual: int, predicted: int) -> float:
    truth, pred = _paired(y_true, y_pred)
    members = truth == actual
    return float(np.mean(pred[members] == predicted)) if members.any() else float("nan")


def ham_loss(y_true: Labels, y_pred: Labels, *, ham: int = 0, spam: int = 1) -> float:
    """Share of legitimate (`ham`) messages classified `spam`: mail the filter wrongly blocks.

    Examples
    --------
    >>> ham_loss([0, 0, 0, 1], [0, 1, 0, 1])
    0.3333333333333333
    """
    return _rate(y_true, y_pred, ham, spam)


def spam_leak(y_true: Labels, y_pred: Labels, *, ham: int = 0, spam: int = 1) -> float:
    """Share of `spam` messages classified legitimate (`ham`): spam that gets through.

    Examples
    --------
    >>> spam_leak([1, 1, 0, 1], [0, 1, 0, 1])
    0.3333333333333333
    """
    return _rate(y_true, y_pred, spam, ham)


def per_class_scores(y_true: Labels, y_pred: Labels, n_classes: int) -> npt.NDArray[np.float64]:
    """Precision, recall and F1 for each class: an array of shape ``(n_classes, 3)``.

    A class never predicted has precision 0 (scikit-learn's ``zero_division=0``).

    Examples
    --------
    >>> per_class_scores([0, 0, 1, 1], [0, 1, 1, 1], 2).round(3).tolist()
    [[1.0, 0.5, 0.667], [0.667, 1.0, 0.8]]
    """
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(n_classes)), zero_division=0
    )
    return np.column_stack([precision, recall, f1]).astype(np.float64)


def asr_eligible(y_true: Labels, clean_pred_triggered: Labels, *, source: int) -> npt.NDArray[np.bool_]:
    """The held-out messages an attack success rate counts.

    A message counts when it is truly of the `source` class and the clean model, given the
    triggered message, still classifies it `source`. Excluded, and worth reporting: messages of
    other classes, and source messages the clean model gets wrong once triggered (the trigger
    text alone, or the model's own error, would explain the flip, not the poison).

    Examples
    --------
    >>> asr_eligible([1, 1, 1, 0], [1, 0, 1, 1], source=1).tolist()
    [True, False, True, False]
    """
    truth, clean = _paired(y_true, clean_pred_triggered)
    eligible: npt.NDArray[np.bool_] = (truth == source) & (clean == source)
    return eligible


def attack_success_rate(poisoned_pred_triggered: Labels, eligible: npt.ArrayLike, *, target: int) -> float:
    """ASR: of the `eligible` messages, the share the poisoned model puts in `target` when triggered.

    Returns NaN when nothing is eligible.

    Examples
    --------
    >>> attack_success_rate([0, 0, 1, 0], [True, True, True, False], target=0)
    0.6666666666666666
    """
    pred, mask = _paired(poisoned_pred_triggered, np.asarray(eligible, dtype=bool))
    return float(np.mean(pred[mask] == target)) if mask.any() else float("nan")


# --- detection: a detector's flags and scores against an attack's is_poison truth --------------


def _flag_counts(is_poison: npt.ArrayLike, flags: npt.ArrayLike) -> tuple[int, int, int]:
    truth, flagged = (np.asarray(a, dtype=bool) for a in _paired(is_poison, flags))
    return int((truth & flagged).sum()), int(flagged.sum()), int(truth.sum())


def detection_precision(is_poison: npt.ArrayLike, flags: npt.ArrayLike) -> float:
    """Share of flagged rows that are poison; NaN when nothing is flagged.

    Examples
    --------
    >>> detection_precision([True, False, True, False], [True, True, False, False])
    0.5
    """
    hits, flagged, _ = _flag_counts(is_poison, flags)
    return hits / flagged if flagged else float("nan")


def detection_recall(is_poison: npt.ArrayLike, flags: npt.ArrayLike) -> float:
    """Share of poison rows that are flagged; NaN when there is no poison.

    Examples
    --------
    >>> detection_recall([True, False, True, False], [True, True, False, False])
    0.5
    """
    hits, _, poison = _flag_counts(is_poison, flags)
    return hits / poison if poison else float("nan")


def detection_f1(is_poison: npt.ArrayLike, flags: npt.ArrayLike) -> float:
    """Harmonic mean of detection precision and recall; 0 when nothing flagged is poison.

    NaN when there is no poison and nothing is flagged (nothing to find, nothing claimed).

    Examples
    --------
    >>> detection_f1([True, False, True, False], [True, True, True, False])
    0.8
    """
    hits, flagged, poison = _flag_counts(is_poison, flags)
    return 2 * hits / (flagged + poison) if flagged + poison else float("nan")


def _scored(
    is_poison: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]] | None:
    paired = _paired(is_poison, scores)
    truth = paired[0].astype(bool)
    values = paired[1].astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ParameterError("Detection scores must be finite numbers, one per row.")
    if truth.all() or not truth.any():
        return None
    return truth, values


def auroc(is_poison: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Area under the ROC curve of `scores` ranking poison above clean rows (scikit-learn).

    0.5 is chance, 1 a perfect ranking; NaN when the rows are all poison or all clean.

    Examples
    --------
    >>> auroc([False, False, True, True], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from sklearn.metrics import roc_auc_score

    pair = _scored(is_poison, scores)
    return float(roc_auc_score(pair[0], pair[1])) if pair else float("nan")


def average_precision(is_poison: npt.ArrayLike, scores: npt.ArrayLike) -> float:
    """Average precision of `scores` for finding poison rows (scikit-learn); the poison share is chance.

    NaN when the rows are all poison or all clean.

    Examples
    --------
    >>> round(average_precision([False, False, True, True], [0.1, 0.4, 0.35, 0.8]), 3)
    0.833
    """
    from sklearn.metrics import average_precision_score

    pair = _scored(is_poison, scores)
    return float(average_precision_score(pair[0], pair[1])) if pair else float("nan")


def recall_at_fpr(is_poison: npt.ArrayLike, scores: npt.ArrayLike, max_fpr: float) -> float:
    """Highest share of poison rows found by a threshold on `scores` that flags at most a
    `max_fpr` share of clean rows (ties at the threshold are flagged together).

    NaN when the rows are all poison or all clean.

    Examples
    --------
    >>> recall_at_fpr([False, False, False, False, True, True], [0.1, 0.2, 0.3, 0.9, 0.8, 0.95], 0.25)
    1.0
    >>> recall_at_fpr([False, False, False, False, True, True], [0.1, 0.2, 0.3, 0.9, 0.8, 0.95], 0.0)
    0.5
    """
    from sklearn.metrics import roc_curve

    if isinstance(max_fpr, bool) or not isinstance(max_fpr, (int, float)) or not 0.0 <= max_fpr <= 1.0:
        raise ParameterError(
            f"The 'max_fpr' parameter of recall_at_fpr must be a float in [0, 1]. Got {max_fpr!r} instead."
        )
    pair = _scored(is_poison, scores)
    if pair is None:
        return float("nan")
    fpr, tpr, _ = roc_curve(pair[0], pair[1], drop_intermediate=False)
    return float(tpr[fpr <= max_fpr + 1e-12].max())
