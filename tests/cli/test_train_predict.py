"""``poisonlab train`` and ``poisonlab predict``: safe model files end to end."""

from __future__ import annotations

import io
import json
import pickle
import sys
import textwrap

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from poisonlab.data.manifest import merkle_root
from poisonlab.experiments.evaluate import score_predictions
from poisonlab.victims import log_odds, make_victim
from poisonlab.victims.model_file import ModelCard, load_model, save_model

MESSAGES = ["WIN a FREE prize now, call 09061701461", "see you at lunch tomorrow"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """``poisonlab train --out model.skops`` once for the module."""
    from poisonlab.cli import main

    path = tmp_path_factory.mktemp("train") / "model.skops"
    assert main(["train", "--out", str(path)]) == 0
    return path


class FakeStdin(io.StringIO):
    def __init__(self, text: str = "", *, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_train_on_sms_uses_the_shared_split_and_writes_the_card(cli, tmp_path, sms_split):
    train, test = sms_split
    doc = cli(
        "train", "--victim", "logreg", "--seed", "3", "--out", str(tmp_path / "m.skops"), "--json"
    ).json()
    card = doc["card"]
    assert (card["victim"], card["features"], card["classes"]) == ("logreg", "count", ["ham", "spam"])
    assert card["parameters"]["random_state"] == 3 and card["parameters"]["C"] == 1.0
    data = card["training_data"]
    assert data["split"] == "train" and data["split_seed"] == 2026
    assert data["rows"] == len(train) and data["counts"] == train.counts()
    assert data["fingerprint"] == merkle_root(train) and data["dataset_sha256"] == train.fingerprint()
    expected = make_victim("logreg", random_state=3).fit(list(train.texts), train.labels)
    scores = score_predictions(test.labels, expected.predict(list(test.texts)), test.classes).to_dict()
    assert card["metrics"]["rows"] == len(test) and card["metrics"]["holdout"] == "sms_spam (test split)"
    assert card["metrics"]["accuracy"] == pytest.approx(scores["accuracy"])
    assert card["metrics"]["spam_leak"] == pytest.approx(scores["spam_leak"])
    import poisonlab

    assert card["poisonlab_version"] == poisonlab.__version__ and "skops" in card["versions"]
    assert doc["size"] == (tmp_path / "m.skops").stat().st_size < 400_000
    assert doc["untrusted_types"] == []
    loaded = load_model(tmp_path / "m.skops")
    assert np.array_equal(loaded.model.predict(list(test.texts)), expected.predict(list(test.texts)))


def test_train_on_user_files_with_a_holdout_file(cli, tmp_path, user_csv, sms_parts):
    train_csv, test_csv = user_csv("train.csv"), user_csv("test.csv", part="test")
    run = cli(
        "train", "--data", str(train_csv), "--holdout", str(test_csv), "--out", str(tmp_path / "m.skops")
    )
    assert run.code == 0, run.err
    assert "Wrote" in run.out and "Holdout" in run.out
    card = load_model(tmp_path / "m.skops").card
    assert card.training_data["rows"] == len(sms_parts["train"]) and card.training_data["split"] is None
    assert card.metrics is not None and card.metrics["rows"] == len(sms_parts["test"])
    no_holdout = cli("train", "--data", str(train_csv), "--out", str(tmp_path / "n.skops"), "--json").json()
    assert no_holdout["card"]["metrics"] is None


@pytest.mark.parametrize(
    ("out", "match"),
    [("model.pkl", "--out must name a .skops file"), ("missing/m.skops", "does not exist")],
)
def test_train_bad_out(cli, check_error, tmp_path, out, match):
    line = check_error(cli("train", "--out", str(tmp_path / out)))
    assert match in line
    assert list(tmp_path.iterdir()) == []


def test_train_without_skops_names_the_extra(cli, check_error, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "skops.io", None)
    line = check_error(cli("train", "--out", str(tmp_path / "m.skops")))
    assert "pip install 'poisonlab[models]'" in line


def test_predict_arguments_table_and_json(cli, model_file, sms_split):
    train, _ = sms_split
    expected = make_victim("nb").fit(list(train.texts), train.labels)
    table = cli("predict", "--model", str(model_file), *MESSAGES)
    assert table.code == 0 and "spam" in table.out and "ham" in table.out
    doc = cli("predict", "--model", str(model_file), *MESSAGES, "--json").json()
    assert [p["label"] for p in doc["predictions"]] == [
        ["ham", "spam"][i] for i in expected.predict(MESSAGES)
    ]
    assert [p["score"] for p in doc["predictions"]] == pytest.approx(log_odds(expected, MESSAGES).tolist())
    assert doc["victim"] == "nb" and doc["training_fingerprint"] == merkle_root(train)


def test_predict_streams_jsonl_from_stdin_keeping_fields(cli, model_file, monkeypatch):
    lines = "".join(json.dumps({"text": t, "timestamp": i}) + "\n" for i, t in enumerate(MESSAGES * 300))
    monkeypatch.setattr(sys, "stdin", FakeStdin(lines))
    run = cli("predict", "--model", str(model_file), "--format", "jsonl", "--jsonl")
    assert run.code == 0, run.err
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert len(rows) == 600
    assert [r["timestamp"] for r in rows] == list(range(600))
    assert [r["label"] for r in rows[:2]] == ["spam", "ham"]


def test_predict_reads_files_of_lines_and_jsonl(cli, model_file, tmp_path):
    (tmp_path / "m.txt").write_text("\n".join(MESSAGES) + "\n\n", encoding="utf-8")
    (tmp_path / "m.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in MESSAGES), encoding="utf-8"
    )
    for name in ("m.txt", "m.jsonl"):
        doc = cli("predict", "--model", str(model_file), "--input", str(tmp_path / name), "--json").json()
        assert [p["text"] for p in doc["predictions"]] == MESSAGES


def test_predict_refuses_a_pickled_model_without_running_it(cli, check_error, tmp_path, sms_split):
    train, _ = sms_split
    model = make_victim("nb").fit(list(train.texts), train.labels)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    line = check_error(cli("predict", "--model", str(tmp_path / "model.pkl"), "hello"))
    assert "it is a pickle (protocol" in line and "a model file is itself a poisoning vector" in line


def test_predict_needs_trust_for_untrusted_types(cli, check_error, tmp_path):
    model = make_pipeline(CountVectorizer(preprocessor=textwrap.dedent), MultinomialNB())
    model.fit(["cheap pills now", "see you soon"], [1, 0])
    save_model(
        model,
        tmp_path / "custom.skops",
        ModelCard(victim="custom", features="custom", classes=("ham", "spam")),
    )
    line = check_error(cli("predict", "--model", str(tmp_path / "custom.skops"), "cheap pills"))
    assert "textwrap.dedent" in line and "--trust" in line
    doc = cli("predict", "--model", str(tmp_path / "custom.skops"), "cheap pills", "--trust", "--json").json()
    assert doc["predictions"][0]["label"] == "spam"


def test_predict_input_errors(cli, check_error, model_file, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", FakeStdin(tty=True))
    assert "No messages" in check_error(cli("predict", "--model", str(model_file)))
    monkeypatch.setattr(sys, "stdin", FakeStdin("\n\n"))
    assert "the input is empty" in check_error(cli("predict", "--model", str(model_file)))
    assert "not both" in check_error(cli("predict", "--model", str(model_file), "hi", "--input", "x.txt"))
    assert "Cannot read --input" in check_error(
        cli("predict", "--model", str(model_file), "--input", "nope.txt")
    )
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    line = check_error(cli("predict", "--model", str(model_file), "--input", str(tmp_path / "bad.jsonl")))
    assert "Line 1 of the input must be a JSON object with a string 'text'" in line
    assert "does not exist" in check_error(cli("predict", "--model", str(tmp_path / "none.skops"), "hi"))
