"""Reading a user's labelled text file: CSV, TSV, JSONL, Parquet, or the UCI SMS format."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

from poisonlab._errors import DataError
from poisonlab._params import check_choice
from poisonlab.data.dataset import Dataset
from poisonlab.data.labels import LEGITIMATE_VALUES, SPAM_VALUES, map_labels

FORMATS = ("csv", "tsv", "jsonl", "parquet", "uci")
TEXT_COLUMN_NAMES = ("text", "message", "sms", "body", "content", "email", "msg", "mail", "v2")
LABEL_COLUMN_NAMES = ("label", "class", "category", "target", "spam", "is_spam", "y", "v1")
ID_COLUMN_NAME = "id"
_FIELD_LIMIT_LOCK = threading.Lock()

Table = dict[str, list[str]]


def load_file(
    path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    file_format: str | None = None,
    classes: Sequence[str] | None = None,
    encoding: str = "utf-8",
    min_classes: int = 2,
) -> Dataset:
    """Load a labelled text file into a `Dataset`.

    Parameters
    ----------
    path : path-like
        A ``.csv``, ``.tsv``, ``.jsonl`` or ``.parquet`` file (each optionally ``.gz``), or a
        UCI SMS file: no header, each line ``label<TAB>text``.
    text_column, label_column : str, optional
        Column names; detected from common names (``text``, ``message``, ``label``, ``class``, ...)
        when omitted.
    file_format : {"csv", "tsv", "jsonl", "parquet", "uci"}, optional
        Overrides detection by file name and content.
    classes : sequence of str, optional
        The allowed label values, in class order; see `map_labels`.
    encoding : str
        Text encoding of the file.
    min_classes : int
        Fewest classes the labels must hold (1 for a held-out file of one class).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mail.csv"
    >>> _ = path.write_text("message,label\\nhello,ham\\nWIN NOW,spam\\n")
    >>> load_file(path).counts()
    {'ham': 1, 'spam': 1}
    """
    file = Path(path)
    if file_format is not None:
        check_choice("load_file", "file_format", file_format, FORMATS)
    if not file.exists():
        raise DataError(f"No such file: {file}.")
    if file.is_dir():
        raise DataError(f"{file} is a folder, not a data file.")
    fmt = file_format or _format_from_name(file)
    if fmt == "parquet":
        table = _read_parquet(file)
    else:
        text = _read_text(file, encoding)
        if not text.strip():
            raise DataError(f"{file} is empty.")
        fmt = fmt or _sniff_format(text)
        if fmt == "uci":
            return _parse_uci(text, file, classes, min_classes)
        table = _parse_jsonl(text, file) if fmt == "jsonl" else _parse_delimited(text, file, fmt)
    return _table_to_dataset(table, file, text_column, label_column, classes, min_classes)


def parse_uci(text: str, name: str, classes: Sequence[str] | None = None) -> Dataset:
    """Parse the UCI SMS Spam Collection format: one ``label<TAB>text`` line per message."""
    return _parse_uci(text, Path(name), classes)


def _format_from_name(file: Path) -> str | None:
    suffixes = [s.lower() for s in file.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    return {
        ".csv": "csv",
        ".tsv": "tsv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".parquet": "parquet",
    }.get(last)


def _read_bytes(file: Path) -> bytes:
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise DataError(f"Cannot read {file}: {error.strerror or error}.") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise DataError(f"{file} is a damaged or truncated gzip file.") from None
    return raw


def _read_text(file: Path, encoding: str) -> str:
    raw = _read_bytes(file)
    try:
        is_utf8 = codecs.lookup(encoding).name == "utf-8"
        return raw.decode("utf-8-sig" if is_utf8 else encoding)
    except UnicodeDecodeError as error:
        raise DataError(
            f"{file} is not valid {encoding}: byte {raw[error.start]:#04x} at offset {error.start}; "
            "re-encode the file or pass its encoding."
        ) from None
    except LookupError:
        raise DataError(f"Unknown text encoding {encoding!r}.") from None


def _sniff_format(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first:
        head = first.split("\t", 1)[0].strip().casefold()
        return "uci" if head in LEGITIMATE_VALUES | SPAM_VALUES else "tsv"
    return "csv"


def _parse_uci(text: str, file: Path, classes: Sequence[str] | None, min_classes: int = 2) -> Dataset:
    labels: list[str] = []
    texts: list[str] = []
    ids: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        label, tab, message = line.rstrip("\r").partition("\t")
        if not tab:
            raise DataError(f"Line {number} of {file} has no TAB; the UCI SMS format is label<TAB>text.")
        labels.append(label)
        texts.append(message)
        ids.append(str(number))
    label_array, names = map_labels(labels, classes, min_classes=min_classes)
    return Dataset(texts, label_array, names, ids, name=file.name)


def _parse_delimited(text: str, file: Path, fmt: str | None) -> Table:
    delimiter = "\t" if fmt == "tsv" else ","
    with _FIELD_LIMIT_LOCK:  # a long e-mail body is one field, not an error; the limit only grows
        if csv.field_size_limit() < len(text):
            csv.field_size_limit(len(text))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise DataError(f"{file} is not a readable {fmt or 'csv'} file ({error}).") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{file} has no header line and no data rows, only empty cells.")
    header, body = rows[0], rows[1:]
    if not body:
        raise DataError(f"{file} has a header line but no data rows.")
    names = [h.strip() for h in header]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise DataError(f"The header of {file} repeats the column name(s): {', '.join(map(repr, repeated))}.")
    table: Table = {name: [] for name in names}
    for number, row in enumerate(body, start=1):
        if len(row) != len(names):
            raise DataError(
                f"Data row {number} of {file} has {len(row)} fields but the header has {len(names)}."
            )
        for name, cell in zip(names, row):
            table[name].append(cell)
    return table


def _parse_jsonl(text: str, file: Path) -> Table:
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"Line {number} of {file} is not valid JSON.") from None
        if not isinstance(record, dict):
            raise DataError(f"Line {number} of {file} is not a JSON object.")
        records.append(record)
    if not records:
        raise DataError(f"{file} holds no JSON objects.")
    names = list(dict.fromkeys(key for record in records for key in record))
    return {name: ["" if r.get(name) is None else str(r.get(name)) for r in records] for name in names}


def _read_parquet(file: Path) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError("Reading Parquet needs pyarrow: pip install 'poisonlab[parquet]'.") from None
    try:
        columns = pq.read_table(io.BytesIO(_read_bytes(file))).to_pydict()
    except Exception as error:  # pyarrow raises many types for a bad file
        raise DataError(f"{file} is not a readable Parquet file ({type(error).__name__}).") from None
    if not columns or not next(iter(columns.values())):
        raise DataError(f"{file} has no rows.")
    return {name: ["" if v is None else str(v) for v in values] for name, values in columns.items()}


def _pick_column(table: Table, given: str | None, candidates: Sequence[str], role: str, file: Path) -> str:
    names = list(table)
    if given is not None:
        if given in names:
            return given
        for name in names:
            if name.casefold() == given.casefold():
                return name
        raise DataError(f"{file} has no column {given!r}; its columns are: {', '.join(names)}.")
    found = [name for name in names if name.casefold() in candidates]
    if len(found) > 1:
        raise DataError(
            f"{file} has several possible {role} columns ({', '.join(found)}); name one with --{role}-column."
        )
    if not found:
        raise DataError(
            f"Cannot tell which column of {file} holds the {role} (columns: {', '.join(names)}); "
            f"name it with --{role}-column."
        )
    return found[0]


def _table_to_dataset(
    table: Table,
    file: Path,
    text_column: str | None,
    label_column: str | None,
    classes: Sequence[str] | None,
    min_classes: int = 2,
) -> Dataset:
    text_name = _pick_column(table, text_column, TEXT_COLUMN_NAMES, "text", file)
    label_name = _pick_column(table, label_column, LABEL_COLUMN_NAMES, "label", file)
    if text_name == label_name:
        raise DataError(f"The text and label columns of {file} must differ; both are {text_name!r}.")
    try:
        labels, names = map_labels(table[label_name], classes, min_classes=min_classes)
    except DataError as error:
        raise DataError(f"{file}: {error}") from None
    ids = table.get(ID_COLUMN_NAME)
    if ids is None or len(set(ids)) != len(ids):
        ids = [str(i) for i in range(1, len(labels) + 1)]
    return Dataset(table[text_name], labels, names, ids, name=file.name)
