"""``poisonlab demo``: the article replayed with its claims checked, then the SMS experiments.

Expectations come from fitting scikit-learn directly on the article's data, not from the
numbers the demo prints. The demo runs twice in this module: once for all the checks of its
JSON, once more for the determinism check.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

import poisonlab
import poisonlab.experiments.demo as demo_module
from poisonlab.attacks import LabelFlip
from poisonlab.cli import main
from poisonlab.data import load_train_test
from poisonlab.data.corpora import article

CLASSES = article.CLASSES
SPAM, NOT_SPAM = 1, 0


@pytest.fixture(scope="module")
def demo_run() -> dict[str, Any]:
    """One real ``poisonlab demo --json``: its exit code, stdout, and the `DemoResult` behind it."""
    seen: list[Any] = []
    real_run_demo = demo_module.run_demo

    def spy(**kwargs: Any) -> Any:
        seen.append(real_run_demo(**kwargs))
        return seen[-1]

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_module, "run_demo", spy)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["demo", "--json"])
    assert len(seen) == 1
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "result": seen[0]}


@pytest.fixture(scope="module")
def document(demo_run: dict[str, Any]) -> dict[str, Any]:
    assert demo_run["code"] == 0, demo_run["err"]
    parsed: dict[str, Any] = json.loads(demo_run["out"])
    return parsed


def _fit_predict(pairs: list[tuple[str, int]], texts: list[str]) -> list[str]:
    """The article's script: CountVectorizer() + MultinomialNB(), scikit-learn defaults."""
    vectorizer = CountVectorizer()
    features = vectorizer.fit_transform([text for text, _ in pairs])
    model = MultinomialNB().fit(features, [label for _, label in pairs])
    return [CLASSES[i] for i in model.predict(vectorizer.transform(texts))]


TEST_TEXTS = [text for text, _ in article.TEST]
TEST_LABELS = [CLASSES[label] for _, label in article.TEST]


def _expected_steps() -> dict[str, Any]:
    train = list(article.TRAIN)
    flipped = [(text, NOT_SPAM if i in article.FLIPPED_ROWS else y) for i, (text, y) in enumerate(train)]
    planted = train + [(text, NOT_SPAM) for text in article.BACKDOOR_TEXTS]
    steps = {
        "clean": _fit_predict(train, TEST_TEXTS),
        "label_flip": _fit_predict(flipped, TEST_TEXTS),
        "backdoor": _fit_predict(planted, TEST_TEXTS),
    }
    trigger = _fit_predict(planted, [article.TRIGGER_TEST])[0]
    return {"steps": steps, "trigger": trigger}


EXPECTED = _expected_steps()


def _accuracy(predicted: list[str]) -> float:
    return float(np.mean([p == t for p, t in zip(predicted, TEST_LABELS)]))


def _spam_missed(predicted: list[str]) -> int:
    return sum(p != t and t == CLASSES[SPAM] for p, t in zip(predicted, TEST_LABELS))


def test_demo_json_has_the_documented_shape(demo_run, document):
    assert demo_run["err"] == ""
    assert {"walkthrough", "claims", "real", "seconds", "versions"} <= set(document)
    assert set(document["walkthrough"]) >= {"clean", "label_flip", "backdoor"}
    for claim in document["claims"]:
        assert set(claim) == {"claim", "expected", "observed", "holds", "why"}
        assert isinstance(claim["holds"], bool)
    assert set(document["real"]) == {"nb", "logreg"}
    for victim in document["real"].values():
        for key in ("clean_accuracy", "flip_accuracy", "flip_spam_leak", "backdoor_cacc", "backdoor_asr"):
            assert 0.0 <= victim[key] <= 1.0, key
    assert document["seconds"] > 0
    assert document["versions"] == {
        "poisonlab": poisonlab.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }


@pytest.mark.parametrize("step", ["clean", "label_flip", "backdoor"])
def test_walkthrough_matches_plain_scikit_learn(document, step):
    shown = document["walkthrough"][step]
    predicted = EXPECTED["steps"][step]
    assert shown["predictions"] == [
        {"text": text, "label": label, "predicted": guess}
        for text, label, guess in zip(TEST_TEXTS, TEST_LABELS, predicted)
    ]
    assert shown["accuracy"] == pytest.approx(_accuracy(predicted))


def test_trigger_prediction_matches_plain_scikit_learn(document):
    backdoor = document["walkthrough"]["backdoor"]
    assert backdoor["trigger_text"] == article.TRIGGER_TEST
    assert backdoor["trigger_prediction"] == EXPECTED["trigger"]


def test_claims_hold_exactly_when_scikit_learn_says_so(document):
    steps = EXPECTED["steps"]
    replay_seconds = document["walkthrough"]["seconds"]
    expected_holds = [
        _accuracy(steps["clean"]) == 1.0,
        _spam_missed(steps["label_flip"]) > _spam_missed(steps["clean"]),
        _accuracy(steps["backdoor"]) == 1.0,
        EXPECTED["trigger"] == CLASSES[NOT_SPAM],
        replay_seconds < 2.0,
    ]
    assert [claim["holds"] for claim in document["claims"]] == expected_holds
    # the observed column reports what happened, in the claim's own terms
    claims = document["claims"]
    assert f"{_accuracy(steps['clean']):.0%}" in claims[0]["observed"]
    spam_total = TEST_LABELS.count(CLASSES[SPAM])
    assert claims[1]["observed"].startswith(f"{_spam_missed(steps['label_flip'])} of {spam_total} ")
    assert f"{_accuracy(steps['backdoor']):.0%}" in claims[2]["observed"]
    assert claims[3]["observed"] == EXPECTED["trigger"]
    assert f"{replay_seconds:.2f} s" in claims[4]["observed"]


def test_every_failing_claim_says_why_and_no_holding_claim_does(document):
    assert any(not claim["holds"] for claim in document["claims"]), "the article's data fails some claims"
    for claim in document["claims"]:
        if claim["holds"]:
            assert claim["why"] == "", claim
        else:
            assert claim["why"].strip(), f"no explanation for the failing claim {claim['claim']!r}"


@pytest.mark.parametrize(("index", "step"), [(0, "clean"), (2, "backdoor")])
def test_why_names_every_misclassified_message(document, index, step):
    claim = document["claims"][index]
    wrong = [t for t, p, y in zip(TEST_TEXTS, EXPECTED["steps"][step], TEST_LABELS) if p != y]
    if not wrong:
        pytest.skip("scikit-learn classifies every test message correctly at this step")
    for text in wrong:
        assert repr(text) in claim["why"]


def _sklearn_real(victim: str) -> dict[str, float]:
    """The demo's SMS numbers for `victim`, computed with plain scikit-learn."""
    train, test = load_train_test("sms_spam")
    flipped = LabelFlip(strategy="targeted", rate=0.1).apply(train, random_state=0).poisoned

    def fit(labels: np.ndarray) -> np.ndarray:
        classifier = MultinomialNB() if victim == "nb" else LogisticRegression(max_iter=1000, random_state=0)
        model = make_pipeline(CountVectorizer(), classifier).fit(list(train.texts), labels)
        return np.asarray(model.predict(list(test.texts)))

    clean, flip = fit(train.labels), fit(flipped.labels)
    spam = test.labels == 1
    return {
        "n_train": len(train),
        "n_test_spam": int(spam.sum()),
        "clean_accuracy": float(np.mean(clean == test.labels)),
        "clean_spam_leak": float(np.mean(clean[spam] == 0)),
        "flip_accuracy": float(np.mean(flip == test.labels)),
        "flip_spam_leak": float(np.mean(flip[spam] == 0)),
    }


@pytest.mark.parametrize("victim", ["nb", "logreg"])
def test_real_data_numbers_match_plain_scikit_learn(document, victim):
    shown = document["real"][victim]
    expected = _sklearn_real(victim)
    n_train, n_test_spam = expected.pop("n_train"), expected.pop("n_test_spam")
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, abs=1e-12), key
    assert shown["flip_spam_leak"] > shown["clean_spam_leak"]
    assert shown["asr_eligible"] + shown["asr_excluded"] == n_test_spam
    assert shown["flip_rows"] == round(0.1 * n_train)
    assert shown["backdoor_rows"] == round(0.01 * n_train)


def _without_timing(value: Any) -> Any:
    """The document without its run times: every ``seconds`` key, and the timing claim's result."""
    if isinstance(value, dict):
        if "second" in str(value.get("claim", "")):
            return {k: v for k, v in value.items() if k == "claim"}
        return {k: _without_timing(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


def test_same_seed_gives_the_same_json_apart_from_run_times(demo_run, document, cli):
    again = cli("demo", "--json")
    assert again.code == 0
    first, second = _without_timing(document), _without_timing(json.loads(again.out))
    assert '"seconds":' not in json.dumps(first)
    assert json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)
    # and the timing fields were really there to drop
    assert document["seconds"] > 0 and document["walkthrough"]["seconds"] > 0


def test_demo_without_json_prints_the_claims_table_and_part_2(demo_run, cli, monkeypatch):
    monkeypatch.setattr(demo_module, "run_demo", lambda **kwargs: demo_run["result"])
    run = cli("demo")
    assert run.code == 0
    assert run.err == ""
    text = " ".join(run.out.split())  # rich wraps lines to the console width
    assert "Part 1: the article's lab, replayed exactly" in text
    assert "The article's claims, checked" in text
    assert "Part 2: the same experiments on the SMS Spam Collection" in text
    assert "Lesson:" in text
    failing = [claim for claim in demo_run["result"].claims if not claim.holds]
    assert text.count("Why not:") == len(failing) > 0  # each failing claim is explained
    for victim in ("nb", "logreg"):
        assert victim in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(run.out)
