"""`sanitize` with its defaults across poison budgets: does it remove what the data shows, whatever
the amount, and little else?

Per corpus, on the training split: dirty-label backdoors (a rare token absent from the corpus,
repeated three times, inserted in spam rows relabelled ham) at 0.5 %, 1 %, 3 % and 5 % of the
rows, and label flips: targeted spam -> ham at 3 % and 10 %, random at 20 %. For each, `Sanitize()` with its
defaults (trigger mining and iterative relabelling, each by its own decision rule) is fitted
with the victim, and against the attack's ground truth we report: rows removed, poison caught
(recall), precision, clean rows removed as a share of the clean rows, and the victim's ASR (for
backdoors) or spam leak (for flips) undefended and defended, with CACC. Mean over seeds.

    python bench/sanitize_budgets.py --corpus sms_spam spamassassin [--seeds 2] [--victim logreg]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from _corpus import rare_token
from poisonlab.attacks import Attack, Backdoor, LabelFlip
from poisonlab.data import Dataset, load_train_test
from poisonlab.defenses import Sanitize
from poisonlab.detectors.caches import clear_caches
from poisonlab.experiments.defend import evaluate_defense

BACKDOOR_RATES = (0.005, 0.01, 0.03, 0.05)
FLIPS = (("targeted", 0.03), ("targeted", 0.10), ("random", 0.20))
"""20 % targeted is more spam than SMS has (597 rows, 13 %): the 20 % flip is random."""


def attacks(train: Dataset) -> dict[str, Attack]:
    trigger = rare_token(train)
    planted: dict[str, Attack] = {
        f"backdoor_{rate:g}": Backdoor(trigger=trigger, rate=rate, repeat=3) for rate in BACKDOOR_RATES
    }
    planted |= {f"flip_{kind}_{rate:g}": LabelFlip(strategy=kind, rate=rate) for kind, rate in FLIPS}
    return planted


def mean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return round(statistics.fmean(finite), 4) if finite else float("nan")


def measure(corpus: str, seeds: int, victim: str) -> dict[str, Any]:
    train, test = load_train_test(corpus)
    out: dict[str, Any] = {}
    for name, attack in attacks(train).items():
        figures: dict[str, list[float]] = {}
        for seed in range(seeds):
            clear_caches()
            started = time.perf_counter()
            result = evaluate_defense(Sanitize(), attack, train, test, victim, random_state=seed)
            removed = result.removed
            assert removed is not None
            n_clean = len(result.attack.poisoned.poisoned) - removed.poison_total
            key = "asr" if result.asr is not None else "spam_leak"
            before = result.undefended_asr if key == "asr" else result.attack.attacked.spam_leak
            after = result.asr if key == "asr" else result.scores.spam_leak
            for field, value in (
                ("poison_rows", removed.poison_total),
                ("removed", removed.rows),
                ("recall", removed.recall),
                ("precision", removed.precision),
                ("clean_removed_share", (removed.rows - removed.poison) / n_clean),
                (f"{key}_undefended", before),
                (f"{key}_defended", after),
                ("cacc_undefended", result.attack.attacked.accuracy),
                ("cacc_defended", result.scores.accuracy),
                ("seconds", time.perf_counter() - started),
            ):
                figures.setdefault(field, []).append(float(value if value is not None else float("nan")))
            print(f"  {corpus} {name} seed {seed} done", file=sys.stderr)
        out[name] = {field: mean(values) for field, values in figures.items()}
    return out


def table(corpus: str, rows: dict[str, Any]) -> str:
    lines = [
        f"{corpus}: Sanitize() defaults (mean over seeds)",
        f"  {'attack':<22}{'poison':>7}{'removed':>9}{'recall':>8}{'precision':>10}{'clean rm':>9}"
        f"{'ASR/leak before':>17}{'after':>8}{'CACC before':>13}{'after':>8}",
    ]
    for name, row in rows.items():
        key = "asr" if "asr_defended" in row else "spam_leak"
        lines.append(
            f"  {name:<22}{row['poison_rows']:>7.0f}{row['removed']:>9.1f}{row['recall']:>8.3f}"
            f"{row['precision']:>10.3f}{row['clean_removed_share']:>9.2%}{row[f'{key}_undefended']:>17.1%}"
            f"{row[f'{key}_defended']:>8.1%}{row['cacc_undefended']:>13.2%}{row['cacc_defended']:>8.2%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", nargs="+", default=["sms_spam"], help="bundled corpus names or data files"
    )
    parser.add_argument("--seeds", type=int, default=2, help="attack seeds (default 2)")
    parser.add_argument("--victim", default="logreg", help="the victim trained (default logreg)")
    parser.add_argument("--table", action="store_true", help="also print a table on stderr")
    options = parser.parse_args(argv)
    results = {corpus: measure(corpus, options.seeds, options.victim) for corpus in options.corpus}
    print(
        json.dumps(
            {
                "benchmark": "sanitize_budgets",
                "victim": options.victim,
                "seeds": options.seeds,
                "corpora": results,
            }
        )
    )
    if options.table:
        for corpus, rows in results.items():
            print(table(corpus, rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
