"""``poisonlab predict``: classify messages with a saved model file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from poisonlab._errors import DataError
from poisonlab.cli._common import EXIT_OK, print_json
from poisonlab.cli.train import add_trust_option, load_model_file

BATCH = 500

DESCRIPTION = """\
Classify messages with a model file made by `poisonlab train`. The file is loaded with skops:
a pickle is refused (unpickling runs the file author's code: a model file is itself a
poisoning vector), and so are types skops does not trust, unless --trust.

Messages come from the arguments, from --input FILE (one message per line, or JSON lines
with a "text" field for .jsonl files) or from stdin. The score is the log-odds of the last
class over the first (positive: spam). --jsonl streams one JSON object per message, keeping
the input's other fields (a timestamp, an id), ready for `poisonlab monitor`.

examples:
  poisonlab predict --model model.skops "WIN a free prize now" "see you at lunch"
  poisonlab predict --model model.skops --input messages.txt --json
  cat traffic.jsonl | poisonlab predict --model model.skops --format jsonl --jsonl > predictions.jsonl
"""


def add_parser(commands: Any) -> None:
    """Register ``predict``."""
    parser = commands.add_parser(
        "predict",
        help="classify messages with a saved model file",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="messages to classify")
    parser.add_argument(
        "--model", required=True, metavar="FILE.skops", help="model file from `poisonlab train`"
    )
    parser.add_argument("--input", metavar="FILE", help="read messages from FILE ('-': stdin)")
    parser.add_argument(
        "--format",
        choices=("lines", "jsonl"),
        help="one message per line, or JSON lines with 'text' (default: jsonl for .jsonl files, else lines)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    output.add_argument("--jsonl", action="store_true", help="stream one JSON object per message")
    add_trust_option(parser)
    parser.set_defaults(handler=run)


def _records(handle: TextIO, fmt: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(handle, start=1):
        if fmt == "lines":
            text = line.rstrip("\r\n")
            if text.strip():
                yield {"text": text}
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise DataError(f"Line {number} of the input is not valid JSON: {error}.") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise DataError(f"Line {number} of the input must be a JSON object with a string 'text'.")
        yield record


def _open_input(options: argparse.Namespace) -> tuple[TextIO, str]:
    source = options.input or "-"
    fmt = options.format or ("jsonl" if Path(source).suffix.lower() in (".jsonl", ".ndjson") else "lines")
    if source == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise DataError("No messages: give them as arguments, with --input FILE, or on stdin.")
        return sys.stdin, fmt
    try:
        return open(source, encoding="utf-8"), fmt
    except OSError as error:
        raise DataError(f"Cannot read --input {source!r}: {error.strerror or error}.") from None


def _batches(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _classify(loaded: Any, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from poisonlab.victims.scores import log_odds

    texts = [r["text"] for r in batch]
    labels = loaded.model.predict(texts)
    scores = log_odds(loaded.model, texts).tolist() if len(loaded.classes) == 2 else [None] * len(texts)
    return [
        {**record, "label": loaded.classes[int(label)], "score": score}
        for record, label, score in zip(batch, labels, scores)
    ]


def run(options: argparse.Namespace) -> int:
    """Load the model, classify, print."""
    if options.texts and options.input:
        raise DataError("Give messages as arguments or with --input, not both.")
    loaded = load_model_file(options.model, options)
    if options.texts:
        records: Iterator[dict[str, Any]] = iter([{"text": t} for t in options.texts])
        handle = None
    else:
        handle, fmt = _open_input(options)
        records = _records(handle, fmt)
    try:
        if options.jsonl:
            for batch in _batches(records):
                for row in _classify(loaded, batch):
                    sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            return EXIT_OK
        rows = [row for batch in _batches(records) for row in _classify(loaded, batch)]
    finally:
        if handle is not None and handle is not sys.stdin:
            handle.close()
    if not rows:
        raise DataError("No messages to classify: the input is empty.")
    card = loaded.card
    payload = {
        "model": options.model,
        "victim": card.victim,
        "features": card.features,
        "classes": list(card.classes),
        "training_fingerprint": card.training_data.get("fingerprint"),
        "predictions": rows,
    }
    if options.json:
        print_json(payload)
    else:
        render(payload)
    return EXIT_OK


def render(payload: dict[str, Any]) -> None:
    """A table of predictions, for people."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(
        title=f"{payload['model']}: {payload['victim']} ({payload['features']})",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("Prediction")
    table.add_column("Score", justify="right")
    table.add_column("Message", overflow="ellipsis", no_wrap=True, max_width=70)
    for i, row in enumerate(payload["predictions"], start=1):
        score = "" if row["score"] is None else f"{row['score']:+.2f}"
        table.add_row(str(i), row["label"], score, row["text"])
    console.print(table)
