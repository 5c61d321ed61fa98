"""``poisonlab monitor`` and ``monitor baseline``: JSON lines per window, alarms, exit codes."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

from poisonlab.attacks import LabelFlip
from poisonlab.victims import log_odds, make_victim


@pytest.fixture(scope="module")
def setup(tmp_path_factory, sms_split):
    """A deployed model file, its baseline file, and streams of clean and poisoned predictions."""
    from poisonlab.cli import main

    train, test = sms_split
    folder = tmp_path_factory.mktemp("monitor")
    model = folder / "model.skops"
    baseline = folder / "baseline.json"
    assert main(["train", "--out", str(model)]) == 0
    assert (
        main(["monitor", "baseline", "--model", str(model), "--holdout", "sms_spam", "--out", str(baseline)])
        == 0
    )
    rows = np.random.default_rng(0).integers(0, len(test), 1200)
    texts = [test.texts[i] for i in rows]
    clean_texts = folder / "texts.jsonl"
    clean_texts.write_text(
        "".join(json.dumps({"text": t, "timestamp": i}) + "\n" for i, t in enumerate(texts))
    )
    flipped = LabelFlip(strategy="targeted", rate=0.1).apply(train, random_state=0).poisoned
    poisoned = make_victim("nb").fit(list(flipped.texts), flipped.labels)
    labels, scores = poisoned.predict(texts), log_odds(poisoned, texts)
    predictions = folder / "poisoned.jsonl"
    predictions.write_text(
        "".join(json.dumps({"label": ["ham", "spam"][y], "score": s}) + "\n" for y, s in zip(labels, scores))
    )
    return {
        "model": model,
        "baseline": baseline,
        "clean": clean_texts,
        "poisoned": predictions,
        "folder": folder,
    }


def windows(run) -> list[dict]:
    return [json.loads(line) for line in run.out.splitlines()]


def test_baseline_file_holds_the_models_holdout_predictions(cli, setup, sms_split):
    _, test = sms_split
    document = json.loads(setup["baseline"].read_text())
    assert document["format"] == "poisonlab-baseline/1"
    assert document["n"] == len(test) == len(document["scores"])
    run = cli(
        "monitor", "baseline", "--model", str(setup["model"]), "--holdout", "sms_spam",
        "--out", str(setup["folder"] / "again.json"), "--json",
    )  # fmt: skip
    assert run.json()["n"] == len(test)
    assert json.loads((setup["folder"] / "again.json").read_text()) == document


def test_a_clean_stream_passes_with_one_line_per_window(cli, setup):
    run = cli(
        "monitor", "--baseline", str(setup["baseline"]), "--model", str(setup["model"]),
        "--input", str(setup["clean"]), "--window", "450",
    )  # fmt: skip
    assert run.code == 0, run.err
    found = windows(run)
    assert [(w["start"], w["end"]) for w in found] == [(0, 450), (450, 900), (900, 1200)]
    assert [w["partial"] for w in found] == [False, False, True]
    assert not any(w["alarm"] for w in found)
    assert (found[0]["first_timestamp"], found[0]["last_timestamp"]) == (0, 449)
    assert "ALARM" not in run.err and "1200 messages, 3 windows, 0 alarmed" in run.err


def test_a_poisoned_model_alarms_and_exits_1(cli, setup):
    run = cli(
        "monitor", "--baseline", str(setup["baseline"]), "--input", str(setup["poisoned"]), "--window", "300"
    )
    assert run.code == 1
    found = windows(run)
    assert len(found) == 4 and all(w["alarm"] for w in found)
    assert all(w["class_shares"]["spam"] < w["baseline_shares"]["spam"] for w in found)
    alarms = [line for line in run.err.splitlines() if line.startswith("ALARM")]
    assert len(alarms) == 4
    assert alarms[0].startswith("ALARM window 0 (messages 0-299): predicted-class shares moved: ham")


def test_stdin_holdout_baseline_and_sliding_windows(cli, setup, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(setup["clean"].read_text()))
    run = cli(
        "monitor", "--holdout", "sms_spam", "--model", str(setup["model"]), "--window", "400", "--step", "200"
    )
    assert run.code == 0, run.err
    assert [(w["start"], w["end"]) for w in windows(run)] == [
        (0, 400),
        (200, 600),
        (400, 800),
        (600, 1000),
        (800, 1200),
    ]


def test_baseline_from_a_stream_of_predictions(cli, setup, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(setup["poisoned"].read_text()))
    out = setup["folder"] / "stream-baseline.json"
    doc = cli(
        "monitor", "baseline", "--input", "-", "--classes", "ham,spam", "--out", str(out), "--json"
    ).json()
    assert doc["n"] == 1200 and doc["scores_kept"] == 1200
    run = cli("monitor", "--baseline", str(out), "--input", str(setup["poisoned"]))
    assert run.code == 0  # the same stream against itself: no drift


def test_a_stream_shorter_than_half_a_window_compares_nothing(cli, setup):
    run = cli(
        "monitor", "--baseline", str(setup["baseline"]), "--input", str(setup["poisoned"]), "--window", "5000"
    )
    assert run.code == 0 and run.out == ""
    assert "less than half a window" in run.err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["monitor", "--input", "x.jsonl"], "Give exactly one baseline"),
        (["monitor", "--holdout", "sms_spam"], "--holdout needs --model"),
        (["monitor", "--baseline", "{baseline}", "--window", "0"], "'window' parameter of DriftMonitor"),
        (["monitor", "--baseline", "{baseline}", "--alpha", "1.5"], "'alpha' parameter of DriftThresholds"),
        (
            ["monitor", "--baseline", "{baseline}", "--input", "{clean}"],
            "Line 1 of the stream has a text but no label",
        ),
        (["monitor", "--baseline", "{baseline}", "--input", "missing.jsonl"], "Cannot read --input"),
        (["monitor", "--baseline", "{folder}/nope.json"], "Cannot read baseline file"),
        (["monitor", "baseline", "--out", "b.json"], "Give exactly one of --holdout"),
        (
            ["monitor", "baseline", "--input", "-", "--classes", "spam", "--out", "b.json"],
            "--classes needs two",
        ),
    ],
)
def test_bad_input_exits_2(cli, check_error, setup, monkeypatch, argv, match):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    argv = [a.format(**{k: str(v) for k, v in setup.items()}) for a in argv]
    assert match in check_error(cli(*argv))


def test_a_model_whose_classes_differ_from_the_baseline(cli, check_error, setup, tmp_path):
    assert cli("train", "--data", "article", "--out", str(tmp_path / "article.skops")).code == 0
    line = check_error(
        cli("monitor", "--baseline", str(setup["baseline"]), "--model", str(tmp_path / "article.skops"))
    )
    assert "differ from the baseline's" in line
