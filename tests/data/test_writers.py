"""Exporting a poisoned training set: CSV, JSONL and mbox, atomic, ground truth included."""

from __future__ import annotations

import csv
import json
import mailbox
import os

import numpy as np
import pytest

import poisonlab.data.writers as writers
from poisonlab import DataError
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset, load_email, load_file
from poisonlab.data.writers import (
    EXPORT_FORMATS,
    export_format,
    header_name,
    write_jsonl,
    write_mbox,
    write_training_set,
)

TEXTS = [
    "see you at lunch",
    '=HYPERLINK("http://x") win now',
    "caf\u00e9 at noon? \u2713",
    "From the office: report attached",
    "first line\nFrom me, second line",
    "x" * 1500,
    "",
]


@pytest.fixture
def mixed() -> Dataset:
    """Rows a writer can get wrong: a formula, non-ASCII, a leading 'From ', a long line, empty."""
    labels = [0, 1, 0, 0, 1, 1, 0]
    ids = ["a", "b", "c", "d", "e", "poison-0", "poison-1"]
    return Dataset(TEXTS, labels, ("ham", "spam"), ids)


@pytest.fixture
def truth() -> dict[str, np.ndarray]:
    return {
        "is_poison": np.array([False, True, False, False, False, True, True]),
        "source_row": np.array([0, 1, 2, 3, 4, -1, -1]),
    }


def test_export_format_by_ending():
    assert EXPORT_FORMATS == (".csv", ".jsonl", ".mbox")
    assert [export_format(f"x{e}") for e in (".csv", ".JSONL", ".Mbox")] == ["csv", "jsonl", "mbox"]
    for bad in ("x.json", "x.txt", "x", "mbox"):
        with pytest.raises(DataError, match=r"\.csv, \.jsonl or \.mbox"):
            export_format(bad)


def test_jsonl_holds_every_row_and_its_ground_truth(tmp_path, mixed, truth):
    target = tmp_path / "out.jsonl"
    write_training_set(mixed, target, **truth)
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in records] == TEXTS, "texts exactly, formulas not touched in JSON"
    assert [r["label"] for r in records] == ["ham", "spam", "ham", "ham", "spam", "spam", "ham"]
    assert [r["id"] for r in records] == list(mixed.ids)
    assert [r["is_poison"] for r in records] == truth["is_poison"].tolist()
    assert [r["source_row"] for r in records] == [0, 1, 2, 3, 4, None, None]
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_jsonl_reads_back_with_the_loader(tmp_path, mixed, truth):
    target = tmp_path / "out.jsonl"
    write_training_set(
        mixed.take([0, 1, 2, 3, 5]), target, is_poison=[0, 1, 0, 0, 1], source_row=[0, 1, 2, 3, -1]
    )
    loaded = load_file(target)
    assert loaded.texts == mixed.take([0, 1, 2, 3, 5]).texts
    assert loaded.classes == mixed.classes
    assert loaded.labels.tolist() == [0, 1, 0, 0, 1]


def test_csv_keeps_minus_one_and_neutralises_formulas(tmp_path, mixed, truth):
    target = tmp_path / "out.csv"
    write_training_set(mixed, target, **truth)
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["source_row"] for row in rows] == ["0", "1", "2", "3", "4", "-1", "-1"]
    assert [row["is_poison"] for row in rows] == ["0", "1", "0", "0", "0", "1", "1"]
    assert rows[1]["text"] == "'" + TEXTS[1]
    assert [row["text"] for i, row in enumerate(rows) if i != 1] == [t for i, t in enumerate(TEXTS) if i != 1]


def test_mbox_is_one_message_per_row_with_the_ground_truth_in_headers(tmp_path, mixed, truth):
    target = tmp_path / "out.mbox"
    write_training_set(mixed, target, **truth)
    box = mailbox.mbox(target)
    messages = list(box)
    box.close()
    assert len(messages) == len(mixed)
    for i, message in enumerate(messages):
        assert message["X-Poisonlab-Id"] == mixed.ids[i]
        assert message["X-Poisonlab-Label"] == mixed.classes[mixed.labels[i]]
        assert message["X-Poisonlab-Is-Poison"] == str(int(truth["is_poison"][i]))
        source = int(truth["source_row"][i])
        assert message["X-Poisonlab-Source-Row"] == (None if source < 0 else str(source))
        assert message["Subject"] is None, "no subject: the loader would prepend it to the text"
        assert message.get_content_type() == "text/plain"
    bodies = [m.get_payload(decode=True).decode("utf-8") for m in messages]
    assert bodies[0] == TEXTS[0] + "\n"
    assert bodies[2] == TEXTS[2] + "\n", "non-ASCII survives (quoted-printable)"
    assert bodies[5] == TEXTS[5] + "\n", "a line over 998 characters survives (quoted-printable)"
    assert bodies[3] == ">" + TEXTS[3] + "\n", "mbox escapes a body line starting 'From '"
    assert bodies[4] == "first line\n>From me, second line\n"
    assert messages[2]["Content-Transfer-Encoding"] == "quoted-printable"
    assert messages[0]["Content-Transfer-Encoding"] == "7bit"
    assert len({m["From"] for m in messages}) == len({m["Date"] for m in messages}) == 1
    raw = target.read_bytes()
    assert raw.isascii(), "the file is 7-bit clean: any mail tool reads it"
    assert raw.startswith(b"From MAILER-DAEMON ")


def test_mbox_reads_back_as_the_same_training_set(tmp_path, sms_split):
    """poisonlab's own e-mail loader turns the export back into the rows (texts trimmed, as it does)."""
    out = Backdoor(mode="inject", n=20).apply(sms_split[0].take(np.arange(300)), random_state=0)
    target = tmp_path / "poisoned.mbox"
    write_training_set(out.poisoned, target, is_poison=out.is_poison, source_row=out.source_row)
    loaded, report = load_email(target)
    assert report.messages == len(out.poisoned) and report.problems() == {}
    assert loaded.texts == tuple(t.strip() for t in out.poisoned.texts)
    assert loaded.labels.tolist() == out.poisoned.labels.tolist()
    assert loaded.classes == out.poisoned.classes


def test_same_input_same_bytes(tmp_path, mixed, truth):
    for name in ("a.mbox", "b.mbox", "a.jsonl", "b.jsonl", "a.csv", "b.csv"):
        write_training_set(mixed, tmp_path / name, **truth)
    for ending in EXPORT_FORMATS:
        assert (tmp_path / f"a{ending}").read_bytes() == (tmp_path / f"b{ending}").read_bytes()


def test_header_values_stay_on_one_line(tmp_path):
    data = Dataset(["hi"], [0], ("legit mail", "junk"), ids=["line one\nline two"])
    target = tmp_path / "out.mbox"
    write_mbox(data, target, {"note": ["a\r\nb"]})
    message = mailbox.mbox(target)[0]
    assert message["X-Poisonlab-Id"] == "line one line two"
    assert message["X-Poisonlab-Label"] == "legit mail"
    assert message[header_name("note")] == "a b"


def test_numpy_values_are_plain_json(tmp_path):
    target = tmp_path / "out.jsonl"
    write_jsonl(
        Dataset(["a"], [1], ("ham", "spam")), target, {"score": [np.float64(0.5)], "k": [np.int64(3)]}
    )
    assert json.loads(target.read_text()) == {"id": "0", "text": "a", "label": "spam", "score": 0.5, "k": 3}


def test_lengths_must_match(tmp_path, mixed):
    with pytest.raises(DataError, match="one is_poison and one source_row value per row"):
        write_training_set(mixed, tmp_path / "x.jsonl", is_poison=[True], source_row=[0])
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("ending", [".jsonl", ".mbox"])
def test_interrupted_export_leaves_the_old_file(tmp_path, monkeypatch, ending, sms_split):
    target = tmp_path / f"poisoned{ending}"
    target.write_text("previous contents\n", encoding="utf-8")
    calls = []
    original = writers._plain if ending == ".jsonl" else writers._message

    def interrupt_midway(*args):
        calls.append(1)
        if len(calls) > 50:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(writers, "_plain" if ending == ".jsonl" else "_message", interrupt_midway)
    out = LabelFlip(n=3).apply(sms_split[0], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        write_training_set(out.poisoned, target, is_poison=out.is_poison, source_row=out.source_row)
    assert target.read_text(encoding="utf-8") == "previous contents\n"
    assert os.listdir(tmp_path) == [target.name]
