"""Training a victim on some rows of a dataset, or with per-row weights: what the defenses that
drop or down-weight rows (sanitize, RONI, trimming) share."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError, ParameterError
from poisonlab.data.dataset import Dataset
from poisonlab.victims.factory import VictimFactory

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def final_step(model: Any) -> tuple[str | None, Any]:
    """The name and estimator of a Pipeline's last step; ``(None, model)`` for a bare estimator."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        name, step = model.steps[-1]
        return name, step
    return None, model


def supports_sample_weight(model: Any) -> bool:
    """Whether `model` (a Pipeline or an estimator) can be fitted with per-row weights.

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> supports_sample_weight(make_victim("logreg")), supports_sample_weight(make_victim("nb"))
    (True, True)
    """
    from sklearn.utils.validation import has_fit_parameter

    return bool(has_fit_parameter(final_step(model)[1], "sample_weight"))


def fit_rows(
    factory: VictimFactory,
    dataset: Dataset,
    keep: BoolArray | None = None,
    weights: FloatArray | None = None,
    *,
    owner: str = "the defense",
) -> Any:
    """A fresh victim from `factory` fitted on the `keep` rows of `dataset`, with `weights`.

    Weights go to the classifier step (``classifier__sample_weight`` for a Pipeline). A kept set
    with fewer than two classes cannot train a classifier: that is a `DataError` naming `owner`.
    """
    keep = np.ones(len(dataset), dtype=bool) if keep is None else keep
    labels = dataset.labels[keep]
    present = np.unique(labels)
    if present.size < 2:
        missing = [dataset.classes[c] for c in range(len(dataset.classes)) if c not in set(present.tolist())]
        raise DataError(
            f"{owner} left {int(keep.sum())} training rows, none of class {', '.join(map(repr, missing))}: "
            "no classifier can be trained; flag or trim fewer rows."
        )
    model = factory()
    texts = [dataset.texts[i] for i in np.flatnonzero(keep)]
    if weights is None:
        return model.fit(texts, labels)
    if not supports_sample_weight(model):
        raise ParameterError(
            f"{owner} down-weights rows, but the victim's {type(final_step(model)[1]).__name__} takes "
            "no sample_weight; remove the rows instead."
        )
    name, _ = final_step(model)
    key = "sample_weight" if name is None else f"{name}__sample_weight"
    return model.fit(texts, labels, **{key: np.asarray(weights, dtype=np.float64)[keep]})
