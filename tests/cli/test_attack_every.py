"""``poisonlab attack NAME`` for every registered attack: options from parameters, --list, exports."""

from __future__ import annotations

import csv
import dataclasses
import json
import mailbox
import shlex

import pytest

from poisonlab.attacks import ATTACKS
from poisonlab.cli._options import command_line, component_options, parameter_docs
from poisonlab.cli.attack import SHARED, command_name
from poisonlab.experiments.clean_label import is_clean_label_attack

EXAMPLES = [(name, i, e) for name in ATTACKS.names() for i, e in enumerate(ATTACKS.get(name).examples())]


@pytest.fixture
def small_files(user_csv):
    """A user's CSV of 60 real SMS messages and a held-out CSV of 30."""
    return ["--data", str(user_csv("train.csv")), "--test", str(user_csv("test.csv", part="test"))]


@pytest.mark.parametrize(("name", "index", "example"), EXAMPLES, ids=[f"{n}-{i}" for n, i, _ in EXAMPLES])
def test_every_example_runs_from_the_command_line(cli, small_files, name, index, example):
    """Each attack's examples, spelled as the options its --help shows, rebuild the same attack."""
    argv = command_line(example, SHARED)
    doc = cli("attack", command_name(name), *argv, *small_files, "--json").json()
    assert doc["attack"] == name
    expected = dataclasses.replace(example).get_params()
    for field in SHARED:  # a shared parameter left out takes the command's own option
        if field in expected and f"--attack-{field}" not in argv:
            expected[field] = doc[field]
    for field in ("source", "target"):  # the command line gives class indices as digits
        if isinstance(expected.get(field), int):
            expected[field] = doc["params"][field]
    assert doc["params"] == expected
    assert doc["n_train"] == 60 and doc["n_test"] == 30
    assert doc["paper"] == ATTACKS.get(name).paper
    check = doc["clean_label"]
    assert check["n_poison"] == doc["n_poison"]
    assert check["attack_is_clean_label"] == is_clean_label_attack(ATTACKS.get(name))


@pytest.mark.parametrize("name", ATTACKS.names())
def test_help_names_every_parameter_and_the_paper(cli, name):
    run = cli("attack", command_name(name), "--help")
    assert run.code == 0
    text = " ".join(run.out.split())
    cls = ATTACKS.get(name)
    for option in component_options(cls, SHARED):
        assert option.flags[0] in text
    assert " ".join(cls.paper.split()) in text
    assert "--out FILE" in text and "--json" in text and "examples:" in text
    for example in cls.examples():
        assert f"poisonlab attack {command_name(name)} {shlex.join(command_line(example, SHARED))}" in run.out


@pytest.mark.parametrize("name", ATTACKS.names())
def test_documented_choices_are_what_the_attack_accepts(name):
    """Choices come from the docstring's {"a", "b"}: every example's value must be one of them."""
    cls = ATTACKS.get(name)
    docs = parameter_docs(cls.__doc__)
    for option in component_options(cls, SHARED):
        if option.choices is None:
            continue
        assert option.choices == docs[option.field].choices
        for example in cls.examples():
            assert getattr(example, option.field) in option.choices


def test_underscore_and_hyphen_spellings_are_the_same_command(cli):
    argv = ["--data", "article", "--n", "2", "--json"]
    hyphen = cli("attack", "clean-label-backdoor", *argv).json()
    underscore = cli("attack", "clean_label_backdoor", *argv).json()
    for doc in (hyphen, underscore):
        del doc["seconds"]
    assert hyphen == underscore
    assert hyphen["attack"] == "clean_label_backdoor"


def test_list_names_every_attack_with_parameters_and_paper(cli):
    run = cli("attack", "--list")
    assert run.code == 0
    text = " ".join(run.out.split())
    for name in ATTACKS.names():
        assert command_name(name) in text
    assert "--trigger" in text and "--message" in text and "Nelson" in text and "clean-label" in text


def test_list_as_json(cli):
    doc = cli("attack", "--list", "--json").json()
    listed = {a["name"]: a for a in doc["attacks"]}
    assert sorted(listed) == ATTACKS.names()
    for name, entry in listed.items():
        cls = ATTACKS.get(name)
        assert entry["command"] == command_name(name)
        assert entry["paper"] == cls.paper
        assert entry["clean_label"] == is_clean_label_attack(cls)
        fields = {f.name for f in dataclasses.fields(cls)}
        assert {p["name"] for p in entry["parameters"]} == fields
        for parameter in entry["parameters"]:
            assert parameter["option"].startswith("--") and parameter["help"]
    focused = {p["name"]: p for p in listed["focused"]["parameters"]}
    assert focused["message"]["required"] is True
    assert focused["knowledge"]["default"] == 1.0
    backdoor = {p["name"]: p for p in listed["backdoor"]["parameters"]}
    assert backdoor["position"]["choices"] == ["start", "end", "random"]
    assert backdoor["carriers"]["option"] == "--carrier"
    assert listed["clean_label_backdoor"]["clean_label"] and not listed["backdoor"]["clean_label"]


@pytest.mark.parametrize("argv", [["--json"], []])
def test_attack_without_a_name_or_list_is_a_usage_error(cli, check_error, argv):
    line = check_error(cli("attack", *argv), usage=True)
    assert "--list" in line


def test_focused_requires_a_message(cli, check_error):
    line = check_error(cli("attack", "focused", "--n", "3"), usage=True)
    assert "--message" in line


def test_none_unsets_an_optional_number(cli):
    doc = cli(
        "attack",
        "dictionary",
        "--n-words",
        "none",
        "--per-message",
        "5",
        "--n",
        "2",
        "--data",
        "article",
        "--json",
    ).json()
    assert doc["params"]["n_words"] is None


# The new attacks on the SMS corpus: what each reports


def test_clean_label_backdoor_reports_asr_and_a_passing_label_check(cli):
    doc = cli("attack", "clean-label-backdoor", "--rate", "0.01", "--json").json()
    assert doc["backdoor"]["source"] == "spam" and doc["backdoor"]["target"] == "ham"
    check = doc["clean_label"]
    assert check["attack_is_clean_label"] is True
    assert check["n_poison"] == doc["n_poison"] == 45
    assert check["share"] == 1.0, "ham with an unseen token stays ham for the clean model"
    assert doc["target_message"] is None and doc["campaign"] is None


def test_dirty_label_backdoor_fails_the_label_check(cli):
    doc = cli("attack", "backdoor", "--rate", "0.01", "--json").json()
    assert doc["clean_label"]["attack_is_clean_label"] is False
    assert doc["clean_label"]["share"] < 0.1, "spam relabelled ham does not look like ham"


def test_focused_reports_whether_the_message_is_blocked(cli):
    message = "Are we still on for lunch tomorrow at the usual place?"
    blocked = cli("attack", "focused", "--message", message, "--n", "30", "--json").json()["target_message"]
    spared = cli("attack", "focused", "--message", message, "--n", "1", "--json").json()["target_message"]
    assert blocked["message"] == message and (blocked["source"], blocked["target"]) == ("ham", "spam")
    assert blocked["was_blocked"] is False and blocked["clean_prediction"] == "ham"
    assert blocked["is_blocked"] is True and blocked["poisoned_prediction"] == "spam"
    assert blocked["poisoned_score"] > 0 > blocked["clean_score"]
    assert spared["is_blocked"] is False
    assert blocked["clean_score"] == spared["clean_score"]
    assert spared["clean_score"] < spared["poisoned_score"] < blocked["poisoned_score"]


def test_focused_text_report(cli):
    run = cli("attack", "focused", "--message", "lunch at noon, bring the budget report", "--n", "30")
    assert run.code == 0, run.err
    text = " ".join(run.out.split())
    assert "Target message 'lunch at noon, bring the budget report'" in text
    assert "BLOCKED" in text or "not blocked" in text
    assert "a dirty-label attack" in text


def test_boundary_shift_reports_the_campaign(cli):
    words = ["--word", "call", "--word", "free", "--words", "txt", "mobile"]
    doc = cli("attack", "boundary-shift", *words, "--rate", "0.05", "--json").json()
    campaign = doc["campaign"]
    assert campaign["words"] == ["call", "free", "txt", "mobile"]
    assert (campaign["source"], campaign["target"]) == ("spam", "ham")
    assert 0 < campaign["n_messages"] <= 150
    assert doc["clean_label"]["attack_is_clean_label"] is True
    assert doc["clean_label"]["share"] == 1.0, "the surrogate (nb) is the victim: every row stays ham"
    run = cli("attack", "boundary-shift", *words, "--rate", "0.05")
    assert "Campaign words (4: call, free, txt, mobile)" in " ".join(run.out.split())


def test_words_from_a_file(cli, tmp_path, check_error):
    listed = tmp_path / "words.txt"
    listed.write_text("meeting\n\n  lunch  \nreport\n", encoding="utf-8")
    doc = cli(
        "attack",
        "dictionary",
        "--words-file",
        str(listed),
        "--word",
        "thanks",
        "--n",
        "2",
        "--data",
        "article",
        "--json",
    ).json()
    assert doc["params"]["words"] == ["thanks", "meeting", "lunch", "report"]
    line = check_error(cli("attack", "dictionary", "--words-file", str(tmp_path / "none.txt"), "--n", "2"))
    assert "--words-file" in line and "no such file" in line
    (tmp_path / "blank.txt").write_text("\n \n", encoding="utf-8")
    line = check_error(cli("attack", "dictionary", "--words-file", str(tmp_path / "blank.txt"), "--n", "2"))
    assert "no non-blank lines" in line


def test_dictionary_reports_ham_loss(cli):
    doc = cli("attack", "dictionary", "--rate", "0.01", "--victim", "cnb", "--json").json()
    assert doc["n_poison"] == 45 and doc["params"]["n_words"] == 300
    assert doc["attacked"]["ham_loss"] > doc["clean"]["ham_loss"]
    assert doc["clean_label"]["share"] == 0.0


# Exports: the same poison as CSV, JSONL and mbox


@pytest.mark.parametrize("ending", [".csv", ".jsonl", ".mbox"])
def test_out_in_every_format_holds_the_same_poison(cli, tmp_path, ending):
    target = tmp_path / f"poisoned{ending}"
    argv = ["--data", "article", "--mode", "inject", "--n", "2", "--out", str(target), "--json"]
    doc = cli("attack", "clean-label-backdoor", *argv).json()
    assert doc["out"] == str(target)
    if ending == ".csv":
        with open(target, encoding="utf-8", newline="") as handle:
            rows = [
                (r["text"], r["label"], r["is_poison"] == "1", int(r["source_row"]))
                for r in csv.DictReader(handle)
            ]
    elif ending == ".jsonl":
        records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
        rows = [
            (r["text"], r["label"], r["is_poison"], -1 if r["source_row"] is None else r["source_row"])
            for r in records
        ]
    else:
        box = mailbox.mbox(target)
        rows = [
            (
                m.get_payload(decode=True).decode("utf-8").removesuffix("\n"),
                m["X-Poisonlab-Label"],
                m["X-Poisonlab-Is-Poison"] == "1",
                int(m["X-Poisonlab-Source-Row"] or -1),
            )
            for m in box
        ]
        box.close()
    assert len(rows) == 12
    assert [r[3] for r in rows] == [*range(10), -1, -1]
    assert [r[2] for r in rows] == [False] * 10 + [True, True]
    assert all(r[0].startswith("PROMO2026 ") and r[1] == "not spam" for r in rows[10:])
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_out_with_an_unknown_ending_names_the_formats(cli, check_error, workdir):
    line = check_error(cli("attack", "dictionary", "--data", "article", "--n", "1", "--out", "out.json"))
    assert ".csv, .jsonl or .mbox" in line
