"""How often `poisonlab scan` calls clean data poisoned, and how often it catches planted poison.

For each corpus (a bundled name or a data file):

1. Clean: the training split of `--clean-splits` different split seeds, unpoisoned. Every
   "poisoning likely" here is a false alarm; the table counts the verdict levels, the rows the
   scan flags (suspicious rows, as a share of the split), and what drove each verdict.
2. Poisoned: the default split with poison planted at the budgets of issue 12, `--seeds` attack
   seeds each: 10 % and 3 % targeted flips (spam -> ham), 10 % random flips, a 1 % dirty-label
   backdoor with a rare token, a phrase and a common word, a 1 % dictionary attack and a 1 %
   near-duplicate flood. Per attack: the share of runs called "poisoning likely", and the share
   in which the kind of poisoning was named (a strongly suspected trigger equal to the planted
   one or a part of it for backdoors; label flipping for flips; a flood or a dictionary attack for those).

Token choices follow stated rules, never a corpus: the rare token is the first of Kurita et al.
(2020)'s rare tokens (cf, mn, bb, tq, mb) absent from the training split; the common word is the
word carried by the largest share of the rarer of the two classes' messages.

Prints one JSON line; ``--table`` also prints a table for people on stderr.

    python bench/verdict_calibration.py --corpus sms_spam spamassassin [--seeds 3] [--clean-splits 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any

import numpy as np

from _corpus import rare_token
from poisonlab.attacks import Attack, Backdoor, DictionaryAttack, Flood, LabelFlip
from poisonlab.data import Dataset, load_train_test
from poisonlab.detectors.caches import clear_caches
from poisonlab.detectors.word_counts import word_counts
from poisonlab.experiments.scan import LEVELS, ScanReport, scan

LIKELY = LEVELS[2]


def common_word(train: Dataset) -> str:
    """The word carried by the largest share of messages of the class that carries it least."""
    counted = word_counts(train)
    binary = counted.rows().copy()
    binary.data[:] = 1
    shares = np.vstack(
        [np.asarray(binary[train.labels == c].mean(axis=0)).ravel() for c in range(len(train.classes))]
    )
    return str(counted.words[int(shares.min(axis=0).argmax())])


def attacks(train: Dataset) -> dict[str, tuple[Attack, str]]:
    """The planted poison of issue 12 and the finding kind each should be named as."""
    backdoor = {"rate": 0.01, "position": "random"}
    return {
        "flip_targeted_10": (LabelFlip(strategy="targeted", rate=0.10), "label_flip"),
        "flip_targeted_3": (LabelFlip(strategy="targeted", rate=0.03), "label_flip"),
        "flip_random_10": (LabelFlip(strategy="random", rate=0.10), "label_flip"),
        "backdoor_rare_1": (Backdoor(trigger=rare_token(train), **backdoor), "backdoor_trigger"),  # type: ignore[arg-type]
        "backdoor_phrase_1": (Backdoor(trigger="let me know", **backdoor), "backdoor_trigger"),  # type: ignore[arg-type]
        "backdoor_common_1": (Backdoor(trigger=common_word(train), **backdoor), "backdoor_trigger"),  # type: ignore[arg-type]
        "dictionary_1": (DictionaryAttack(rate=0.01), "dictionary"),
        "flood_1": (Flood(rate=0.01), "flood"),
    }


def kinds(report: ScanReport) -> set[str]:
    """The kinds of poisoning the report calls likely."""
    return {finding.kind for finding in report.findings if finding.level == LIKELY}


def named_right(report: ScanReport, kind: str, attack: Attack) -> bool:
    """Whether the report calls the planted kind likely (for backdoors, the planted trigger itself)."""
    if kind == "backdoor_trigger":  # the planted trigger, or a part of it (a phrase's last words)
        planted = " ".join(str(attack.get_params()["trigger"]).lower().split())
        return any(
            f.kind == kind and f.level == LIKELY and f" {f.trigger} " in f" {planted} "
            for f in report.findings
        )
    return kind in kinds(report)


def run_scan(data: Dataset, workers: int) -> tuple[ScanReport, float]:
    clear_caches()
    started = time.perf_counter()
    report = scan(data, workers=workers)
    return report, time.perf_counter() - started


def calibrate(corpus: str, seeds: int, clean_splits: int, workers: int) -> dict[str, Any]:
    clean: list[dict[str, Any]] = []
    for split_seed in range(clean_splits):
        train, _ = load_train_test(corpus, split_seed=split_seed)
        report, seconds = run_scan(train, workers)
        clean.append(
            {
                "split_seed": split_seed,
                "level": report.level,
                "kinds": sorted(kinds(report)),
                "flagged_share": report.settings["n_suspicious"] / report.n_rows,
                "label_issues": len(report.label_issues),
                "findings": [f.summary for f in report.findings],
                "verdict": report.verdict,
                "seconds": round(seconds, 2),
            }
        )
    train, _ = load_train_test(corpus)
    poisoned: dict[str, dict[str, Any]] = {}
    for name, (attack, kind) in attacks(train).items():
        runs = []
        for seed in range(seeds):
            planted = attack.apply(train, random_state=seed)
            report, seconds = run_scan(planted.poisoned, workers)
            runs.append(
                {
                    "seed": seed,
                    "level": report.level,
                    "named": named_right(report, kind, attack),
                    "kinds": sorted(kinds(report)),
                    "seconds": round(seconds, 2),
                }
            )
        poisoned[name] = {
            "expected_kind": kind,
            "params": attack.get_params(),
            "likely_share": sum(r["level"] == LIKELY for r in runs) / len(runs),
            "named_share": sum(r["named"] for r in runs) / len(runs),
            "runs": runs,
        }
    return {
        "clean": {
            "levels": dict(Counter(r["level"] for r in clean)),
            "likely": sum(r["level"] == LIKELY for r in clean),
            "max_flagged_share": round(max(r["flagged_share"] for r in clean), 4),
            "runs": clean,
        },
        "poisoned": poisoned,
    }


def table(corpus: str, result: dict[str, Any]) -> str:
    clean = result["clean"]
    lines = [
        f"{corpus}: clean splits {sum(clean['levels'].values())}: "
        + ", ".join(f"{level} {count}" for level, count in sorted(clean["levels"].items()))
        + f"; most rows flagged {clean['max_flagged_share']:.1%}",
        f"  {'attack':<20} {'likely':>7} {'named':>7}  kinds named per run",
    ]
    for name, found in result["poisoned"].items():
        named = "; ".join(",".join(r["kinds"]) or "-" for r in found["runs"])
        lines.append(f"  {name:<20} {found['likely_share']:>7.0%} {found['named_share']:>7.0%}  {named}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", nargs="+", default=["sms_spam"], help="bundled corpus names or data files"
    )
    parser.add_argument("--seeds", type=int, default=3, help="attack seeds per planted poison (default 3)")
    parser.add_argument("--clean-splits", type=int, default=10, help="clean split seeds (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="scan workers (default 2)")
    parser.add_argument("--table", action="store_true", help="also print a table on stderr")
    args = parser.parse_args(argv)
    results = {
        corpus: calibrate(corpus, args.seeds, args.clean_splits, args.workers) for corpus in args.corpus
    }
    print(json.dumps({"benchmark": "verdict_calibration", "seeds": args.seeds, "corpora": results}))
    if args.table:
        for corpus, result in results.items():
            print(table(corpus, result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
