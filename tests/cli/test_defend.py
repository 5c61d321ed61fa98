"""``poisonlab defend NAME --attack ATTACK``: every defense and attack from the command line."""

from __future__ import annotations

import dataclasses
import shlex

import pytest

from poisonlab.attacks import ATTACKS
from poisonlab.cli._options import command_line
from poisonlab.cli.defend import command_name
from poisonlab.defenses import DEFENSES

EXAMPLES = [(name, i, e) for name in DEFENSES.names() for i, e in enumerate(DEFENSES.get(name).examples())]


def victim_for(name: str) -> str:
    supported = getattr(DEFENSES.get(name), "supported_victims", None)
    return supported[0] if supported else "nb"


@pytest.fixture
def small_files(user_csv):
    """A user's CSV of 60 real SMS messages and a held-out CSV of 30."""
    return ["--data", str(user_csv("train.csv")), "--test", str(user_csv("test.csv", part="test"))]


@pytest.mark.parametrize(("name", "index", "example"), EXAMPLES, ids=[f"{n}-{i}" for n, i, _ in EXAMPLES])
def test_every_example_runs_from_the_command_line(cli, small_files, name, index, example):
    argv = [*command_line(example), "--attack", "label-flip", "--n", "4", "--victim", victim_for(name)]
    doc = cli("defend", command_name(name), *argv, *small_files, "--json").json()
    assert doc["defense"] == name
    assert doc["defense_params"] == dataclasses.replace(example).get_params()
    assert doc["attack"] == "label_flip" and doc["attack_params"]["n"] == 4
    assert doc["n_train"] == 60 and doc["n_test"] == 30 and doc["n_poison"] == 4
    assert doc["paper"] == DEFENSES.get(name).paper
    for side in ("clean", "undefended", "defended"):
        assert 0.0 <= doc[side]["accuracy"] <= 1.0
    if doc["removed"] is not None:
        assert doc["removed"]["poison_total"] == 4


def test_backdoor_against_sanitize_on_sms(cli):
    """The issue's scenario on the bundled corpus: a 1% rare-token backdoor, trigger mining."""
    doc = cli(
        "defend",
        "sanitize",
        "--attack",
        "backdoor",
        "--rate",
        "0.01",
        "--repeat",
        "3",
        "--victim",
        "svm",
        "--json",
    ).json()
    assert doc["attack_params"]["repeat"] == 3 and doc["n_poison"] == 45
    assert doc["removed"]["poison"] == 45 and doc["removed"]["rows"] - 45 <= 0.01 * doc["n_train"]
    assert doc["undefended"]["asr"] >= 0.9 and doc["defended"]["asr"] <= 0.05


def test_tables_for_people(cli, small_files):
    run = cli(
        "defend", "trigger-filter", "--attack", "backdoor", "--trigger", "zqx", "--n", "5", *small_files
    )
    assert run.code == 0, run.err
    for text in (
        "CACC (accuracy)",
        "Spam leak",
        "ASR (backdoor)",
        "Input filter: false alarms on",
        "Trigger words found in the training data:",
        "Time:",
    ):
        assert text in run.out
    removed = cli("defend", "trim", "--discard", "0.1", "--attack", "label-flip", "--n", "4", *small_files)
    text = " ".join(removed.out.split())
    assert "Removed 6 training rows" in text, "10% of 44 ham and 16 spam rows, rounded per class"
    assert "of 4 poison rows caught" in text


def test_list(cli):
    run = cli("defend", "--list")
    assert run.code == 0
    for name in DEFENSES.names():
        assert command_name(name) in run.out
    doc = cli("defend", "--list", "--json").json()
    assert [d["name"] for d in doc["defenses"]] == DEFENSES.names()
    sanitize = next(d for d in doc["defenses"] if d["name"] == "sanitize")
    assert {p["name"] for p in sanitize["parameters"]} == {
        f.name for f in dataclasses.fields(DEFENSES.get("sanitize"))
    }


@pytest.mark.parametrize("name", DEFENSES.names())
def test_help_teaches(cli, name):
    run = cli("defend", command_name(name), "--help")
    assert run.code == 0
    text = " ".join(run.out.split())
    assert " ".join(DEFENSES.get(name).paper.split()) in text
    assert "--attack ATTACK" in text and "--trigger" in text and "--rate" in text and "examples:" in text
    for example in DEFENSES.get(name).examples():
        assert shlex.join(command_line(example)) in run.out


def test_attack_options_are_checked_against_the_chosen_attack(cli, check_error, small_files):
    line = check_error(
        cli("defend", "trim", "--attack", "label-flip", "--trigger", "x", "--n", "3", *small_files)
    )
    assert "label-flip attack takes no --trigger option" in line and "backdoor" in line
    line = check_error(cli("defend", "trim", "--attack", "focused", "--n", "3", *small_files))
    assert "focused attack needs --message" in line
    line = check_error(cli("defend", "trim", "--attack", "label-flip", *small_files))
    assert "exactly one budget" in line
    line = check_error(cli("defend", "trim", "--attack", "nope", "--n", "3"), usage=True)
    assert "--attack" in line
    line = check_error(cli("defend", "sanitize", "--detector", "nope", "--attack", "label-flip", "--n", "3"))
    assert "Unknown detector 'nope'" in line


def test_every_attack_parameter_has_an_option(cli, small_files):
    from poisonlab.cli.defend import attack_options

    options = {option.field: option for option in attack_options(set())}
    for name in ATTACKS.names():
        for field in dataclasses.fields(ATTACKS.get(name)):
            if field.name not in ("rate", "n"):
                assert command_name(name) in options[field.name].attacks
    assert options["victim"].flags == ("--attack-victim",), "shared with the command's --victim"
    collided = {option.field: option for option in attack_options({"--trigger"})}
    assert collided["trigger"].flags == ("--attack-trigger",), "a defense parameter keeps the plain flag"
    underscores = cli("defend", "trim", "--attack", "label_flip", "--n", "4", *small_files, "--json").json()
    assert underscores["attack"] == "label_flip"


def test_no_defense_is_a_usage_error(cli):
    run = cli("defend")
    assert run.code == 2 and "name a defense" in run.err


def test_a_defense_on_the_users_own_poisoned_file(cli, tmp_path):
    """No --attack: the file is trained on as it is, and what the defense removed is scored
    against its is_poison column (the planted backdoor is not planted again)."""
    poisoned = tmp_path / "poisoned.csv"
    assert cli("attack", "backdoor", "--rate", "0.01", "--repeat", "3", "--out", str(poisoned)).code == 0
    doc = cli("defend", "sanitize", "--data", str(poisoned), "--json").json()
    assert doc["attack"] is None and "asr" not in doc["defended"]
    assert doc["n_poison"] == doc["removed"]["poison_total"] > 0
    assert doc["removed"]["recall"] == 1.0 and doc["removed"]["rows"] == len(doc["removed_ids"])
    assert doc["removed"]["rows"] - doc["removed"]["poison"] <= 0.01 * doc["n_train"]
    run = cli("defend", "sanitize", "--data", str(poisoned))
    assert run.code == 0 and "as it is (no attack planted)" in " ".join(run.out.split())
    assert "Against the data's is_poison column" in " ".join(run.out.split())


def test_attack_options_without_an_attack_are_refused(cli, small_files):
    run = cli("defend", "sanitize", "--rate", "0.1", *small_files)
    assert run.code == 2 and "--rate is an attack option; name the attack with --attack" in run.err
