"""``poisonlab scan``: in-process runs on user files, with and without ground truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from poisonlab.data import load_dataset
from poisonlab.detectors import DETECTORS

Cli = Callable[..., Any]


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 real SMS messages as a user's CSV (text,label), no ground truth."""
    corpus = load_dataset("sms_spam").take(list(range(600)))
    path = tmp_path_factory.mktemp("scan") / "mail.csv"
    import csv

    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((t, corpus.classes[y]) for t, y in zip(corpus.texts, corpus.labels.tolist()))
    return path


@pytest.fixture(scope="module")
def poisoned_csv(sample_csv: Path) -> Path:
    """The sample's training split after a 10 % targeted flip, as `attack --out` writes it."""
    from poisonlab.cli import main

    out = sample_csv.parent / "poisoned.csv"
    assert (
        main(
            ["attack", "label-flip", "--data", str(sample_csv), "--rate", "0.1", "--out", str(out), "--json"]
        )
        == 0
    )
    return out


def test_scan_a_users_csv_without_ground_truth(cli: Cli, sample_csv: Path) -> None:
    run = cli("scan", str(sample_csv))
    assert run.code == 0, run.err
    assert "Flagged rows" in run.out and "Label issues" in run.out and "Near-duplicate floods" in run.out
    assert run.out.index("Verdict: ") < run.out.index("Details") < run.out.index("Detectors")
    assert "AUROC" not in run.out, "no ground truth, no detection scores"


def test_scan_with_ground_truth_scores_every_detector(cli: Cli, poisoned_csv: Path) -> None:
    document = cli("scan", str(poisoned_csv), "--json").json()
    n_rows = document["n_rows"]
    assert document["ground_truth"]["n_poison"] == round(0.1 * n_rows)
    assert {d["name"] for d in document["detectors"]} | {s["name"] for s in document["skipped"]} == set(
        DETECTORS
    )
    for detector in document["detectors"]:
        assert len(detector["scores"]) == n_rows
        assert set(detector["quality"]) == {"precision", "recall", "f1", "auroc", "average_precision"}
    knn = next(d for d in document["detectors"] if d["name"] == "knn_labels")
    assert knn["quality"]["auroc"] > 0.75
    assert document["level"] == "poisoning likely"
    text = cli("scan", str(poisoned_csv), "--detector", "knn_labels")
    assert text.code == 0 and "AUROC" in text.out and "scored against the is_poison column" in text.out


def test_html_report_and_check_exit_code(cli: Cli, poisoned_csv: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run = cli("scan", str(poisoned_csv), "--detector", "nb_influence", "--html", str(page), "--check")
    assert run.code == 1, "--check fails when poisoning is likely"
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"HTMLreportwrittento{page}" in "".join(run.out.split())  # rich wraps long paths
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_json_is_strict_and_names_the_settings(cli: Cli, sample_csv: Path) -> None:
    document = cli("scan", str(sample_csv), "--detector", "duplicate_flood", "--seed", "3", "--json").json()
    assert document["settings"]["random_state"] == 3
    assert document["detectors"][0]["params"]["random_state"] == 3
    assert document["ground_truth"] is None
    assert "versions" in document
    json.dumps(document, allow_nan=False)


def test_bad_input(cli: Cli, check_error: Callable[..., str], sample_csv: Path, tmp_path: Path) -> None:
    assert "No such file" in check_error(cli("scan", str(tmp_path / "missing.csv")))
    assert "does not exist" in check_error(
        cli("scan", str(sample_csv), "--html", str(tmp_path / "no" / "r.html"))
    )
    assert "is a folder" in check_error(cli("scan", str(sample_csv), "--html", str(tmp_path)))
    assert "--top" in check_error(cli("scan", str(sample_csv), "--top", "-1"))
    unknown = check_error(cli("scan", str(sample_csv), "--detector", "magic"))
    assert "Unknown detector 'magic'. Known: " in unknown and "knn_labels" in unknown
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label,is_poison\nhello,ham,maybe\nWIN,spam,0\n", encoding="utf-8")
    assert "is_poison" in check_error(cli("scan", str(bad)))


def test_help_teaches_with_examples(cli: Cli) -> None:
    run = cli("scan", "--help")
    assert run.code == 0 and "examples:" in run.out and "is_poison" in run.out


def test_flags_and_clean_files_act_on_the_findings(cli: Cli, poisoned_csv: Path, tmp_path: Path) -> None:
    import csv

    flags, cleaned = tmp_path / "flags.jsonl", tmp_path / "clean.csv"
    run = cli("scan", str(poisoned_csv), "--flags", str(flags), "--clean", str(cleaned), "--json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    records = [json.loads(line) for line in flags.read_text(encoding="utf-8").splitlines()]
    assert len(records) == document["settings"]["n_suspicious"] > 0
    assert set(records[0]) == {"id", "row", "label", "finding", "level", "confidence", "reasons"}
    assert {r["finding"] for r in records} <= {"label_flip", "backdoor_trigger", "flood", "dictionary"}
    with open(poisoned_csv, encoding="utf-8", newline="") as handle:
        original = list(csv.DictReader(handle))
    with open(cleaned, encoding="utf-8", newline="") as handle:
        kept = list(csv.DictReader(handle))
    likely = {row for f in document["findings"] if f["level"] == "poisoning likely" for row in f["rows"]}
    assert document["removed"] == len(likely) > 0 and len(kept) == len(original) - len(likely)
    assert list(kept[0]) == list(original[0]), "every original column is kept, in order"
    assert kept == [r for i, r in enumerate(original) if i not in likely]
    removed_poison = sum(original[i]["is_poison"] == "1" for i in likely)
    assert removed_poison / len(likely) > 0.8


@pytest.mark.parametrize("flag", ["--flags", "--clean", "--html"])
def test_an_output_that_names_the_input_is_refused_before_any_work(
    cli: Cli, poisoned_csv: Path, flag: str
) -> None:
    before = poisoned_csv.read_bytes()
    run = cli("scan", str(poisoned_csv), flag, str(poisoned_csv))
    assert run.code == 2 and "is the data being scanned" in run.err
    assert poisoned_csv.read_bytes() == before


def test_a_flags_file_needs_a_table_format(cli: Cli, sample_csv: Path, tmp_path: Path) -> None:
    run = cli("scan", str(sample_csv), "--flags", str(tmp_path / "flags.txt"))
    assert run.code == 2 and ".csv, .tsv, .jsonl or .parquet" in run.err
    assert not (tmp_path / "flags.txt").exists()
