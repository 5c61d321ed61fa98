"""``poisonlab search triggers``: in-process runs on a user's CSV and the bundled corpus."""

from __future__ import annotations

import pytest

from poisonlab.attacks.trigger_candidates import TriggerCandidate
from poisonlab.data import load_train_test
from poisonlab.experiments.trigger_search import search_triggers

FAST = ("--seeds", "2", "--victim", "nb", "--explain-victims", "nb", "svm")


@pytest.fixture
def files(user_csv):
    return {"train": str(user_csv("train.csv")), "test": str(user_csv("test.csv", part="test"))}


def test_parser_choices_are_the_library_choices():
    from poisonlab.attacks import backdoor, trigger, trigger_candidates
    from poisonlab.cli import search_triggers as command

    assert command.KINDS == trigger_candidates.KINDS
    assert command.POSITIONS == trigger.POSITIONS
    assert set(command.MODES) == set(backdoor.MODES)


def test_search_lists_triggers_and_help_teaches(cli):
    listed = cli("search", "--help")
    assert listed.code == 0 and "triggers" in listed.out
    helped = cli("search", "triggers", "--help")
    assert helped.code == 0
    for text in ("examples:", "poisonlab search triggers --victim nb logreg svm", "--candidates", "--mode"):
        assert text in helped.out


def test_json_on_a_user_csv(cli, files):
    run = cli(
        "search", "triggers", "--data", files["train"], "--test", files["test"], "--n", "3",
        "--candidates", "PROMO2026", "call me", "!!", "--kinds", "position", *FAST, "--json",
    )  # fmt: skip
    document = run.json()
    labels = [c["label"] for c in document["candidates"]]
    assert labels == ["PROMO2026", "call me", "!!", "PROMO2026 @end", "PROMO2026 @random"]
    assert document["budget"] == {"n_poison": 3, "rate": 3 / 60, "mode": "inject"}
    assert document["seeds"] == [0, 1] and document["spread"] == "min-max"
    assert (document["n_train"], document["n_test"], document["source"], document["target"]) == (
        60,
        30,
        "spam",
        "ham",
    )
    results = document["rankings"]["nb"]["results"]
    assert [r["asr"]["mean"] for r in results] == sorted((r["asr"]["mean"] for r in results), reverse=True)
    assert {r["candidate"]["label"] for r in results} == set(labels)
    assert all(len(r["runs"]) == 2 for r in results)
    assert next(r for r in results if r["candidate"]["text"] == "!!")["tokens"] == []
    assert set(document["strengths"]) == {"nb", "svm"}
    assert document["strengths"]["nb"]["trigger"]["text"] == "PROMO2026", "your first candidate is explained"
    assert [p["n_poison"] for p in document["strengths"]["svm"]["points"]] == [1, 2, 3, 6, 12]
    assert document["lesson"].startswith("At 3 poison rows, 'PROMO2026'")
    assert "versions" in document


def test_cli_numbers_are_the_library_numbers(cli):
    run = cli(
        "search", "triggers", "--candidates", "PROMO2026", "you", "--rate", "0.01", "--budgets", "45",
        "--explain-victims", "nb", "logreg", "--seeds", "1", "--seed", "4", "--json",
    )  # fmt: skip
    document = run.json()
    train, test = load_train_test("sms_spam")
    found = (TriggerCandidate(text="PROMO2026", in_source=0, in_target=0),)
    expected = search_triggers(
        train,
        test,
        ["nb"],
        candidates=found,
        rate=0.01,
        seeds=[4],
        explain_victims=["nb", "logreg"],
        budgets=[45],
    )
    promo = next(r for r in document["rankings"]["nb"]["results"] if r["candidate"]["text"] == "PROMO2026")
    assert promo["asr"]["mean"] == expected.rankings["nb"].results[0].asr.mean
    assert document["strengths"]["logreg"]["points"][0]["pull"] == expected.strengths["logreg"].points[0].pull
    assert document["lesson"] == expected.lesson
    assert document["seeds"] == [4] and document["budget"]["n_poison"] == 45


def test_tables_for_people(cli, files):
    run = cli(
        "search", "triggers", "--data", files["train"], "--test", files["test"], "--n", "3",
        "--candidates", "PROMO2026", "[bold]x[/bold]", "--kinds", "position", *FAST,
    )  # fmt: skip
    assert run.code == 0, run.err
    out = " ".join(run.out.split())  # rich wraps lines at the console width
    for text in (
        "Trigger search on",
        "budget 3 poison rows",
        "mean (min to max) over the seeds",
        "Triggers against nb, best first",
        "Same ASR and CACC on every seed:",
        "Why 'PROMO2026' works on some victims and not others",
        "Why: At 3 poison rows",
        "Done in",
    ):
        assert text in out, text
    assert "[bold]x[/bold]" in out, "user text is shown, not read as markup"


def test_no_explain_and_generated_kinds(cli, files):
    run = cli(
        "search", "triggers", "--data", files["train"], "--test", files["test"], "--n", "2",
        "--kinds", "synthetic", "common", "--per-kind", "1", "--seeds", "1", "--no-explain", "--json",
    )  # fmt: skip
    document = run.json()
    assert [c["kind"] for c in document["candidates"]] == ["synthetic", "common"]
    assert document["strengths"] == {} and document["lesson"] == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--rate", "2"), "'rate' parameter"),
        (("--n", "0"), "'n' parameter"),
        (("--source", "eggs"), "'source' parameter"),
        (("--candidates", " "), "'text' parameter of TriggerCandidate"),
        (("--n", "3", "--budgets", "500"), "only 20 rows of class 'spam'"),
        (("--seed", "4294967295"), "passes the largest seed"),
    ],
)
def test_bad_input_is_one_sentence(cli, check_error, files, argv, expected):
    base = ("search", "triggers", "--data", files["train"], "--test", files["test"], "--seeds", "2")
    run = cli(*base, "--candidates", "PROMO2026", "--victim", "nb", "--explain-victims", "nb", *argv)
    assert expected in check_error(run)


@pytest.mark.parametrize(
    "argv",
    [
        ("--rate", "0.1", "--n", "3"),
        ("--seeds", "0"),
        ("--kinds", "typo"),
        ("--victim", "knn"),
        ("--per-kind", "x"),
    ],
)
def test_bad_usage_is_an_argparse_error(cli, check_error, argv):
    check_error(cli("search", "triggers", *argv), usage=True)
