"""How fast `poisonlab monitor` notices a poisoned model swapped into production, and how often it cries wolf.

The simulation
--------------
* Data: the bundled SMS corpus and its shared train/test split. The deployed model is the
  victim trained on the clean training split; the poisoned models are the same victim trained
  on the training split after a 10 % targeted label flip (spam -> ham, `LabelFlip`) or a 1 %
  PROMO2026 backdoor (`Backdoor`, insert mode), each with the attack seeded by the run.
* The test split is halved, stratified by class (seeded per run): one half is the baseline
  (the deployed model's predictions on it, as ``poisonlab monitor baseline`` makes it), the
  other half is the production pool. Production traffic is drawn from the pool with
  replacement, so no message of the stream is in the baseline or in any training set.
* Backdoor scenario: the attacker's campaign is in the traffic from the start: a share
  (``--triggered``, default 0.5) of the spam messages drawn carry the trigger. Before the swap
  the clean model sees them, after it the backdoored one: only the model changes at the swap.
  The "dormant" backdoor scenario has no triggered traffic at all.
* Each run streams ``--before`` clean-model messages plus a random offset of up to one window
  (so the swap falls anywhere inside a window), then ``--after`` messages from the poisoned
  model, through `DriftMonitor` with its default thresholds, for each window size.
* Detection delay: messages the poisoned model classified until the end of the first window
  that alarms (a window straddling the swap counts). Runs with no alarm within ``--after``
  messages count as missed, and are left out of the delay statistics.
* False alarms: alarmed windows per 10,000 messages on a separate long clean stream
  (``--clean`` messages, clean model only), for each window size; and, as a check, in the
  clean stretch before the swap of the label-flip streams. Alarms per 10,000 messages after
  the swap, beside them, tell a real detection from a chance alarm: a dormant backdoor's
  post-swap rate is the false-alarm rate, so its "detections" are chance alarms.

    python bench/monitor_delay.py [--runs 20] [--victims nb,logreg] [--windows 250,500,1000]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np

from _corpus import add_corpus_option
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset, load_train_test
from poisonlab.monitoring.baseline import Baseline, baseline_from_predictions
from poisonlab.monitoring.drift import DriftMonitor, DriftThresholds
from poisonlab.monitoring.records import RecordBatch
from poisonlab.victims import log_odds, make_victim

SCENARIOS = ("label_flip", "backdoor", "backdoor_dormant")


def halves(test: Dataset, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified halves of the test split: (baseline rows, production pool rows)."""
    base, pool = [], []
    for label in np.unique(test.labels):
        rows = rng.permutation(np.flatnonzero(test.labels == label))
        base.append(rows[: rows.size // 2])
        pool.append(rows[rows.size // 2 :])
    return np.sort(np.concatenate(base)), np.sort(np.concatenate(pool))


def predictions(model: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(model.predict(texts), dtype=np.int64), log_odds(model, texts)


def stream_windows(
    baseline: Baseline, labels: np.ndarray, scores: np.ndarray, window: int, thresholds: DriftThresholds
) -> list[tuple[int, int, bool]]:
    """(start, end, alarm) of every full window of one stream."""
    monitor = DriftMonitor(baseline, window=window, thresholds=thresholds)
    batch = RecordBatch(labels=labels, scores=scores, timestamps=(None,) * labels.size)
    return [(w.start, w.end, w.alarm) for w in monitor.update(batch)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    thresholds = DriftThresholds()
    train, test = load_train_test(args.corpus)
    spam = len(train.classes) - 1
    windows = [int(w) for w in args.windows.split(",")]
    out: dict[str, Any] = {
        "benchmark": "monitor_delay",
        "corpus": args.corpus,
        "runs": args.runs,
        "before": args.before,
        "after": args.after,
        "triggered_spam_share": args.triggered,
        "thresholds": {"psi": thresholds.psi, "alpha": thresholds.alpha},
        "windows": windows,
        "victims": {},
    }
    for victim in args.victims.split(","):
        clean_model = make_victim(victim, random_state=0).fit(list(train.texts), train.labels)
        delays: dict[tuple[str, int], list[int]] = {(s, w): [] for s in SCENARIOS for w in windows}
        missed: dict[tuple[str, int], int] = dict.fromkeys(delays, 0)
        post_alarms: dict[tuple[str, int], int] = dict.fromkeys(delays, 0)
        post_messages: dict[tuple[str, int], int] = dict.fromkeys(delays, 0)
        pre_alarms: dict[int, int] = dict.fromkeys(windows, 0)
        pre_messages: dict[int, int] = dict.fromkeys(windows, 0)
        clean_alarms: dict[int, int] = dict.fromkeys(windows, 0)
        for run_index in range(args.runs):
            rng = np.random.default_rng(1000 + run_index)
            base_rows, pool_rows = halves(test, rng)
            base_texts = [test.texts[i] for i in base_rows]
            base_labels, base_scores = predictions(clean_model, base_texts)
            baseline = baseline_from_predictions(base_labels, base_scores, test.classes)
            pool_texts = [test.texts[i] for i in pool_rows]
            pool_truth = test.labels[pool_rows]
            flip = LabelFlip(strategy="targeted", rate=0.1).apply(train, random_state=run_index)
            door = Backdoor(trigger="PROMO2026", rate=0.01).apply(train, random_state=run_index)
            if door.trigger is None:
                raise RuntimeError("a backdoor always records its trigger")
            triggered_texts = door.trigger.apply(pool_texts)
            models = {
                "label_flip": make_victim(victim, random_state=0).fit(
                    list(flip.poisoned.texts), flip.poisoned.labels
                ),
                "backdoor": make_victim(victim, random_state=0).fit(
                    list(door.poisoned.texts), door.poisoned.labels
                ),
            }
            plain = {"clean": predictions(clean_model, pool_texts)}
            plain.update({name: predictions(model, pool_texts) for name, model in models.items()})
            trig = {"clean": predictions(clean_model, triggered_texts)}
            trig["backdoor"] = predictions(models["backdoor"], triggered_texts)

            # the long clean stream: false alarms per 10,000 clean messages
            draw = rng.integers(0, len(pool_texts), args.clean)
            for w in windows:
                found = stream_windows(
                    baseline, plain["clean"][0][draw], plain["clean"][1][draw], w, thresholds
                )
                clean_alarms[w] += sum(alarm for _, _, alarm in found)

            for scenario in SCENARIOS:
                poisoned = "label_flip" if scenario == "label_flip" else "backdoor"
                for w in windows:
                    swap = args.before + int(rng.integers(0, w))
                    total = swap + args.after
                    draw = rng.integers(0, len(pool_texts), total)
                    carries = np.zeros(total, dtype=bool)
                    if scenario == "backdoor":
                        carries = (pool_truth[draw] == spam) & (rng.random(total) < args.triggered)
                    after = np.arange(total) >= swap
                    labels = np.empty(total, dtype=np.int64)
                    scores = np.empty(total)
                    for is_after, model_name in ((False, "clean"), (True, poisoned)):
                        for is_triggered, table in ((False, plain), (True, trig)):
                            mask = (after == is_after) & (carries == is_triggered)
                            if mask.any():
                                labels[mask] = table[model_name][0][draw[mask]]
                                scores[mask] = table[model_name][1][draw[mask]]
                    found = stream_windows(baseline, labels, scores, w, thresholds)
                    if scenario == "label_flip":  # pre-swap windows are clean: count their alarms once
                        pre_alarms[w] += sum(alarm for _, end, alarm in found if end <= swap)
                        pre_messages[w] += max(end for _, end, _ in found if end <= swap)
                    after_swap = [alarm for _, end, alarm in found if end > swap]
                    post_alarms[(scenario, w)] += sum(after_swap)
                    post_messages[(scenario, w)] += found[-1][1] - swap
                    hits = [end - swap for _, end, alarm in found if alarm and end > swap]
                    if hits:
                        delays[(scenario, w)].append(hits[0])
                    else:
                        missed[(scenario, w)] += 1
        report: dict[str, Any] = {}
        for w in windows:
            per_window: dict[str, Any] = {
                "false_alarms_per_10k_clean": round(clean_alarms[w] * 10_000 / (args.clean * args.runs), 3),
                "false_alarms_per_10k_before_swap": round(
                    pre_alarms[w] * 10_000 / max(pre_messages[w], 1), 3
                ),
            }
            for scenario in SCENARIOS:
                found = delays[(scenario, w)]
                per_window[scenario] = {
                    "detected": f"{len(found)}/{args.runs}",
                    "median_delay": statistics.median(found) if found else None,
                    "max_delay": max(found) if found else None,
                    "alarms_per_10k_after_swap": round(
                        post_alarms[(scenario, w)] * 10_000 / max(post_messages[(scenario, w)], 1), 3
                    ),
                }
            report[str(w)] = per_window
        out["victims"][victim] = report
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--victims", default="nb,logreg")
    parser.add_argument("--windows", default="250,500,1000")
    parser.add_argument("--before", type=int, default=5000, help="clean messages before the swap")
    parser.add_argument("--after", type=int, default=5000, help="poisoned messages watched after the swap")
    parser.add_argument("--clean", type=int, default=50_000, help="messages of the clean-only stream per run")
    parser.add_argument("--triggered", type=float, default=0.5, help="share of spam carrying the trigger")
    add_corpus_option(parser)
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args)
    result["seconds"] = round(time.perf_counter() - started, 2)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
