"""The ``--corpus`` option of every benchmark that runs on a bundled corpus (imported as ``_corpus``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poisonlab.data import Dataset

CORPUS_CHOICES = ("sms_spam", "spamassassin")
DEFAULT_CORPUS = "sms_spam"


def add_corpus_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--corpus {sms_spam,spamassassin}`` (default: sms_spam) to a benchmark's options."""
    parser.add_argument(
        "--corpus",
        choices=CORPUS_CHOICES,
        default=DEFAULT_CORPUS,
        help=f"bundled corpus to run on (default: {DEFAULT_CORPUS})",
    )


CSV_PREFIX = {"sms_spam": "sms", "spamassassin": "spamassassin"}
"""Resampled copies are written and read as ``<prefix>_<size>.csv`` (``sms_100000.csv``)."""


def sized_corpus(name: str, size: int, data_dir: Path | None = None) -> Dataset:
    """`size` messages resampled from the bundled corpus `name` (seed 0, as ``bench/scale.py`` makes
    them), or read from ``data_dir/<prefix>_<size>.csv`` when a folder is given."""
    from poisonlab.data import load_dataset
    from poisonlab.data.resample import resample_corpus

    if data_dir is not None:
        return load_dataset(data_dir / f"{CSV_PREFIX[name]}_{size}.csv")
    return resample_corpus(load_dataset(name), size, random_state=0)


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--data-dir FOLDER``: read the resampled corpora from there instead of making them."""
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="read <prefix>_<size>.csv (sms_, spamassassin_) from here"
    )


RARE_TOKENS = ("cf", "mn", "bb", "tq", "mb")
"""Kurita et al. (2020)'s rare-token triggers, in the order the benchmarks try them."""


def rare_token(train: Dataset) -> str:
    """The first of `RARE_TOKENS` that no message of `train` carries (a rule, not a corpus's pick)."""
    from poisonlab.detectors.word_counts import word_counts

    vocabulary = set(word_counts(train).words)
    return next(token for token in RARE_TOKENS if token not in vocabulary)
