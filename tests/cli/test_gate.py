"""``poisonlab gate``: exit 0 on pass, 1 on fail with reasons, 2 on bad input."""

from __future__ import annotations

import json
import pickle

import pytest

from poisonlab.victims import make_victim


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The deployed model, a clean retrain (seed 1) and a 1 % backdoor candidate, all made by the CLI."""
    from poisonlab.cli import main

    folder = tmp_path_factory.mktemp("gate")
    paths = {name: folder / f"{name}.skops" for name in ("reference", "clean", "backdoor")}
    assert main(["train", "--out", str(paths["reference"])]) == 0
    assert main(["train", "--seed", "1", "--out", str(paths["clean"])]) == 0
    poisoned = folder / "poisoned.csv"
    assert (
        main(["attack", "backdoor", "--rate", "0.01", "--seed", "1", "--out", str(poisoned), "--json"]) == 0
    )
    assert main(["train", "--data", str(poisoned), "--out", str(paths["backdoor"])]) == 0
    return {**paths, "poisoned": poisoned, "folder": folder}


def gate(cli, files, candidate, *extra):
    return cli(
        "gate", "--candidate", str(files[candidate]), "--reference", str(files["reference"]),
        "--holdout", "sms_spam", *extra,
    )  # fmt: skip


def test_a_backdoored_candidate_fails_with_reasons(cli, files):
    run = gate(cli, files, "backdoor", "--data", str(files["poisoned"]))
    assert run.code == 1, run.err
    assert run.out.startswith("FAIL: candidate")
    assert "canaries + 'promo2026'" in run.out
    doc = json.loads(gate(cli, files, "backdoor", "--data", str(files["poisoned"]), "--json").out)
    assert doc["verdict"] == "fail" and doc["passed"] is False
    assert doc["triggers"][0]["token"] == "promo2026"
    assert doc["data_matches_candidate_card"] is True
    assert any(r.startswith("canaries + 'promo2026'") for r in doc["reasons"])
    assert "versions" in doc


def test_a_clean_retrain_passes(cli, files):
    run = gate(cli, files, "clean", "--data", "sms_spam", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["verdict"] == "pass" and doc["reasons"] == []
    assert doc["n_holdout"] > 1000 and doc["agreement"] == 1.0
    assert doc["data_matches_candidate_card"] is True
    human = gate(cli, files, "clean")
    assert human.code == 0 and human.out.startswith("PASS: candidate")


def test_thresholds_are_options(cli, files):
    doc = json.loads(
        gate(
            cli,
            files,
            "clean",
            "--max-drop",
            "0.05",
            "--resamples",
            "200",
            "--min-agreement",
            "0.9",
            "--json",
        ).out
    )
    assert doc["thresholds"]["max_drop"] == 0.05 and doc["thresholds"]["n_resamples"] == 200
    assert doc["thresholds"]["min_agreement"] == 0.9


def test_canaries_from_a_file_and_a_mismatched_data_note(cli, files):
    canaries = files["folder"] / "canaries.txt"
    canaries.write_text("WIN a FREE prize, call 09061701461 now\n\nURGENT! claim your cash reward txt WIN\n")
    run = gate(cli, files, "backdoor", "--canaries", str(canaries), "--data", "sms_spam", "--json")
    doc = json.loads(run.out)
    assert doc["canary_source"] == "given" and doc["probes"][0]["n"] == 2
    assert doc["data_matches_candidate_card"] is False


def test_bad_input_exits_2(cli, check_error, files, sms_split, tmp_path):
    train, _ = sms_split
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(make_victim("nb").fit(list(train.texts), train.labels)))
    line = check_error(
        cli(
            "gate",
            "--candidate",
            str(tmp_path / "model.pkl"),
            "--reference",
            str(files["reference"]),
            "--holdout",
            "sms_spam",
        )
    )
    assert "pickle" in line and "poisoning vector" in line
    assert cli("train", "--data", "article", "--out", str(tmp_path / "article.skops")).code == 0
    line = check_error(
        cli(
            "gate",
            "--candidate",
            str(tmp_path / "article.skops"),
            "--reference",
            str(files["reference"]),
            "--holdout",
            "sms_spam",
        )
    )
    assert "differ from the reference's" in line
    assert "'max_drop' parameter of GateThresholds" in check_error(
        gate(cli, files, "clean", "--max-drop", "2")
    )
    assert "Cannot read --canaries" in check_error(
        gate(cli, files, "clean", "--canaries", str(tmp_path / "no.txt"))
    )
    assert "No such file" in check_error(gate(cli, files, "clean", "--data", str(tmp_path / "no.csv")))
