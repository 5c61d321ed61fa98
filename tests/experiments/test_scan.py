"""`scan`: every detector on one dataset, findings gathered, a verdict, scored against the truth."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from poisonlab._errors import DataError, ParameterError
from poisonlab.attacks import Backdoor, DictionaryAttack, Flood, LabelFlip, Poisoned
from poisonlab.data import Dataset
from poisonlab.detectors import DETECTORS, Detector
from poisonlab.experiments.findings import KINDS
from poisonlab.experiments.scan import LEVELS, outlier_flags, scan
from poisonlab.experiments.scan_html import render_scan_html, write_scan_html

LABEL_DETECTORS = ["confident_learning", "iterative_relabel", "knn_labels", "nb_influence"]


@pytest.fixture(scope="module")
def flipped(sms_split: tuple[Dataset, Dataset]) -> Poisoned:
    return LabelFlip(strategy="targeted", rate=0.1).apply(sms_split[0], random_state=0)


@pytest.fixture(scope="module")
def flipped_report(flipped: Poisoned) -> Any:
    return scan(flipped.poisoned, is_poison=flipped.is_poison)


def test_every_registered_detector_runs_and_is_scored(flipped: Poisoned, flipped_report: Any) -> None:
    report = flipped_report
    assert {run.name for run in report.runs} | {name for name, _ in report.skipped} == set(DETECTORS)
    assert not report.skipped
    for run in report.runs:
        assert run.scores.shape == (len(flipped.poisoned),)
        assert run.quality is not None
        assert 0.0 <= run.quality.auroc <= 1.0
    by_name = {run.name: run for run in report.runs}
    for name in LABEL_DETECTORS:
        assert by_name[name].quality.auroc > 0.75, name
    assert report.level == "poisoning likely"
    assert re.match(
        r"poisoning likely: label flipping 'spam' -> 'ham': \d+ rows \(\d+\.\d%\)", report.verdict
    )
    (flips,) = [f for f in report.findings if f.level == "poisoning likely"]
    assert (flips.kind, flips.source, flips.target) == ("label_flip", "spam", "ham")
    assert np.mean(flipped.is_poison[list(flips.rows)]) > 0.9


def test_label_issues_are_rows_iterative_relabelling_and_one_more_detector_agree_on(
    flipped_report: Any,
) -> None:
    runs = {run.name: run for run in flipped_report.runs}
    votes = sum(runs[name].flags.astype(int) for name in LABEL_DETECTORS)
    expected = runs["iterative_relabel"].flags & (votes >= 2)
    assert list(flipped_report.label_issues) == np.flatnonzero(expected).tolist()


def test_without_iterative_relabelling_two_label_detectors_must_agree(flipped: Poisoned) -> None:
    others = [name for name in LABEL_DETECTORS if name != "iterative_relabel"]
    report = scan(flipped.poisoned, detectors=others)
    votes = sum(run.flags.astype(int) for run in report.runs)
    assert list(report.label_issues) == np.flatnonzero(votes >= 2).tolist()


def test_suspicious_rows_are_ranked_with_a_reason_each(flipped: Poisoned, flipped_report: Any) -> None:
    rows = flipped_report.suspicious
    assert len(rows) == 20
    assert flipped_report.settings["n_suspicious"] == len(
        {r for f in flipped_report.findings for r in f.rows}
    )
    order = [(LEVELS.index(r.level), r.score) for r in rows]
    assert order == sorted(order, reverse=True), "likely before review, then by score"
    for row in rows:
        assert row.finding == "label_flip" and row.reasons and all(row.reasons)
        assert len(row.reasons) == len(row.detectors) and row.reasons[0].startswith(row.detectors[0])
        assert row.text == flipped.poisoned.texts[row.row] and row.id == flipped.poisoned.ids[row.row]
    precision_top = np.mean([flipped.is_poison[r.row] for r in rows])
    assert precision_top >= 0.5, "the top of the ranking should be mostly poison"


def test_json_form_has_every_score_and_is_strict(flipped_report: Any) -> None:
    document = flipped_report.to_dict()
    text = json.dumps(document, allow_nan=True)
    assert len(document["detectors"]) == len(flipped_report.runs)
    for entry in document["detectors"]:
        assert len(entry["scores"]) == flipped_report.n_rows
    assert len(document["ids"]) == flipped_report.n_rows
    assert document["ground_truth"]["n_poison"] == int(flipped_report.is_poison.sum())
    assert "Infinity" not in text


def test_a_duplicate_flood_that_the_data_contradicts_makes_poisoning_likely(
    sms_split: tuple[Dataset, Dataset],
) -> None:
    attack = Backdoor(
        trigger="PROMO2026",
        mode="inject",
        rate=0.01,
        carriers=("WINNER! claim your free prize, text WIN now",),
    )
    out = attack.apply(sms_split[0], random_state=0)
    report = scan(out.poisoned, detectors=["duplicate_flood"], is_poison=out.is_poison)
    flood = next(f for f in report.floods if set(f.rows) == set(out.poison_rows.tolist()))
    assert flood.contradicted and flood.label == "ham" and flood.rest_label == "spam"
    assert all(not f.contradicted for f in report.floods if f is not flood)  # SMS's own repeats
    (finding,) = report.findings
    assert (finding.kind, finding.level, finding.source, finding.target) == (
        "flood",
        LEVELS[2],
        "spam",
        "ham",
    )
    assert set(finding.rows) == set(flood.rows) and 0 < finding.false_alarm <= 0.01
    assert report.level == "poisoning likely" and "near-duplicate flood: 45 near-copies" in report.verdict


@pytest.mark.parametrize(
    ("attack", "kind"), [(Flood(rate=0.01), "flood"), (DictionaryAttack(rate=0.01), "dictionary")]
)
def test_a_flood_or_dictionary_attack_is_named(
    sms_split: tuple[Dataset, Dataset], attack: Any, kind: str
) -> None:
    out = attack.apply(sms_split[0], random_state=0)
    report = scan(out.poisoned, detectors=["duplicate_flood"], is_poison=out.is_poison)
    (finding,) = [f for f in report.findings if f.level == LEVELS[2]]
    assert finding.kind == kind and set(finding.rows) == set(out.poison_rows.tolist())
    assert report.level == LEVELS[2] and report.verdict.startswith(f"poisoning likely: {KINDS[kind]}")


def test_pure_label_flips_are_named_label_flipping_not_a_trigger(flipped_report: Any) -> None:
    assert {f.kind for f in flipped_report.findings} == {"label_flip"}
    assert flipped_report.triggers == ()


def test_clean_data_without_floods_or_issues_has_no_evidence() -> None:
    spam = ["win cash prize now", "win free cash", "free prize now win", "cash prize win free"]
    ham = ["see you at lunch", "lunch at noon see you", "see you soon at lunch", "meet you at lunch"]
    data = Dataset(spam + ham, [1] * 4 + [0] * 4, ("ham", "spam"))
    report = scan(data, detectors=["duplicate_flood", "nb_influence"])
    assert report.level == LEVELS[0] and report.verdict.startswith("no evidence of poisoning")
    assert report.suspicious == () and report.label_issues == () and report.findings == ()
    assert not report.has_ground_truth


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Fake(Detector):
    """A stand-in detector with no flags of its own and a trigger list."""

    name: ClassVar[str] = "fake_trigger"
    paper: ClassVar[str] = "none"
    targets: ClassVar[tuple[str, ...]] = ("backdoor",)
    p_value: float = 1e-9

    @classmethod
    def examples(cls) -> list[Detector]:
        return [cls()]

    def score(self, dataset: Dataset) -> np.ndarray:
        return np.array([10.0 if "cash" in t else 1.0 for t in dataset.texts])

    def suspected_triggers(self, dataset: Dataset) -> list[Any]:
        rows = tuple(i for i, t in enumerate(dataset.texts) if "cash" in t)
        return [{"token": "cash", "score": 3.5, "rows": rows, "target": 1, "p_value": self.p_value}]


def test_any_detector_with_suspected_triggers_feeds_the_report(
    small_dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(DETECTORS._items, "fake_trigger", _Fake)
    report = scan(small_dataset, detectors=["fake_trigger"])
    (trigger,) = report.triggers
    assert (trigger.text, trigger.score, trigger.label, trigger.p_value) == ("cash", 3.5, "spam", 1e-9)
    assert trigger.rows == (0,) and trigger.detector == "fake_trigger"
    (run,) = report.runs
    assert not run.own_flags and run.flags.tolist() == outlier_flags(run.scores).tolist()
    assert report.level == "poisoning likely" and "backdoor trigger 'cash'" in report.verdict
    (finding,) = report.findings
    assert (finding.kind, finding.trigger, finding.false_alarm, finding.rows) == (
        "backdoor_trigger",
        "cash",
        1e-9,
        (0,),
    )


@pytest.mark.parametrize(("p_value", "level"), [(0.005, LEVELS[2]), (0.05, LEVELS[1]), (0.5, LEVELS[0])])
def test_a_trigger_finding_level_follows_its_false_alarm(
    small_dataset: Dataset, monkeypatch: pytest.MonkeyPatch, p_value: float, level: str
) -> None:
    weak = dataclasses.make_dataclass(
        "_Weak", [("p_value", float, p_value)], bases=(_Fake,), frozen=True, kw_only=True
    )
    monkeypatch.setitem(DETECTORS._items, "fake_trigger", weak)
    report = scan(small_dataset, detectors=["fake_trigger"])
    assert report.level == level and len(report.findings) == (level != LEVELS[0])


def test_outlier_rule() -> None:
    assert outlier_flags(np.array([1.0, 1.0, 1.0])).tolist() == [False] * 3
    values = np.r_[np.zeros(20), 5.0]  # MAD 0: the mean absolute deviation stands in
    assert outlier_flags(values).tolist() == [False] * 20 + [True]


def test_unsuited_detectors_are_skipped_with_the_reason() -> None:
    data = Dataset(["win cash", "cheap pills", "see you", "lunch"], [1, 1, 0, 0], ("ham", "spam"))
    report = scan(data, detectors=["nb_influence", "duplicate_flood"])
    assert [r.name for r in report.runs] == ["nb_influence", "duplicate_flood"]
    lonely = data.with_labels([1, 0, 0, 0])
    report = scan(lonely, detectors=["confident_learning", "nb_influence"])
    assert [name for name, _ in report.skipped] == ["confident_learning"]
    assert "class 'spam' has 1" in report.skipped[0][1]
    with pytest.raises(DataError, match="class 'spam' has 1"):
        scan(lonely, detectors=["confident_learning"])  # asked for alone: the error is the answer


def test_bad_arguments(small_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match="Unknown detector 'nope'"):
        scan(small_dataset, detectors=["nope"])
    with pytest.raises(ParameterError, match="'alarm_rate' parameter of scan"):
        scan(small_dataset, alarm_rate=0)
    with pytest.raises(DataError, match="one is_poison flag per row"):
        scan(small_dataset, is_poison=[True])


def test_html_is_self_contained_escaped_and_atomic(tmp_path: Path) -> None:
    texts = ['<script>alert("x")</script> win cash', "win cash now", "see you", "lunch at noon", "ok then"]
    data = Dataset(texts, [0, 1, 0, 0, 0], ("ham", "spam"), ids=["<b>a</b>", "b", "c", "d", "e"])
    report = scan(data, detectors=["nb_influence"], is_poison=[True, False, False, False, False])
    page = render_scan_html(report)
    assert "<script" not in page and "&lt;script&gt;" in page and "&lt;b&gt;a&lt;/b&gt;" in page
    declarations = re.sub(r'xmlns(?::\w+)?="[^"]*"', "", page)  # SVG namespace names, never fetched
    fetched = r"(?:src|href)\s*=\s*\"(?!#)|https?://|@import|url\((?!#)"  # "#id" is inside the page
    assert not re.search(fetched, declarations), "nothing may be fetched"
    assert "<style>" in page and "AUROC" in page
    target = tmp_path / "scan.html"
    write_scan_html(report, target)
    assert target.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.html"]


def test_one_disputed_row_in_tiny_data_asks_for_review_not_alarm() -> None:
    spam = ["win cash prize now", "win free cash", "free prize now win", "cash prize win free"]
    ham = ["see you at lunch", "lunch at noon see you", "see you soon at lunch", "meet you at lunch"]
    data = Dataset(spam + ham, [1, 1, 1, 0] + [0] * 4, ("ham", "spam"))  # one spam text labelled ham
    report = scan(data, detectors=["nb_influence"])
    assert report.label_issues == (3,)
    assert report.level == "review suggested"
    assert "label flipping 'spam' -> 'ham': 1 rows (12.5%)" in report.verdict


def _without_timings(report: Any) -> dict[str, Any]:
    found = report.to_dict()
    found.pop("seconds")
    for run in found["detectors"]:
        run.pop("seconds")
    return found


def test_forked_workers_give_the_same_report_as_one_process() -> None:
    from poisonlab.data import load_dataset

    attacked = Backdoor(trigger="PROMO2026", rate=0.02).apply(
        load_dataset("sms_spam").take(range(800)), random_state=0
    )
    truth = attacked.is_poison
    # the workers first: what they cache dies with them, so the lone run computes everything again
    side_by_side = scan(attacked.poisoned, is_poison=truth, workers=3)
    alone = scan(attacked.poisoned.take(range(len(attacked.poisoned))), is_poison=truth, workers=1)
    assert [run.name for run in side_by_side.runs] == list(DETECTORS.names())
    assert _without_timings(side_by_side) == _without_timings(alone)


def test_a_skipped_detector_is_reported_the_same_from_a_worker() -> None:
    lonely = Dataset(["win cash", "cheap pills", "see you", "lunch"], [1, 0, 0, 0], ("ham", "spam"))
    report = scan(lonely, detectors=["confident_learning", "nb_influence"], workers=2)
    assert [name for name, _ in report.skipped] == ["confident_learning"]
    with pytest.raises(DataError, match="class 'spam' has 1"):
        scan(lonely, detectors=["confident_learning"], workers=2)
    with pytest.raises(ParameterError, match="'workers' parameter of scan"):
        scan(lonely, workers=0)


def test_a_scan_on_a_dask_cluster_equals_the_local_scan(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    from poisonlab.data import load_dataset

    flipped = LabelFlip(strategy="targeted", rate=0.05).apply(
        load_dataset("sms_spam").take(range(600)), random_state=0
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, local_directory=tmp_path
    ) as cluster:
        remote = scan(flipped.poisoned, is_poison=flipped.is_poison, scheduler=cluster.scheduler_address)
    local = scan(flipped.poisoned, is_poison=flipped.is_poison)
    assert _without_timings(remote) == _without_timings(local)


def test_a_dataframe_in_and_out(flipped: Poisoned) -> None:
    import pandas as pd

    data = flipped.poisoned
    frame = pd.DataFrame(
        {
            "id": list(data.ids),
            "message": list(data.texts),
            "label": [data.classes[y] for y in data.labels.tolist()],
            "is_poison": flipped.is_poison.astype(int),
        }
    )
    report = scan(frame, detectors=LABEL_DETECTORS)
    assert report.has_ground_truth and report.n_rows == len(data) and report.ids == data.ids
    out = report.to_frame()
    assert len(out) == len(data) and out["id"].tolist() == list(data.ids)
    assert out["flagged"].sum() == report.settings["n_suspicious"]
    assert {f"score_{name}" for name in LABEL_DETECTORS} <= set(out.columns)
    flagged = out[out["flagged"]]
    assert set(flagged["finding"]) == {"label_flip"} and flagged["reason"].str.len().min() > 0
    assert out["is_poison"].tolist() == flipped.is_poison.tolist()
    table = report.flag_table()
    assert table["row"] == report.ranking.rows.tolist() and len(table["reasons"]) == len(table["row"])


def test_the_html_report_shows_findings_and_figures_in_headless_chromium(
    sms_split: tuple[Dataset, Dataset], tmp_path: Path, headless_chromium: Any
) -> None:
    """A backdoor and a flood in one training set: the page names both findings, shows every
    figure as SVG, and renders to a real screenshot."""
    planted = Backdoor(trigger="cf", rate=0.01, position="random").apply(sms_split[0], random_state=0)
    flooded = Flood(rate=0.01).apply(planted.poisoned, random_state=0)
    report = scan(flooded.poisoned)
    assert {"backdoor_trigger", "flood"} <= {f.kind for f in report.findings if f.level == LEVELS[2]}
    page = tmp_path / "scan.html"
    write_scan_html(report, page)
    dom = headless_chromium(page, "--virtual-time-budget=2000", "--dump-dom").stdout
    assert "Findings (" in dom and re.search(r"backdoor trigger (&#x27;|')cf(&#x27;|')", dom)
    for key in ("figure-chance", "figure-triggers", "figure-floods", "figure-classes", "figure-scores"):
        section = re.search(rf'<section id="{key}">(.*?)</section>', dom, re.S)
        assert section is not None and "<svg" in section.group(1), key
    shot = tmp_path / "scan.png"
    headless_chromium(page, "--window-size=1200,3000", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
