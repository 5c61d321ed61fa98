"""The poison ground truth a data file may carry: the ``is_poison`` column `poisonlab attack --out` writes."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError

GROUND_TRUTH_COLUMN = "is_poison"
BoolArray = npt.NDArray[np.bool_]
_PEEK_BYTES = 1 << 20


def read_is_poison(
    path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    column: str = GROUND_TRUTH_COLUMN,
) -> BoolArray | None:
    """The ``is_poison`` flags of a data file, one per row as `load_file` reads it, or None.

    None when the file has no such column (a user's own data, a UCI file). Values are read as
    labels are (``1``/``0``, ``true``/``false``, ``yes``/``no``); any other value is an error.
    The rows are the ones `poisonlab.data.load_file` keeps, so the flags line up with them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "poisoned.csv"
    >>> _ = path.write_text("id,text,label,is_poison\\n1,hi,ham,0\\n2,WIN,ham,1\\n")
    >>> read_is_poison(path).tolist()
    [False, True]
    >>> _ = path.write_text("text,label\\nhi,ham\\nWIN,spam\\n")
    >>> read_is_poison(path) is None
    True
    """
    from poisonlab.data.loaders import load_file

    file = Path(path)
    names = _column_names(file)
    match = next((name for name in names if name.strip().casefold() == column.casefold()), None)
    if match is None:
        return None
    try:
        flags = load_file(
            file, text_column=text_column, label_column=match.strip(), classes=("ham", "spam"), min_classes=1
        )
    except DataError as error:
        raise DataError(f"The {column!r} column of {file} must hold 0/1 or true/false: {error}") from None
    return np.asarray(flags.labels == 1, dtype=bool)


def _column_names(file: Path) -> list[str]:
    """The column names of a CSV/TSV/JSONL/Parquet file, from its first lines; [] for other files."""
    suffixes = [s.lower() for s in file.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] == ".parquet":
        try:
            import pyarrow.parquet as pq

            return [str(name) for name in pq.read_schema(file).names]
        except Exception:  # no pyarrow or not Parquet: the loader says why when it reads the file
            return []
    try:
        with open(file, "rb") as handle:
            head = handle.read(_PEEK_BYTES)
    except OSError:
        return []
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(file, "rb") as handle:
                head = handle.read(_PEEK_BYTES)
        except (OSError, EOFError):
            return []
    text = head.decode("utf-8-sig", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    first = lines[0]
    if first.lstrip().startswith("{"):
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            return []
        return [str(key) for key in record] if isinstance(record, dict) else []
    delimiter = "\t" if "\t" in first and "," not in first.split("\t")[0] else ","
    if suffixes and suffixes[-1] == ".tsv":
        delimiter = "\t"
    try:
        return next(csv.reader(io.StringIO(first), delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []


__all__ = ["GROUND_TRUTH_COLUMN", "read_is_poison"]
