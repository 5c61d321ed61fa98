"""Reading a user's labelled text file: CSV, TSV, JSONL, Parquet, or the UCI SMS format."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import os
import threading
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, cast

from poisonlab._errors import DataError, DataWarning
from poisonlab._params import check_choice
from poisonlab.data.dataset import Dataset
from poisonlab.data.labels import LEGITIMATE_VALUES, SPAM_VALUES, map_labels

FORMATS = ("csv", "tsv", "jsonl", "parquet", "uci")
TEXT_COLUMN_NAMES = ("text", "message", "sms", "body", "content", "email", "msg", "mail", "v2")
LABEL_COLUMN_NAMES = ("label", "class", "category", "target", "spam", "is_spam", "y", "v1")
ID_COLUMN_NAME = "id"
_FIELD_LIMIT_LOCK = threading.Lock()
_FIELD_LIMIT = 2**31 - 1
"""csv's per-field limit, raised from 128 KiB: a long e-mail body is one field, not an error."""

Table = dict[str, list[str]]


def load_file(
    path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    file_format: str | None = None,
    classes: Sequence[str] | None = None,
    encoding: str | None = None,
    min_classes: int = 2,
) -> Dataset:
    """Load a labelled text file into a `Dataset`, reading it line by line.

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
    encoding : str, optional
        Text encoding of the file. By default UTF-8, with any line that is not valid UTF-8 read
        as Windows-1252 and counted in a `DataWarning`; a given encoding is applied strictly.
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
        return _table_to_dataset(table, file, text_column, label_column, classes, min_classes)
    reader = _LineReader(file, encoding)
    lines = iter(reader)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise DataError(f"{file} is empty.")
    fmt = fmt or _sniff_format(first)
    rows = itertools.chain([first], lines)
    if fmt == "uci":
        dataset = _parse_uci_lines(rows, file, classes, min_classes)
    else:
        table = _parse_jsonl(rows, file) if fmt == "jsonl" else _parse_delimited(rows, file, fmt)
        dataset = _table_to_dataset(table, file, text_column, label_column, classes, min_classes)
    if reader.fallback_lines:
        warnings.warn(
            f"{file}: {reader.fallback_lines} line(s) were not valid UTF-8 and were read as "
            "Windows-1252; pass the file's encoding to read it exactly.",
            DataWarning,
            stacklevel=2,
        )
    return dataset


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


class _LineReader:
    """The decoded lines of a plain or gzipped file, read one at a time (never the whole file).

    With no `encoding`, each line is UTF-8, or else Windows-1252 (counted in `fallback_lines`):
    one stray byte costs a warning, not the load. With an explicit `encoding`, decoding is strict.
    """

    def __init__(self, file: Path, encoding: str | None) -> None:
        self.file = file
        self.encoding = encoding
        self.fallback_lines = 0
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise DataError(f"Unknown text encoding {encoding!r}.") from None

    def __iter__(self) -> Iterator[str]:
        try:
            with self.file.open("rb") as probe:
                is_gzip = probe.read(2) == b"\x1f\x8b"
            handle = gzip.open(self.file, "rb") if is_gzip else self.file.open("rb")  # noqa: SIM115
        except OSError as error:
            raise DataError(f"Cannot read {self.file}: {error.strerror or error}.") from None
        with handle:
            try:
                if self.encoding is not None:
                    yield from self._strict_lines(handle)
                    return
                for number, raw in enumerate(handle, start=1):
                    yield self._decode(raw[3:] if number == 1 and raw.startswith(codecs.BOM_UTF8) else raw)
            except (EOFError, zlib.error, gzip.BadGzipFile):
                raise DataError(f"{self.file} is a damaged or truncated gzip file.") from None
            except OSError as error:
                raise DataError(f"Cannot read {self.file}: {error.strerror or error}.") from None

    def _strict_lines(self, handle: Iterable[bytes]) -> Iterator[str]:
        codec = codecs.lookup(self.encoding or "utf-8").name
        if "\n".encode(codec) != b"\n":  # UTF-16/32: lines are not byte lines
            wrapper = io.TextIOWrapper(cast(IO[bytes], handle), encoding=codec, newline="")
            try:
                yield from wrapper
            except UnicodeDecodeError:
                raise DataError(
                    f"{self.file} is not valid {self.encoding}; pass the file's encoding."
                ) from None
            return
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 and codec == "utf-8" else codec)
            except UnicodeDecodeError as error:
                raise DataError(
                    f"Line {number} of {self.file} is not valid {self.encoding} (byte "
                    f"{raw[error.start]:#04x} at column {error.start + 1}); pass the file's encoding, "
                    "or none to read stray bytes as Windows-1252."
                ) from None

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.fallback_lines += 1
            return raw.decode("cp1252", errors="replace")


def _sniff_format(first: str) -> str:
    if first.lstrip().startswith("{"):
        return "jsonl"
    if "\t" in first:
        head = first.split("\t", 1)[0].strip().casefold()
        return "uci" if head in LEGITIMATE_VALUES | SPAM_VALUES else "tsv"
    return "csv"


def _parse_uci(text: str, file: Path, classes: Sequence[str] | None, min_classes: int = 2) -> Dataset:
    return _parse_uci_lines(text.split("\n"), file, classes, min_classes)


def _parse_uci_lines(
    lines: Iterable[str], file: Path, classes: Sequence[str] | None, min_classes: int = 2
) -> Dataset:
    labels: list[str] = []
    texts: list[str] = []
    ids: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, tab, message = line.rstrip("\n").rstrip("\r").partition("\t")
        if not tab:
            raise DataError(f"Line {number} of {file} has no TAB; the UCI SMS format is label<TAB>text.")
        labels.append(label)
        texts.append(message)
        ids.append(str(number))
    label_array, names = map_labels(labels, classes, min_classes=min_classes)
    return Dataset(texts, label_array, names, ids, name=file.name)


def _parse_delimited(lines: Iterable[str], file: Path, fmt: str | None) -> Table:
    delimiter = "\t" if fmt == "tsv" else ","
    with _FIELD_LIMIT_LOCK:  # a long e-mail body is one field, not an error; the limit only grows
        if csv.field_size_limit() < _FIELD_LIMIT:
            csv.field_size_limit(_FIELD_LIMIT)
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
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


def _parse_jsonl(lines: Iterable[str], file: Path) -> Table:
    records = []
    for number, line in enumerate(lines, start=1):
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
