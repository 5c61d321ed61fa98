"""Writing datasets out: CSV with spreadsheet formula injection neutralised."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from numbers import Number

from poisonlab._io import atomic_text_writer
from poisonlab.data.dataset import Dataset

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(cell: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with a single quote.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(1)"), neutralise_formula("hello")
    ("'=HYPERLINK(1)", 'hello')
    """
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def write_csv(
    dataset: Dataset,
    path: str | os.PathLike[str],
    extra: Mapping[str, Sequence[object]] | None = None,
) -> None:
    """Write ``id,text,label`` plus `extra` columns, atomically, formulas neutralised.

    Numbers (``is_poison``, ``source_row`` of -1) are written as they are; every other cell is
    text and is neutralised.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> write_csv(Dataset(["=1+1", "hi"], [1, 0], ("ham", "spam")), target, {"source_row": [-1, 0]})
    >>> target.read_text().splitlines()
    ['id,text,label,source_row', "0,'=1+1,spam,-1", '1,hi,ham,0']
    """
    columns = dict(extra or {})
    with atomic_text_writer(path, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "text", "label", *columns])
        for i, (row_id, text, label) in enumerate(zip(dataset.ids, dataset.texts, dataset.labels.tolist())):
            cells = [row_id, text, dataset.classes[label], *(columns[c][i] for c in columns)]
            writer.writerow(
                [cell if isinstance(cell, Number) else neutralise_formula(str(cell)) for cell in cells]
            )
