"""Fixtures for the CLI tests: run ``poisonlab`` in-process, write small user data files."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from poisonlab.cli import main
from poisonlab.data import Dataset, load_dataset


@dataclasses.dataclass(frozen=True)
class Run:
    """One in-process run of ``poisonlab``: exit code and what it printed."""

    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        """Stdout as one strict JSON object (NaN or Infinity would be an error)."""
        assert self.code == 0, self.err
        document = json.loads(self.out, parse_constant=_reject_constant)
        assert isinstance(document, dict)
        return document


def _reject_constant(name: str) -> None:
    raise AssertionError(f"stdout is not strict JSON: it holds {name}")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`cli("attack", "label-flip", ...)`: run ``poisonlab`` in-process and capture its output."""

    def run(*argv: str) -> Run:
        capsys.readouterr()  # drop anything printed before
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def _check_error(run: Run, *, usage: bool = False) -> str:
    """Assert `run` failed as bad input: exit 2, one clear line on stderr, no traceback."""
    assert run.code == 2, (run.code, run.err)
    assert "Traceback" not in run.err and "Traceback" not in run.out
    lines = run.err.strip().splitlines()
    assert lines, "an error must say something on stderr"
    if usage:  # argparse: usage lines, then "poisonlab ...: error: ..."
        assert lines[0].startswith("usage: poisonlab")
        assert lines[-1].startswith("poisonlab") and ": error: " in lines[-1]
    else:
        assert len(lines) == 1, run.err
        assert lines[0].startswith("poisonlab: error: ")
    assert run.out == "", "nothing on stdout when a command fails"
    return lines[-1]


@pytest.fixture(scope="session")
def check_error() -> Callable[..., str]:
    """`check_error(run, usage=False)`: assert a bad-input failure; return its error line."""
    return _check_error


def write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """Write a CSV file with the csv module (quoting done right)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def sms_parts() -> dict[str, Dataset]:
    """Real SMS messages with distinct texts: ``train`` holds 40 ham and 20 spam, ``test`` 20 and 10."""
    corpus = load_dataset("sms_spam")
    rows: dict[int, list[int]] = {0: [], 1: []}
    seen: set[str] = set()
    for row, (text, label) in enumerate(zip(corpus.texts, corpus.labels.tolist())):
        if len(rows[label]) < (60 if label == 0 else 30) and text not in seen:
            rows[label].append(row)
            seen.add(text)
    return {
        "train": corpus.take(sorted(rows[0][:40] + rows[1][:20])),
        "test": corpus.take(sorted(rows[0][40:] + rows[1][20:])),
    }


@pytest.fixture
def user_csv(tmp_path: Path, sms_parts: dict[str, Dataset]) -> Callable[..., Path]:
    """`user_csv(name, part="train", header=("text", "label"))`: a CSV file of real SMS rows."""

    def make(name: str, part: str = "train", header: Sequence[str] = ("text", "label")) -> Path:
        data = sms_parts[part]
        body = [(text, data.classes[label]) for text, label in zip(data.texts, data.labels.tolist())]
        return write_rows(tmp_path / name, header, body)

    return make
