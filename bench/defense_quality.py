"""Every registered defense side by side on the SMS corpus: a 1% rare-token backdoor and a 10%
targeted label flip, victims logreg and svm, over several seeds; and DPA's certified accuracy.

For each victim, attack and seed the attack is applied once and the undefended model trained
once; every defense then trains on the same poisoned set and is scored on the same held-out
messages: CACC, ASR (backdoor) or spam leak (label flip), the CACC lost against the undefended
model, the rows removed and how many were poison, and the seconds the defense took to fit.
Each registered defense runs with its defaults; a few named variants (parameters a defender
would pick for the attack at hand) run beside them. A defense limited to other victims (the DP
Naive Bayes) runs with its own victim, marked in ``defense_victim``.

Goal (issue 5): some defense brings the backdoor's ASR to <= 2% while losing <= 0.3 points of
CACC. DPA's certified accuracy at radius 1, 5, 10, 25 for k in {25, 50, 100}, trained on the
clean training split.

    python bench/defense_quality.py            # one JSON line
    python bench/defense_quality.py --table    # and tables for people, on stderr
    python bench/defense_quality.py --seeds 2  # a quicker look

Timings are wall-clock seconds on whatever machine runs it (a loaded, shared machine gives
noisy figures).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from typing import Any

import numpy as np

from _corpus import add_corpus_option
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import load_train_test
from poisonlab.defenses import DEFENSES, Defense, Sanitize, Trim
from poisonlab.experiments.defend import defend_evaluated
from poisonlab.experiments.evaluate import evaluate_attack

VICTIMS = ("logreg", "svm")
ATTACKS = {
    "backdoor": Backdoor(trigger="PROMO2026", mode="insert", position="start", repeat=3, rate=0.01),
    "label_flip": LabelFlip(strategy="targeted", rate=0.1),
}
VARIANTS: dict[str, Defense] = {
    "sanitize[knn_labels, 10%]": Sanitize(detectors=("knn_labels",), threshold=0.1),
    "trim[discard 10%]": Trim(discard=0.1),
}
DPA_PARTS = (25, 50, 100)
RADII = (1, 5, 10, 25)
GOAL_ASR = 0.02
GOAL_CACC_LOST_PTS = 0.3


def _defenses() -> dict[str, Defense]:
    found: dict[str, Defense] = {name: DEFENSES.get(name)() for name in DEFENSES.names()}
    found.update(VARIANTS)
    return found


def _victim_for(defense: Defense, victim: str) -> str:
    supported = getattr(type(defense), "supported_victims", None)
    return victim if not supported or victim in supported else supported[0]


def _summary(values: list[float]) -> dict[str, float | None]:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    if not finite:
        return {"mean": None, "std": None, "min": None, "max": None}
    array = np.asarray(finite, dtype=np.float64)
    return {
        "mean": float(array.mean()),
        "std": float(array.std(ddof=1)) if array.size > 1 else 0.0,
        "min": float(array.min()),
        "max": float(array.max()),
    }


def run_attacks(seeds: int, corpus: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per victim and attack: the undefended figures and every defense's, summarised over seeds."""
    train, test = load_train_test(corpus)
    defenses = _defenses()
    undefended_rows, defended_rows = [], []
    for victim in VICTIMS:
        for attack_name, attack in ATTACKS.items():
            undefended: dict[str, list[float]] = {"cacc": [], "asr": [], "spam_leak": [], "clean_cacc": []}
            per_defense: dict[str, dict[str, list[float]]] = {label: {} for label in defenses}
            own_victim = {label: _victim_for(defense, victim) for label, defense in defenses.items()}
            for seed in range(seeds):
                evaluation = evaluate_attack(attack, train, test, victim, random_state=seed)
                undefended["cacc"].append(evaluation.attacked.accuracy)
                undefended["clean_cacc"].append(evaluation.clean.accuracy)
                undefended["spam_leak"].append(evaluation.attacked.spam_leak)
                if evaluation.backdoor is not None:
                    undefended["asr"].append(evaluation.backdoor.asr)
                for label, defense in defenses.items():
                    own = own_victim[label]
                    baseline = evaluation
                    if own != victim:  # compare with the defense's own victim, undefended
                        baseline = evaluate_attack(attack, train, test, own, random_state=seed)
                    result = defend_evaluated(defense, baseline, test, own, random_state=seed)
                    figures = per_defense[label]
                    for key, value in (
                        ("cacc", result.scores.accuracy),
                        ("cacc_lost_pts", 100 * (baseline.attacked.accuracy - result.scores.accuracy)),
                        ("cacc_lost_vs_clean_pts", 100 * (baseline.clean.accuracy - result.scores.accuracy)),
                        ("spam_leak", result.scores.spam_leak),
                        ("ham_loss", result.scores.ham_loss),
                        ("asr", result.asr),
                        ("seconds", result.seconds),
                        ("removed", None if result.removed is None else result.removed.rows),
                        ("removed_poison", None if result.removed is None else result.removed.poison),
                        (
                            "false_alarm_rate",
                            None if result.filtered is None else result.filtered["false_alarm_rate"],
                        ),
                    ):
                        if value is not None:
                            figures.setdefault(key, []).append(float(value))
                print(f"  {victim} {attack_name} seed {seed} done", file=sys.stderr, flush=True)
            undefended_rows.append(
                {
                    "victim": victim,
                    "attack": attack_name,
                    **{key: _summary(values) for key, values in undefended.items() if values},
                }
            )
            for label, figures in per_defense.items():
                defended_rows.append(
                    {
                        "victim": victim,
                        "attack": attack_name,
                        "defense": label,
                        "defense_victim": own_victim[label],
                        "params": defenses[label].get_params(),
                        **{key: _summary(values) for key, values in figures.items()},
                    }
                )
    return undefended_rows, defended_rows


def goal_check(defended_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per victim, the defenses whose mean backdoor ASR <= 2% and mean CACC lost <= 0.3 points
    (against both the undefended and the clean model)."""
    out: dict[str, Any] = {}
    for victim in VICTIMS:
        met = []
        for row in defended_rows:
            if row["victim"] != victim or row["attack"] != "backdoor" or row["defense_victim"] != victim:
                continue
            asr, lost = row.get("asr", {}).get("mean"), row["cacc_lost_pts"]["mean"]
            lost_clean = row["cacc_lost_vs_clean_pts"]["mean"]
            if asr is not None and asr <= GOAL_ASR and max(lost, lost_clean) <= GOAL_CACC_LOST_PTS:
                met.append({"defense": row["defense"], "asr": asr, "cacc_lost_pts": max(lost, lost_clean)})
        out[victim] = met
    out["met"] = all(out[victim] for victim in VICTIMS)
    return out


def certified_accuracy(corpus: str) -> dict[str, Any] | None:
    """DPA's certified accuracy at `RADII` for each k in `DPA_PARTS`, per victim (clean training)."""
    if "partition_aggregation" not in DEFENSES:
        return None
    from poisonlab.defenses.partition_aggregation import certified_accuracy_curve

    train, test = load_train_test(corpus)
    cls = DEFENSES.get("partition_aggregation")
    out: dict[str, Any] = {}
    for victim in VICTIMS:
        for k in DPA_PARTS:
            started = time.perf_counter()
            defended = cls(k=k).fit(train, victim, random_state=0)
            certificates = defended.model.certify(test.texts)
            curve = certified_accuracy_curve(
                test.labels, certificates.predictions, certificates.radii, max_radius=max(RADII)
            )
            out[f"{victim} k={k}"] = {
                "accuracy": float(curve[0]),
                **{f"radius_{r}": float(curve[r]) for r in RADII},
                "seconds": time.perf_counter() - started,
            }
    return out


def _cell(summary: dict[str, Any] | None, scale: float = 100.0, digits: int = 1) -> str:
    if not summary or summary.get("mean") is None:
        return "-"
    return f"{summary['mean'] * scale:.{digits}f} ± {summary['std'] * scale:.{digits}f}"


def print_tables(result: dict[str, Any]) -> None:
    """Tables for people, on stderr (stdout holds the JSON line)."""
    for victim in VICTIMS:
        for attack in ATTACKS:
            base = next(r for r in result["undefended"] if r["victim"] == victim and r["attack"] == attack)
            effect = "asr" if attack == "backdoor" else "spam_leak"
            print(f"\n{victim}, {attack} (mean ± sd over {result['seeds']} seeds, %)", file=sys.stderr)
            header = (
                f"{'defense':32} {'victim':7} {'CACC':>13} {'lost pts':>13} {effect:>13} "
                f"{'removed':>9} {'poison':>7} {'s':>6}"
            )
            print(header, file=sys.stderr)
            print(
                f"{'(none)':32} {victim:7} {_cell(base['cacc']):>13} {'':>13} {_cell(base.get(effect)):>13}",
                file=sys.stderr,
            )
            for row in result["defended"]:
                if row["victim"] != victim or row["attack"] != attack:
                    continue
                print(
                    f"{row['defense']:32} {row['defense_victim']:7} {_cell(row['cacc']):>13} "
                    f"{_cell(row['cacc_lost_pts'], 1.0, 2):>13} {_cell(row.get(effect)):>13} "
                    f"{_cell(row.get('removed'), 1.0, 0):>9} {_cell(row.get('removed_poison'), 1.0, 0):>7} "
                    f"{row['seconds']['mean']:6.1f}",
                    file=sys.stderr,
                )
    if result["dpa_certified"]:
        print("\nDPA certified accuracy (clean training split, %)", file=sys.stderr)
        for key, row in result["dpa_certified"].items():
            shown = "  ".join(f"r>={r}: {100 * row[f'radius_{r}']:.1f}" for r in RADII)
            print(f"{key:16} acc {100 * row['accuracy']:.1f}  {shown}", file=sys.stderr)
    print(f"\ngoal met: {result['goal']['met']}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds per victim and attack (default: 5)")
    parser.add_argument("--table", action="store_true", help="also print tables for people on stderr")
    add_corpus_option(parser)
    options = parser.parse_args(argv)
    started = time.perf_counter()
    undefended, defended = run_attacks(options.seeds, options.corpus)
    result = {
        "benchmark": "defense_quality",
        "data": options.corpus,
        "victims": list(VICTIMS),
        "seeds": options.seeds,
        "attacks": {name: {"attack": attack.name, **attack.get_params()} for name, attack in ATTACKS.items()},
        "undefended": undefended,
        "defended": defended,
        "goal": goal_check(defended),
        "dpa_certified": certified_accuracy(options.corpus),
        "registered_defenses": DEFENSES.names(),
        "seconds_total": time.perf_counter() - started,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_1min": os.getloadavg()[0],
        },
    }
    print(json.dumps(result, allow_nan=False))
    if options.table:
        print_tables(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
