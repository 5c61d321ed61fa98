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
        help="bundled corpus (sms_spam, article), a CSV/TSV/JSONL/Parquet/UCI file, or e-mail: a folder "
        "of label subfolders (spam/, ham/) with .eml files, maildirs or mbox files, an mbox, or a "
        "zip/tar of them (default: sms_spam)",
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


def _clean_json(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean_json(value.item())
    return value


def versions() -> dict[str, str]:
    """Versions of poisonlab and the libraries that decide its numbers."""
    from poisonlab._versions import library_versions

    return library_versions()


def print_json(payload: dict[str, Any]) -> None:
    """Print `payload` as JSON (NaN becomes null), with the versions that produced it."""
    document = {**payload, "versions": versions()}
    sys.stdout.write(json.dumps(_clean_json(document), indent=2, ensure_ascii=False) + "\n")


def percent(value: float) -> str:
    """A share as a percentage with one decimal, or n/a."""
    return "n/a" if value != value else f"{value:.1%}"
