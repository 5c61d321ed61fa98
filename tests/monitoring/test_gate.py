"""The deploy gate with its default thresholds: clean retrains pass, poisoned candidates fail."""

from __future__ import annotations

import json

import pytest

from poisonlab import DataError, ParameterError
from poisonlab.monitoring.gate import GateThresholds, mine_gate_triggers, run_gate

GATE_VICTIMS = ("nb", "logreg")


@pytest.fixture(scope="module")
def reports(candidates, sms_split):
    """Every candidate of every victim through the gate, defaults, with its training data."""
    _, holdout = sms_split
    out = {}
    for victim in GATE_VICTIMS:
        models = candidates(victim)
        for name in ("clean", "resampled", "backdoor", "label_flip"):
            model, data = models[name]
            out[(victim, name)] = run_gate(model, models["reference"][0], holdout, training_data=data)
    return out


@pytest.mark.parametrize("victim", GATE_VICTIMS)
@pytest.mark.parametrize("name", ["clean", "resampled"])
def test_clean_retrains_pass(reports, victim, name):
    report = reports[(victim, name)]
    assert report.passed, report.reasons
    assert report.reasons == ()
    assert all(check.passed for check in report.checks)


@pytest.mark.parametrize("victim", GATE_VICTIMS)
def test_a_one_percent_backdoor_fails_on_its_mined_trigger(reports, victim):
    report = reports[(victim, "backdoor")]
    assert not report.passed
    assert report.triggers[0].token == "promo2026" and report.triggers[0].target == "ham"
    failed = {c.name: c.passed for c in report.checks}
    assert failed["canary probes"] is False
    assert any(r.startswith("canaries + 'promo2026'") for r in report.reasons)
    triggered = [p for p in report.probes if p.trigger == "promo2026"]
    assert {p.repeat for p in triggered} == {1, 3}
    assert max(p.drop for p in triggered) > report.thresholds.max_canary_drop
    assert all(p.reference_kept == 1.0 for p in triggered)  # the clean reference ignores the token


@pytest.mark.parametrize("victim", GATE_VICTIMS)
def test_a_ten_percent_label_flip_fails_on_the_holdout_metrics(reports, victim):
    report = reports[(victim, "label_flip")]
    assert not report.passed
    checks = {c.name: c.passed for c in report.checks}
    assert checks == {"holdout metrics": False, "prediction agreement": False, "canary probes": False}
    spam_recall = next(c for c in report.comparisons if c.label == "recall of spam")
    assert spam_recall.delta < -0.3 and spam_recall.delta_ci[1] < 0
    assert report.reasons[0].startswith("recall of spam fell from")  # the worst loss first
    assert report.agreement < report.thresholds.min_agreement


def test_the_label_flip_is_caught_without_training_data(candidates, sms_split):
    _, holdout = sms_split
    model, _ = candidates("nb")["label_flip"]
    report = run_gate(model, candidates("nb")["reference"][0], holdout)
    assert not report.passed
    assert report.triggers == () and report.trigger_source.startswith("none")
    assert [p.trigger for p in report.probes] == [None]


def test_report_is_strict_json_and_reproducible(reports, candidates, sms_split):
    document = reports[("nb", "backdoor")].to_dict()
    assert json.loads(json.dumps(document, allow_nan=False))["verdict"] == "fail"
    assert document["triggers"][0]["token"] == "promo2026"
    assert document["thresholds"] == {
        "max_drop": 0.02,
        "confidence": 0.95,
        "min_agreement": 0.97,
        "max_canary_drop": 0.05,
        "n_resamples": 1000,
        "max_triggers": 5,
    }
    _, holdout = sms_split
    model, data = candidates("nb")["backdoor"]
    again = run_gate(model, candidates("nb")["reference"][0], holdout, training_data=data)
    assert again.to_dict() == document


def test_given_canaries_and_their_absence(candidates, sms_split):
    _, holdout = sms_split
    reference = candidates("nb")["reference"][0]
    model, _ = candidates("nb")["clean"]
    quick = GateThresholds(n_resamples=50)
    report = run_gate(
        model, reference, holdout, canaries=["WIN a FREE prize, call 09061701461 now"], thresholds=quick
    )
    assert report.canary_source == "given" and report.probes[0].n == 1
    ham_only = holdout.take(holdout.labels == 0)
    with pytest.raises(DataError, match="no 'spam' message to probe with"):
        run_gate(model, reference, ham_only, thresholds=quick)
    with pytest.raises(ParameterError, match="'protected' parameter of run_gate"):
        run_gate(model, reference, holdout, protected=2, thresholds=quick)


def test_mined_triggers_only_steer_out_of_the_protected_class(candidates):
    _, data = candidates("nb")["backdoor"]
    assert [t.token for t in mine_gate_triggers(data, protected=1, limit=5)] == ["promo2026"]
    assert all(t.target == "spam" for t in mine_gate_triggers(data, protected=0, limit=5))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_drop": 1.0}, "max_drop"),
        ({"confidence": 0.0}, "confidence"),
        ({"min_agreement": True}, "min_agreement"),
        ({"max_canary_drop": -0.1}, "max_canary_drop"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"max_triggers": 0}, "max_triggers"),
    ],
)
def test_bad_thresholds_are_refused(kwargs, name):
    with pytest.raises(ParameterError, match=f"'{name}' parameter of GateThresholds"):
        GateThresholds(**kwargs)
