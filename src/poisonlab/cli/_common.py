"""Shared CLI pieces: exit codes, common options, JSON and console output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


MAX_SEED = 2**32 - 1
"""The largest seed every victim accepts (scikit-learn's ``random_state`` limit)."""


def seed(text: str) -> int:
    """An argparse type: a seed, an int in [0, 2**32 - 1], as NumPy and scikit-learn require."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, {MAX_SEED}], got {value}")
    return value


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Options every data-consuming command shares."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        default="sms_spam",
        metavar="NAME|PATH",
        help="bundled corpus (sms_spam, spamassassin, article), a CSV/TSV/JSONL/Parquet/UCI file, or "
        "e-mail: a folder of label subfolders (spam/, ham/) with .eml files, .txt message files, "
        "maildirs or mbox files, an mbox, or a zip/tar of them (default: sms_spam)",
    )
    group.add_argument("--test", metavar="PATH", help="separate held-out file; without it --data is split")
    group.add_argument("--text-column", metavar="NAME", help="text column of a file (default: detected)")
    group.add_argument("--label-column", metavar="NAME", help="label column of a file (default: detected)")
    group.add_argument(
        "--encoding",
        metavar="NAME",
        help="text encoding of a file (default: UTF-8, stray bytes read as Windows-1252 with a warning)",
    )
    group.add_argument(
        "--labels", metavar="CSV", help="e-mail only: CSV of message location or Message-ID, label"
    )
    group.add_argument(
        "--split-seed",
        type=seed,
        default=None,
        metavar="INT",
        help="seed of the train/test split only, independent of --seed (default: 2026)",
    )


def load_data_split(options: argparse.Namespace) -> tuple[Any, Any]:
    """The train and test datasets named by the data options of `options`."""
    from poisonlab.data import DEFAULT_SPLIT_SEED, load_train_test

    return load_train_test(
        options.data,
        test=options.test,
        split_seed=DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed,
        text_column=options.text_column,
        label_column=options.label_column,
        encoding=options.encoding,
        labels=options.labels,
    )


def add_victim_options(parser: argparse.ArgumentParser) -> None:
    """Options choosing the victim model."""
    from poisonlab.victims import FEATURES, VICTIMS

    group = parser.add_argument_group("victim")
    group.add_argument(
        "--victim",
        default="nb",
        choices=VICTIMS.names(),
        help="model under attack (default: nb, the article's CountVectorizer + MultinomialNB)",
    )
    group.add_argument("--features", default="count", choices=FEATURES, help="text features (default: count)")
    group.add_argument(
        "--seed", type=seed, default=0, metavar="INT", help="seeds attacks and models (default: 0)"
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json``: one JSON object on stdout instead of tables."""
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


_INLINE_AFTER = 64
"""Lists of more plain values than this (per-row scores, ids) print on one line: a million-row
scan's report stays readable and is encoded by the json module's C encoder, ten times faster
than its indenting one."""
_PLAIN = frozenset({int, float, str, bool, type(None)})


def _clean_json(value: Any, inline: dict[str, str] | None = None, tag: str = "") -> Any:
    """`value` made JSON-ready: NaN and infinities become null, numpy scalars plain; with `inline`,
    long lists of plain values are encoded there and replaced by their placeholder key."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _clean_json(v, inline, tag) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        kinds = set(map(type, value)) if inline is not None and len(value) > _INLINE_AFTER else {dict}
        if inline is not None and kinds <= _PLAIN:
            floats = value if kinds == {float} else [v for v in value if type(v) is float]
            if not all(map(math.isfinite, floats)):
                value = [None if type(v) is float and not math.isfinite(v) else v for v in value]
            key = f"{tag}{len(inline)}"
            inline[key] = json.dumps(value, ensure_ascii=False)
            return key
        return [_clean_json(v, inline, tag) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean_json(value.item(), inline, tag)
    return value


def json_text(payload: dict[str, Any]) -> str:
    """`payload` as indented JSON (NaN becomes null); long lists of plain values on one line.

    Examples
    --------
    >>> lines = json_text({"a": [1.0, float("nan")], "n": list(range(70))}).splitlines()
    >>> lines[2:4], lines[-2].startswith('  "n": [0, 1, 2, 3,'), len(lines)
    (['    1.0,', '    null'], True, 7)
    """
    import secrets

    inline: dict[str, str] = {}
    tag = f"inline-{secrets.token_hex(16)}-"  # a placeholder no string in the payload can hold
    text = json.dumps(_clean_json(payload, inline, tag), indent=2, ensure_ascii=False)
    if not inline:
        return text
    parts = text.split(f'"{tag}')
    pieces = [parts[0]]
    for part in parts[1:]:
        number, rest = part.split('"', 1)
        pieces.append(inline[f"{tag}{number}"])
        pieces.append(rest)
    return "".join(pieces)


def versions() -> dict[str, str]:
    """Versions of poisonlab and the libraries that decide its numbers."""
    from poisonlab._versions import library_versions

    return library_versions()


def print_json(payload: dict[str, Any]) -> None:
    """Print `payload` as JSON (NaN becomes null), with the versions that produced it."""
    document = {**payload, "versions": versions()}
    sys.stdout.write(json_text(document) + "\n")


def percent(value: float) -> str:
    """A share as a percentage with one decimal, or n/a."""
    return "n/a" if value != value else f"{value:.1%}"
