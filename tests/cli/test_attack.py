"""``poisonlab attack label-flip|backdoor``: bundled corpus, user files, --out, bad input."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

import poisonlab.data.writers as writers
from poisonlab.data import load_train_test

CSV_COLUMNS = ["id", "text", "label", "is_poison", "source_row"]


@pytest.fixture(scope="module")
def sms_sizes() -> dict[str, int]:
    train, test = load_train_test("sms_spam")
    return {"train": len(train), "test": len(test), "test_spam": int((test.labels == 1).sum())}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CSV_COLUMNS
        return list(reader)


def test_targeted_flip_on_sms_lets_spam_through(cli, sms_sizes):
    doc = cli("attack", "label-flip", "--rate", "0.1", "--json").json()
    assert doc["data"] == "sms_spam"
    assert (doc["victim"], doc["features"], doc["seed"]) == ("nb", "count", 0)
    assert doc["attack"] == "label_flip"
    assert doc["params"]["strategy"] == "targeted" and doc["params"]["rate"] == 0.1
    assert doc["n_train"] == sms_sizes["train"]
    assert doc["n_test"] == sms_sizes["test"]
    assert doc["n_poison"] == round(0.1 * sms_sizes["train"])
    assert doc["poison_share"] == pytest.approx(doc["n_poison"] / doc["n_train"])
    assert doc["attacked"]["spam_leak"] > doc["clean"]["spam_leak"]
    assert doc["attacked"]["per_class"]["spam"]["recall"] < doc["clean"]["per_class"]["spam"]["recall"]
    assert doc["backdoor"] is None
    assert doc["out"] is None


def test_random_flip_by_count_on_logreg(cli, sms_sizes):
    doc = cli(
        "attack", "label-flip", "--strategy", "random", "--n", "200", "--victim", "logreg", "--json"
    ).json()
    assert doc["victim"] == "logreg"
    assert doc["params"]["strategy"] == "random"
    assert doc["n_poison"] == 200
    assert doc["n_train"] == sms_sizes["train"]
    assert doc["attacked"]["accuracy"] < doc["clean"]["accuracy"]


def test_backdoor_on_sms_reports_asr_counts(cli, sms_sizes):
    doc = cli("attack", "backdoor", "--rate", "0.01", "--json").json()
    assert doc["attack"] == "backdoor"
    assert doc["params"]["trigger"] == "PROMO2026"
    assert doc["n_poison"] == round(0.01 * sms_sizes["train"])
    backdoor = doc["backdoor"]
    assert {"asr", "eligible", "excluded", "n_source", "source", "target"} <= set(backdoor)
    assert (backdoor["source"], backdoor["target"]) == ("spam", "ham")
    assert backdoor["n_source"] == sms_sizes["test_spam"]
    assert backdoor["eligible"] + backdoor["excluded"] == backdoor["n_source"]
    assert 0 < backdoor["eligible"] <= backdoor["n_source"]
    assert 0.0 <= backdoor["asr"] <= 1.0


def test_same_seed_gives_the_same_json_and_the_same_csv_bytes(cli, user_csv, tmp_path):
    data = str(user_csv("mail.csv"))

    def run(seed: str, name: str) -> dict:
        out = tmp_path / name
        argv = ["--data", data, "--mode", "insert", "--position", "random", "--n", "4", "--seed", seed]
        doc = cli("attack", "backdoor", *argv, "--out", str(out), "--json").json()
        del doc["seconds"], doc["out"]
        doc["csv"] = out.read_bytes()
        return doc

    first, second, other = run("3", "a.csv"), run("3", "b.csv"), run("4", "c.csv")
    assert first == second
    assert first["seed"] == 3
    assert other["csv"] != first["csv"]  # the seed does choose the poison


def test_out_writes_the_poisoned_training_set(cli, tmp_path, sms_sizes):
    target = tmp_path / "poisoned.csv"
    doc = cli("attack", "backdoor", "--mode", "inject", "--n", "7", "--json", "--out", str(target)).json()
    assert doc["out"] == str(target)
    rows = read_csv(target)
    assert len(rows) == sms_sizes["train"] + 7
    assert sum(row["is_poison"] == "1" for row in rows) == doc["n_poison"] == 7
    assert {row["is_poison"] for row in rows} == {"0", "1"}
    injected = [row for row in rows if row["is_poison"] == "1"]
    assert [row["source_row"] for row in injected] == ["-1"] * 7
    assert all(row["text"].startswith("PROMO2026 ") and row["label"] == "ham" for row in injected)
    kept = [row for row in rows if row["is_poison"] == "0"]
    assert [int(row["source_row"]) for row in kept] == list(range(sms_sizes["train"]))
    assert os.listdir(tmp_path) == ["poisoned.csv"], "no temporary file left beside the output"


def test_out_of_an_insert_backdoor_marks_the_rewritten_rows(cli, tmp_path, user_csv, sms_parts):
    target = tmp_path / "poisoned.csv"
    data = user_csv("mail.csv")
    test = user_csv("held_out.csv", part="test")
    argv = ["--data", str(data), "--test", str(test), "--n", "4", "--trigger", "cf", "--out", str(target)]
    doc = cli("attack", "backdoor", *argv, "--json").json()
    rows = read_csv(target)
    train = sms_parts["train"]
    assert len(rows) == len(train)
    assert sum(row["is_poison"] == "1" for row in rows) == doc["n_poison"] == 4
    for i, row in enumerate(rows):
        assert int(row["source_row"]) == i
        if row["is_poison"] == "1":
            assert row["text"] == "cf " + train.texts[i] and row["label"] == "ham"
            assert train.labels[i] == 1  # taken from spam
        else:
            assert row["text"] == train.texts[i]


FORMULAS = ['=HYPERLINK("http://x")', "+44 7700 call now to win", "-- sorry, running late", "@home tonight?"]


@pytest.fixture
def formula_csv(tmp_path, sms_parts):
    """A user CSV whose first four messages start with = + - @."""
    train = sms_parts["train"]
    texts = list(train.texts)
    texts[:4] = FORMULAS
    path = tmp_path / "formulas.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((t, train.classes[y]) for t, y in zip(texts, train.labels.tolist()))
    return path, texts, [train.classes[y] for y in train.labels.tolist()]


def test_out_neutralises_formulas_of_a_user_file(cli, tmp_path, formula_csv, user_csv):
    path, texts, labels = formula_csv
    test_file = user_csv("held_out.csv", part="test")
    target = tmp_path / "out.csv"
    doc = cli(
        "attack", "label-flip", "--data", str(path), "--test", str(test_file), "--n", "5",
        "--out", str(target), "--json",
    ).json()  # fmt: skip
    rows = read_csv(target)
    assert len(rows) == len(texts) == doc["n_train"]
    assert sum(row["is_poison"] == "1" for row in rows) == doc["n_poison"] == 5
    for row in rows:
        original = texts[int(row["source_row"])]
        expected = "'" + original if original[:1] in ("=", "+", "-", "@") else original
        assert row["text"] == expected
        flipped = row["is_poison"] == "1"
        assert (row["label"] != labels[int(row["source_row"])]) == flipped
        if flipped:
            assert row["label"] == "ham"
    assert [row["text"] for row in rows[:4]] == ["'" + text for text in FORMULAS]


def test_out_must_be_a_csv_file_and_nothing_is_written(cli, check_error, workdir):
    line = check_error(cli("attack", "label-flip", "--data", "article", "--n", "1", "--out", "out.json"))
    assert "out.json" in line
    assert os.listdir(workdir) == []


def test_out_in_a_missing_folder(cli, check_error, tmp_path):
    target = tmp_path / "no" / "such" / "out.csv"
    line = check_error(cli("attack", "label-flip", "--data", "article", "--n", "1", "--out", str(target)))
    assert "does not exist" in line
    assert os.listdir(tmp_path) == []


def test_out_naming_a_folder_is_bad_input(cli, check_error, tmp_path):
    folder = tmp_path / "taken.csv"
    folder.mkdir()
    check_error(cli("attack", "label-flip", "--data", "article", "--n", "1", "--out", str(folder)))
    assert os.listdir(tmp_path) == ["taken.csv"]
    assert os.listdir(folder) == []


def test_unwritable_out_is_bad_input_not_a_bug(cli, check_error, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writers, "atomic_text_writer", refuse)
    target = tmp_path / "x.csv"
    line = check_error(cli("attack", "label-flip", "--data", "article", "--n", "1", "--out", str(target)))
    assert "Permission denied" in line
    assert os.listdir(tmp_path) == []


def test_interrupted_export_leaves_the_old_file_and_no_temporary(cli, tmp_path, monkeypatch):
    target = tmp_path / "poisoned.csv"
    target.write_text("previous contents\n", encoding="utf-8")
    calls = []

    def interrupt_midway(cell: str) -> str:
        calls.append(cell)
        if len(calls) > 20:
            raise KeyboardInterrupt
        return cell

    monkeypatch.setattr(writers, "neutralise_formula", interrupt_midway)
    run = cli("attack", "label-flip", "--data", "article", "--n", "1", "--out", str(target))
    assert run.code == 130
    assert len(calls) > 20, "the export was under way when interrupted"
    assert target.read_text(encoding="utf-8") == "previous contents\n"
    assert os.listdir(tmp_path) == ["poisoned.csv"]


# A user's own files


def test_user_csv_is_split_and_attacked(cli, user_csv):
    path = user_csv("mail.csv")
    doc = cli("attack", "label-flip", "--data", str(path), "--rate", "0.1", "--json").json()
    assert doc["data"] == str(path)
    assert doc["n_train"] + doc["n_test"] == 60
    assert doc["n_test"] == pytest.approx(12, abs=2)  # the default 20 % held out
    assert doc["n_poison"] == round(0.1 * doc["n_train"])
    assert set(doc["clean"]["per_class"]) == {"ham", "spam"}


def test_user_csv_with_a_separate_test_file(cli, user_csv, sms_parts):
    train_file, test_file = user_csv("train.csv"), user_csv("test.csv", part="test")
    doc = cli(
        "attack", "backdoor", "--data", str(train_file), "--test", str(test_file), "--rate", "0.1", "--json"
    ).json()
    assert doc["n_train"] == len(sms_parts["train"]) == 60
    assert doc["n_test"] == len(sms_parts["test"]) == 30
    assert doc["n_poison"] == 6
    assert doc["backdoor"]["n_source"] == int((sms_parts["test"].labels == 1).sum())
    assert doc["backdoor"]["eligible"] + doc["backdoor"]["excluded"] == doc["backdoor"]["n_source"]


def test_user_csv_with_its_own_column_names(cli, check_error, user_csv):
    standard = user_csv("standard.csv")
    custom = user_csv("custom.csv", header=("body_text", "verdict"))
    check_error(cli("attack", "label-flip", "--data", str(custom), "--rate", "0.1"))
    named = cli(
        "attack", "label-flip", "--data", str(custom), "--rate", "0.1", "--json",
        "--text-column", "body_text", "--label-column", "verdict",
    ).json()  # fmt: skip
    plain = cli("attack", "label-flip", "--data", str(standard), "--rate", "0.1", "--json").json()
    for doc in (named, plain):
        del doc["data"], doc["seconds"]
    assert named == plain  # same rows, same split, same seed: the same result


# Bad input: exit 2, one line, no traceback


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    files = {
        "empty.csv": b"",
        "header_only.csv": b"text,label\n",
        "no_columns.csv": b"foo,bar\nhello,ham\nwin cash,spam\n",
        "ambiguous.csv": b"text,message,label\nhi,hi,ham\nwin,win,spam\n",
        "one_class.csv": b"text,label\nhi,ham\nhello,ham\nhey,ham\n",
        "unknown_label.csv": b"text,label\nhi,ham\nwin,spam\nhmm,maybe\n",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("missing.csv", "No such file"),
        ("empty.csv", "empty"),
        ("header_only.csv", "no data rows"),
        ("no_columns.csv", "--text-column"),
        ("ambiguous.csv", "several possible text columns"),
        ("one_class.csv", "Only one class"),
        ("unknown_label.csv", "'maybe'"),
    ],
)
def test_bad_data_file(cli, check_error, bad_files, name, says):
    before = {p.name: p.read_bytes() for p in bad_files.iterdir()}
    line = check_error(cli("attack", "label-flip", "--data", str(bad_files / name), "--rate", "0.1"))
    assert says in line
    assert {p.name: p.read_bytes() for p in bad_files.iterdir()} == before, "input files are never changed"


def test_stray_latin1_bytes_are_read_with_a_warning(cli, tmp_path, sms_parts):
    """The loaders read a line that is not UTF-8 as Windows-1252 and say so; the attack runs."""
    train = sms_parts["train"]
    lines = [
        f"{text.replace(',', ' ')},{train.classes[y]}" for text, y in zip(train.texts, train.labels.tolist())
    ]
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        ("text,label\n" + "\n".join(lines) + "\n").encode() + "caf\u00e9 at noon,ham\n".encode("latin-1")
    )
    run = cli("attack", "label-flip", "--data", str(path), "--n", "2", "--json")
    assert run.json()["n_train"] + run.json()["n_test"] == len(train) + 1
    assert "Windows-1252" in run.err and run.err.startswith("poisonlab: warning: ")


def test_bad_test_file(cli, check_error, bad_files, user_csv):
    train = user_csv("train.csv")
    line = check_error(
        cli("attack", "label-flip", "--data", str(train), "--test", str(bad_files / "empty.csv"), "--n", "2")
    )
    assert "empty" in line


def test_unknown_column_name(cli, check_error, user_csv):
    line = check_error(
        cli(
            "attack", "label-flip", "--data", str(user_csv("m.csv")), "--rate", "0.1", "--text-column", "body"
        )
    )
    assert "'body'" in line


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["label-flip", "--rate", "1.5"], "1.5"),
        (["label-flip", "--rate", "0"], "'rate'"),
        (["label-flip", "--rate", "nan"], "'rate'"),
        (["label-flip", "--n", "0"], "'n'"),
        (["label-flip", "--n", "100000"], "budget"),
        (["label-flip", "--rate", "0.1", "--target", "eggs"], "'target'"),
        (["backdoor", "--n", "3", "--repeat", "0"], "'repeat'"),
        (["backdoor", "--n", "3", "--trigger", " "], "'trigger'"),
        (["backdoor", "--n", "3", "--carrier", "hi"], "'carriers'"),
    ],
)
def test_bad_parameter(cli, check_error, argv, says):
    line = check_error(cli("attack", *argv))
    assert says in line


@pytest.mark.parametrize(
    "argv",
    [
        ["label-flip", "--rate", "0.1", "--n", "5"],  # two budgets
        ["label-flip"],  # no budget
        ["label-flip", "--rate", "lots"],
        ["label-flip", "--n", "2.5"],
        ["label-flip", "--rate", "0.1", "--victim", "xgboost"],
        ["label-flip", "--rate", "0.1", "--features", "bert"],
        ["label-flip", "--rate", "0.1", "--strategy", "sneaky"],
        ["backdoor", "--rate", "0.1", "--position", "middle"],
        ["label-flip", "--rate", "0.1", "--seed", "-1"],
        ["label-flip", "--rate", "0.1", "--seed", str(2**32)],
        ["label-flip", "--rate", "0.1", "--split-seed", "-5"],
    ],
)
def test_bad_option_is_a_usage_error(cli, check_error, argv):
    line = check_error(cli("attack", *argv), usage=True)
    assert "argument" in line or "required" in line


def test_largest_seed_is_accepted_by_every_victim(cli):
    doc = cli(
        "attack", "label-flip", "--data", "article", "--n", "1", "--victim", "logreg",
        "--seed", str(2**32 - 1), "--json",
    ).json()  # fmt: skip
    assert doc["seed"] == 2**32 - 1


def test_the_text_report_names_the_numbers(cli):
    run = cli("attack", "backdoor", "--data", "article", "--n", "2")
    assert run.code == 0, run.err
    text = " ".join(run.out.split())  # rich wraps lines to the console width
    for words in ("CACC", "Spam leak", "ASR", "2 poison rows of 10 training rows"):
        assert words in text
    assert "%" in run.out
