"""A surrogate victim: the attacker's own copy of the model, trained on the clean data.

Attacks that choose rows by how the victim would see them train a registered victim on the
clean training set and read its margin for a class: positive when the model picks that class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab.data.dataset import Dataset


def fit_surrogate(dataset: Dataset, name: str, random_state: int) -> Any:
    """A fresh ``make_victim(name)`` Pipeline fitted on `dataset`; a `DataError` if it cannot be."""
    from poisonlab.victims.factory import make_victim

    model = make_victim(name, random_state=random_state)
    try:
        return model.fit(list(dataset.texts), dataset.labels)
    except ValueError as error:  # scikit-learn: no words at all, or a single class for a linear model
        reason = str(error).splitlines()[0].rstrip(".") if str(error) else type(error).__name__
        raise DataError(f"The surrogate victim {name!r} cannot be trained on this data ({reason}).") from None


def class_margin(model: Any, texts: Sequence[str], cls: int) -> npt.NDArray[np.float64]:
    """Per text, the fitted `model`'s score for class `cls` minus its best other class's score.

    Scores are log-probabilities (Naive Bayes) or decision values (linear models); a positive
    margin means the model predicts `cls`.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> nb = make_victim("nb").fit(["cheap pills", "see you soon"], [1, 0])
    >>> (class_margin(nb, ["cheap pills", "see you"], 1) > 0).tolist()
    [True, False]
    """
    classes = list(model.classes_)
    if hasattr(model, "decision_function"):
        try:
            raw = np.asarray(model.decision_function(list(texts)), dtype=np.float64)
        except AttributeError:  # a Pipeline whose classifier has no decision_function
            raw = np.asarray(model.predict_log_proba(list(texts)), dtype=np.float64)
    else:
        raw = np.asarray(model.predict_log_proba(list(texts)), dtype=np.float64)
    scores = np.column_stack([-raw / 2, raw / 2]) if raw.ndim == 1 else raw
    if cls not in classes:  # the model never saw the class: it can never predict it
        return np.full(len(texts), -np.inf)
    column = classes.index(cls)
    others = np.delete(scores, column, axis=1)
    if others.shape[1] == 0:
        return np.full(len(texts), np.inf)
    margin: npt.NDArray[np.float64] = scores[:, column] - others.max(axis=1)
    return margin
