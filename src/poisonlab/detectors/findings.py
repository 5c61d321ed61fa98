"""`Findings`: a detector's scores together with its own flags and a reason per flagged row.

`Detector.score` is the contract every detector meets. A detector that also knows where to
draw the line (cleanlab's confident joint, a neighbour vote, a duplicate-cluster size) and why
a row looks wrong offers ``findings(dataset) -> Findings``; `poisonlab scan` uses it when present.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclasses.dataclass(frozen=True, eq=False)
class Findings:
    """Per row: a suspicion score, whether the detector's own rule flags it, and why.

    Attributes
    ----------
    scores : ndarray of float
        The detector's `score`: higher is more suspicious.
    flags : ndarray of bool
        The rows the detector's own decision rule flags.
    reasons : tuple of str
        One short sentence per row; empty for rows not flagged.

    Examples
    --------
    >>> f = Findings(np.array([0.1, 2.0]), np.array([False, True]), ("", "labelled ham, looks spam"))
    >>> f.flagged_rows().tolist()
    [1]
    """

    scores: FloatArray
    flags: BoolArray
    reasons: tuple[str, ...]

    def __post_init__(self) -> None:
        n = self.scores.shape[0]
        if self.flags.shape != (n,) or len(self.reasons) != n:
            raise ValueError(
                f"Findings need one flag and one reason per score: got {n} scores, "
                f"{self.flags.shape[0]} flags and {len(self.reasons)} reasons."
            )

    def flagged_rows(self) -> npt.NDArray[np.int64]:
        """Positions of the flagged rows, most suspicious first (ties in row order)."""
        rows = np.flatnonzero(self.flags)
        return rows[np.argsort(-self.scores[rows], kind="stable")].astype(np.int64)


__all__ = ["Findings"]
