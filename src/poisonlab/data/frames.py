"""Tables in and out: a pandas DataFrame as a `Dataset`, a data file's columns read and written whole.

`poisonlab scan --clean` keeps every column of the user's file, so the file is read here as
columns of text (the rows `load_file` turns into a dataset, in the same order) and written back
without the rows a scan names, in CSV, JSONL or Parquet.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._io import atomic_text_writer
from poisonlab.data.dataset import Dataset
from poisonlab.data.ground_truth import GROUND_TRUTH_COLUMN
from poisonlab.data.labels import map_labels
from poisonlab.data.writers import neutralise_formula

Columns = dict[str, list[str]]
TABLE_FORMATS = (".csv", ".tsv", ".jsonl", ".parquet")
BoolArray = npt.NDArray[np.bool_]


def dataset_from_frame(
    frame: Any,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    classes: Sequence[str] | None = None,
    name: str = "dataframe",
) -> tuple[Dataset, BoolArray | None]:
    """A `Dataset` from a pandas DataFrame, and its ``is_poison`` column when it has one.

    Columns are found as in files (``text``, ``message``, ... and ``label``, ``class``, ...)
    unless named; an ``id`` column with unique values gives the ids.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"message": ["hi", "WIN NOW"], "label": ["ham", "spam"], "is_poison": [0, 1]})
    >>> data, truth = dataset_from_frame(frame)
    >>> data.counts(), truth.tolist()
    ({'ham': 1, 'spam': 1}, [False, True])
    """
    from poisonlab.data.loaders import _table_to_dataset

    if not hasattr(frame, "columns") or not hasattr(frame, "to_dict"):
        raise DataError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    if len(frame) == 0:
        raise DataError("The DataFrame has no rows.")
    table = {
        str(column): ["" if _missing(value) else str(value) for value in frame[column].tolist()]
        for column in frame.columns
    }
    dataset = _table_to_dataset(table, Path(name), text_column, label_column, classes)
    truth = None
    match = next((c for c in table if c.strip().casefold() == GROUND_TRUTH_COLUMN), None)
    if match is not None:  # read as `read_is_poison` reads a file's column
        try:
            flags, _ = map_labels(table[match], ("ham", "spam"), min_classes=1)
        except DataError as error:
            raise DataError(f"The {match!r} column must hold 0/1 or true/false: {error}") from None
        truth = np.asarray(flags == 1, dtype=bool)
    return dataset, truth


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def read_columns(path: str | os.PathLike[str], *, encoding: str | None = None) -> Columns:
    """Every column of a CSV, TSV, JSONL or Parquet data file as text, one value per row, in
    the order `poisonlab.data.load_file` reads the rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mail.csv"
    >>> _ = path.write_text("message,label,sender\\nhello,ham,ann\\nWIN,spam,bob\\n")
    >>> read_columns(path)
    {'message': ['hello', 'WIN'], 'label': ['ham', 'spam'], 'sender': ['ann', 'bob']}
    """
    from poisonlab.data.loaders import (
        _format_from_name,
        _LineReader,
        _parse_delimited,
        _parse_jsonl,
        _read_parquet,
        _sniff_format,
    )

    file = Path(path)
    if not file.is_file():
        raise DataError(f"No such file: {file}.")
    fmt = _format_from_name(file)
    if fmt == "parquet":
        return _read_parquet(file)
    lines = iter(_LineReader(file, encoding))
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise DataError(f"{file} is empty.")
    fmt = fmt or _sniff_format(first)
    rows = [first, *lines]
    if fmt == "uci":
        pairs = [line.rstrip("\r\n").split("\t", 1) for line in rows if line.strip()]
        return {"label": [p[0] for p in pairs], "text": [p[1] if len(p) > 1 else "" for p in pairs]}
    return _parse_jsonl(rows, file) if fmt == "jsonl" else _parse_delimited(rows, file, fmt)


def dataset_columns(dataset: Dataset) -> Columns:
    """A dataset as ``id``, ``text`` and ``label`` columns (for data that is not a table file)."""
    return {
        "id": list(dataset.ids),
        "text": list(dataset.texts),
        "label": [dataset.classes[label] for label in dataset.labels.tolist()],
    }


def table_format(path: str | os.PathLike[str]) -> str:
    """The format a table is written in, from the file name: csv, tsv, jsonl or parquet.

    Examples
    --------
    >>> table_format("flags.JSONL")
    'jsonl'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise DataError(
            f"Cannot tell how to write {str(path)!r}: name a .csv, .tsv, .jsonl or .parquet file."
        )
    return suffix[1:]


def write_columns(columns: Mapping[str, Sequence[object]], path: str | os.PathLike[str]) -> None:
    """Write columns of equal length as a table, atomically, in the format `path` names.

    CSV and TSV cells that a spreadsheet would run as formulas are neutralised (numbers and
    booleans are written as they are); JSONL keeps None, numbers and booleans as JSON values;
    Parquet needs pyarrow.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "flags.csv"
    >>> write_columns({"id": ["a", "b"], "confidence": [0.99, None], "reason": ["=x", "ok"]}, target)
    >>> target.read_text().splitlines()
    ['id,confidence,reason', "a,0.99,'=x", 'b,,ok']
    """
    fmt = table_format(path)
    names = list(columns)
    sizes = {len(values) for values in columns.values()}
    if len(sizes) > 1:
        raise DataError(f"Columns of a table must be equally long, got lengths {sorted(sizes)}.")
    n = sizes.pop() if sizes else 0
    if fmt == "parquet":
        _write_parquet(columns, path)
        return
    with atomic_text_writer(path, newline="") as handle:
        if fmt == "jsonl":
            for i in range(n):
                record = {name: _plain(columns[name][i]) for name in names}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        writer = csv.writer(handle, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        writer.writerow(names)
        for i in range(n):
            writer.writerow([_cell(columns[name][i]) for name in names])


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _cell(value: object) -> object:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    return neutralise_formula(str(value))


def _write_parquet(columns: Mapping[str, Sequence[object]], path: str | os.PathLike[str]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError("Writing Parquet needs pyarrow: pip install 'poisonlab[parquet]'.") from None
    from poisonlab._io import atomic_binary_writer

    table = pa.table({name: [_plain(v) for v in values] for name, values in columns.items()})
    with atomic_binary_writer(path) as handle:
        pq.write_table(table, handle)


__all__ = [
    "TABLE_FORMATS",
    "dataset_columns",
    "dataset_from_frame",
    "read_columns",
    "table_format",
    "write_columns",
]
