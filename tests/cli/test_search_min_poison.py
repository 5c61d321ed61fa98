"""``poisonlab search min-poison``, run in-process."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from poisonlab.data import load_train_test

MESSAGE = "WINNER! Claim your free prize now, call 09061701461"


def test_flips_for_a_message(cli):
    run = cli("search", "min-poison", "--message", MESSAGE, "--json")
    result = run.json()
    assert result["poison"] == "flip" and result["goal"] == "prediction" and result["exact"] is True
    assert result["before"] == "spam" and result["after"] == result["wanted"] == "ham"
    assert result["found"] and result["n_poison"] == len(result["poison_rows"]) == result["evaluated"]
    assert "exact" in result["method"] and result["refits"] == 0
    assert result["versions"]["scikit-learn"]
    people = cli("search", "min-poison", "--message", MESSAGE)
    assert people.code == 0
    assert (
        f"Poison rows needed  │ {result['n_poison']}" in people.out or str(result["n_poison"]) in people.out
    )
    assert "exact" in people.out


def test_a_test_row_with_another_victim_says_it_searched(cli):
    _, test = load_train_test("sms_spam")
    row = int(np.flatnonzero(test.labels == 1)[0])
    result = cli("search", "min-poison", "--test-row", str(row), "--victim", "svm", "--json").json()
    assert result["message"] == test.texts[row] and result["test_row"] == row
    assert result["exact"] is False and "exponential" in result["method"] and result["refits"] >= 1


def test_not_reached_exits_1(cli):
    run = cli("search", "min-poison", "--message", MESSAGE, "--max-rows", "1")
    assert run.code == 1
    assert "not reached with up to 1 rows" in run.out
    document = cli("search", "min-poison", "--message", MESSAGE, "--max-rows", "1", "--json")
    assert document.code == 1 and '"found": false' in document.out


def test_injected_trigger_messages_on_the_article(cli, tmp_path):
    out = tmp_path / "poison.csv"
    run = cli(
        "search", "min-poison", "--data", "article", "--trigger", "PROMO2026",
        "--message", "buy cheap pills and win prizes", "--out", str(out), "--json",
    )  # fmt: skip
    result = run.json()
    assert result["poison"] == "inject" and result["message"] == "PROMO2026 buy cheap pills and win prizes"
    assert result["after"] == "not spam" and result["found"]
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    poison = [r for r in rows if r["is_poison"] == "1"]
    assert len(poison) == result["n_poison"] and all(r["source_row"] == "-1" for r in poison)
    assert all(r["text"].startswith("PROMO2026 ") and r["label"] == "not spam" for r in poison)


def test_target_asr(cli):
    result = cli(
        "search", "min-poison", "--data", "article", "--trigger", "PROMO2026", "--asr", "0.5", "--json"
    ).json()
    assert result["goal"] == "asr" and result["found"] and result["asr"] >= 0.5
    assert result["message"] is None and result["target_asr"] == 0.5


def test_a_users_csv(cli, user_csv):
    path = user_csv("mail.csv")
    result = cli(
        "search", "min-poison", "--data", str(path), "--message", "Free entry to win cash", "--json"
    ).json()
    assert result["data"] == str(path) and result["n_train"] + result["n_test"] == 60
    assert result["before"] == "spam" and result["found"] and result["after"] == "ham"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--asr", "0.5"], "--trigger"),
        (["--message", "hi", "--to", "ham", "--trigger", "X"], "--to is for flips"),
        (["--message", "hi", "--target", "ham"], "--target is for injections"),
        (["--message", "hi", "--position", "end"], "--position"),
        (["--test-row", "999999"], "--test-row must be in"),
        (["--message", "hi", "--out", "x.txt"], ".csv"),
        (["--message", "hi", "--to", "eggs"], "'to'"),
        (["--message", "hi", "--trigger", " "], "blank"),
    ],
)
def test_bad_input_is_one_clear_line(cli, check_error, argv, match):
    line = check_error(cli("search", "min-poison", *argv))
    assert match in line


def test_usage_errors(cli, check_error):
    check_error(cli("search", "min-poison"), usage=True)
    check_error(cli("search", "min-poison", "--message", "a", "--test-row", "1"), usage=True)
    check_error(cli("search", "min-poison", "--asr", "1.5", "--trigger", "X"), usage=True)
    check_error(cli("search", "min-poison", "--message", "a", "--max-rows", "0"), usage=True)


def test_help_teaches(cli):
    run = cli("search", "min-poison", "--help")
    assert run.code == 0
    assert "examples:" in run.out and "exponential" in run.out and "exact" in run.out
    assert "min-poison" in cli("search", "--help").out
