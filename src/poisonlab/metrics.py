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
