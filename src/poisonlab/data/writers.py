"""Writing datasets out: CSV (spreadsheet formulas neutralised), JSONL, and mbox for mail filters.

Every writer is atomic: the file appears whole at its path, or not at all.
"""

from __future__ import annotations

import csv
import datetime
import email.generator
import email.policy
import email.utils
import io
import json
import mailbox
import os
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from numbers import Number
from pathlib import Path

import numpy as np
import numpy.typing as npt

from poisonlab._errors import DataError
from poisonlab._io import atomic_text_writer
from poisonlab.data.dataset import Dataset

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = (".csv", ".jsonl", ".mbox")
"""File name endings `write_training_set` understands, one per format."""

MBOX_SENDER = "poisonlab <poisonlab@poisonlab.invalid>"
MBOX_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
"""Every exported message has the same sender and date, so neither tells a filter anything."""

HEADER_PREFIX = "X-Poisonlab-"
_MBOX_POLICY = email.policy.default.clone(linesep="\n")
_MAX_7BIT_LINE = 998  # RFC 5322's limit on a line of a message


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


def write_jsonl(
    dataset: Dataset,
    path: str | os.PathLike[str],
    extra: Mapping[str, Sequence[object]] | None = None,
) -> None:
    """Write one JSON object per row, ``{"id", "text", "label", ...extra}``, atomically.

    Values of `extra` are written as JSON values: None becomes null, booleans stay booleans.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> write_jsonl(Dataset(["hi"], [0], ("ham", "spam")), target, {"source_row": [None]})
    >>> target.read_text()
    '{"id": "0", "text": "hi", "label": "ham", "source_row": null}\\n'
    """
    columns = dict(extra or {})
    with atomic_text_writer(path, newline="") as handle:
        for i, (row_id, text, label) in enumerate(zip(dataset.ids, dataset.texts, dataset.labels.tolist())):
            record = {"id": row_id, "text": text, "label": dataset.classes[label]}
            record.update({name: _plain(values[i]) for name, values in columns.items()})
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def header_name(column: str) -> str:
    """The mbox header that carries a column: ``is_poison`` -> ``X-Poisonlab-Is-Poison``.

    Examples
    --------
    >>> header_name("source_row")
    'X-Poisonlab-Source-Row'
    """
    return HEADER_PREFIX + "-".join(part.capitalize() for part in column.split("_"))


def write_mbox(
    dataset: Dataset,
    path: str | os.PathLike[str],
    extra: Mapping[str, Sequence[object]] | None = None,
) -> None:
    """Write one RFC 822 message per row to an mbox file, atomically.

    The row's text is the plain-text body (UTF-8; 7bit when it is ASCII with short lines,
    quoted-printable otherwise; line breaks become ``\\n``). Its id, label and each `extra`
    column go in ``X-Poisonlab-*`` headers (``X-Poisonlab-Label: spam``, the header
    `poisonlab.data.load_email` reads back); a None value leaves its header out. Every message
    has the same sender and date and no subject. A body line that starts with ``From `` is
    written ``>From `` as the mbox format requires.

    The ``X-Poisonlab-*`` headers are the answer key: a filter that reads headers would learn
    from them, so have it ignore them (SpamAssassin: ``bayes_ignore_header``) or strip them.

    Examples
    --------
    >>> import mailbox, tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.mbox"
    >>> write_mbox(Dataset(["WIN cash now"], [1], ("ham", "spam")), target, {"is_poison": [1]})
    >>> message = mailbox.mbox(target)[0]
    >>> message["X-Poisonlab-Label"], message["X-Poisonlab-Is-Poison"], message.get_payload()
    ('spam', '1', 'WIN cash now\\n')
    """
    columns = dict(extra or {})
    envelope = mailbox.mboxMessage()
    envelope.set_from("MAILER-DAEMON", MBOX_DATE.timetuple())
    separator = f"From {envelope.get_from()}\n".encode()
    buffer = io.BytesIO()
    for i, (row_id, text, label) in enumerate(zip(dataset.ids, dataset.texts, dataset.labels.tolist())):
        headers = {"id": row_id, "label": dataset.classes[label]}
        headers.update({name: values[i] for name, values in columns.items()})
        buffer.write(separator)
        generator = email.generator.BytesGenerator(buffer, mangle_from_=True, policy=_MBOX_POLICY)
        generator.flatten(_message(text, headers))
        buffer.write(b"\n")
    with atomic_text_writer(path, newline="") as handle:
        handle.write(buffer.getvalue().decode("ascii"))


def _message(text: str, headers: Mapping[str, object]) -> EmailMessage:
    message = EmailMessage(policy=_MBOX_POLICY)
    message["From"] = MBOX_SENDER
    message["Date"] = email.utils.format_datetime(MBOX_DATE)
    for name, value in headers.items():
        if value is not None:  # a header value is one line: collapse any line breaks in it
            message[header_name(name)] = " ".join(str(_plain(value)).split())
    is_short_ascii = text.isascii() and all(len(line) <= _MAX_7BIT_LINE for line in text.splitlines())
    message.set_content(text, charset="utf-8", cte="7bit" if is_short_ascii else "quoted-printable")
    return message


def _plain(value: object) -> object:
    """NumPy scalars as Python numbers, for JSON and headers."""
    return value.item() if isinstance(value, np.generic) else value


def export_format(path: str | os.PathLike[str]) -> str:
    """The format `write_training_set` uses for `path`, from its ending: csv, jsonl or mbox.

    Examples
    --------
    >>> export_format("poisoned.JSONL")
    'jsonl'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_FORMATS:
        endings = ", ".join(EXPORT_FORMATS[:-1]) + " or " + EXPORT_FORMATS[-1]
        raise DataError(f"Cannot tell how to write {str(path)!r}: name a {endings} file.")
    return suffix[1:]


def write_training_set(
    dataset: Dataset,
    path: str | os.PathLike[str],
    *,
    is_poison: npt.ArrayLike,
    source_row: npt.ArrayLike,
) -> None:
    """Write a poisoned training set with its ground truth, in the format `path` names.

    Each row gets ``is_poison`` and ``source_row``: the clean row it came from, and for an
    injected row (``source_row`` -1 in a `Poisoned` record) no source row. In CSV they are
    numbers (``is_poison`` 0/1, ``source_row`` -1 for injected rows, as in `Poisoned`); in JSONL
    a boolean and null; in an mbox the ``X-Poisonlab-Is-Poison`` header (1/0) and an
    ``X-Poisonlab-Source-Row`` header that injected messages do not have.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "poisoned.jsonl"
    >>> data = Dataset(["see you", "PROMO2026 win"], [0, 0], ("ham", "spam"), ids=["7", "poison-0"])
    >>> write_training_set(data, target, is_poison=[False, True], source_row=[0, -1])
    >>> print(target.read_text(), end="")
    {"id": "7", "text": "see you", "label": "ham", "is_poison": false, "source_row": 0}
    {"id": "poison-0", "text": "PROMO2026 win", "label": "ham", "is_poison": true, "source_row": null}
    """
    fmt = export_format(path)
    flags = np.asarray(is_poison, dtype=bool).tolist()
    sources = np.asarray(source_row, dtype=np.int64).tolist()
    if len(flags) != len(dataset) or len(sources) != len(dataset):
        raise DataError(
            f"Need one is_poison and one source_row value per row: {len(dataset)} rows, "
            f"{len(flags)} and {len(sources)} values."
        )
    if fmt == "csv":
        write_csv(dataset, path, {"is_poison": [int(f) for f in flags], "source_row": sources})
    elif fmt == "jsonl":
        write_jsonl(
            dataset, path, {"is_poison": flags, "source_row": [s if s >= 0 else None for s in sources]}
        )
    else:
        write_mbox(
            dataset,
            path,
            {"is_poison": [int(f) for f in flags], "source_row": [s if s >= 0 else None for s in sources]},
        )
