"""Atomic output (`poisonlab._io.atomic_text_writer`) and the CSV writer behind ``--out``."""

from __future__ import annotations

import csv
import os

import pytest

from poisonlab._io import atomic_text_writer
from poisonlab.data import Dataset
from poisonlab.data.writers import neutralise_formula, write_csv


def test_the_file_appears_with_its_contents_and_nothing_else(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_text_writer(target) as handle:
        handle.write("caf\u00e9 \u2713\n")
        assert not target.exists(), "the target appears only when the block ends"
    assert target.read_bytes() == "caf\u00e9 \u2713\n".encode()
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_error_in_the_block_creates_nothing(tmp_path, error):
    target = tmp_path / "out.txt"
    with pytest.raises(type(error)), atomic_text_writer(target) as handle:
        handle.write("half of it")
        raise error
    assert os.listdir(tmp_path) == [], "neither the target nor a temporary file may remain"


def test_an_error_in_the_block_leaves_an_existing_target_unchanged(tmp_path):
    target = tmp_path / "out.txt"
    target.write_bytes(b"the old contents\n")
    with pytest.raises(ValueError, match="bad row"), atomic_text_writer(target) as handle:
        handle.write("new contents that must not land")
        raise ValueError("bad row")
    assert target.read_bytes() == b"the old contents\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_finished_block_replaces_an_existing_target(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with atomic_text_writer(target) as handle:
        handle.write("new")
    assert target.read_text(encoding="utf-8") == "new"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_relative_path_is_written_in_the_working_directory(workdir):
    with atomic_text_writer("plain.txt") as handle:
        handle.write("x")
    assert os.listdir(workdir) == ["plain.txt"]


def test_newline_argument_is_honoured(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_text_writer(target, newline="") as handle:
        handle.write("a\r\nb\n")
    assert target.read_bytes() == b"a\r\nb\n"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44 call", "'+44 call"),
        ("-5 off", "'-5 off"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("hello = world", "hello = world"),
        ("", ""),
    ],
)
def test_neutralise_formula(cell, written):
    assert neutralise_formula(cell) == written


def test_write_csv_keeps_numbers_and_neutralises_text(tmp_path):
    data = Dataset(
        ["=cmd|' /C calc'!A0", "-1 day left", "fine"], [1, 0, 0], ("ham", "spam"), ["-7", "b", "c"]
    )
    target = tmp_path / "out.csv"
    write_csv(data, target, {"is_poison": [1, 0, 0], "source_row": [-1, 0, 1]})
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["id", "text", "label", "is_poison", "source_row"],
        ["'-7", "'=cmd|' /C calc'!A0", "spam", "1", "-1"],
        ["b", "'-1 day left", "ham", "0", "0"],
        ["c", "fine", "ham", "0", "1"],
    ]


def test_write_csv_round_trips_quotes_commas_and_newlines(tmp_path):
    texts = ['say "hi", then go', "two\nlines", "comma, here", "caf\u00e9"]
    data = Dataset(texts, [0, 1, 0, 1], ("ham", "spam"))
    target = tmp_path / "out.csv"
    write_csv(data, target)
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["text"] for row in rows] == texts
    assert [row["label"] for row in rows] == ["ham", "spam", "ham", "spam"]
