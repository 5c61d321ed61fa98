"""A victim's continuous score for the last class: the log-odds behind each decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


def log_odds(model: Any, texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """Per text, the fitted binary `model`'s log-odds of its second class over its first.

    Uses ``decision_function`` (logistic regression: the logit; linear SVM: the margin) and
    otherwise the difference of ``predict_log_proba`` columns (Naive Bayes).

    Examples
    --------
    >>> from poisonlab.victims import make_victim
    >>> nb = make_victim("nb").fit(["cheap pills", "see you soon"], [1, 0])
    >>> bool(log_odds(nb, ["cheap pills"])[0] > 0)
    True
    """
    if hasattr(model, "decision_function"):
        try:
            return np.asarray(model.decision_function(list(texts)), dtype=np.float64)
        except AttributeError:  # a Pipeline whose last step has no decision_function
            pass
    log_proba = np.asarray(model.predict_log_proba(list(texts)), dtype=np.float64)
    return log_proba[:, 1] - log_proba[:, 0]
