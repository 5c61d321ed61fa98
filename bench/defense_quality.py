"""Every registered defense side by side on a corpus (default: the SMS corpus): a 1% rare-token
backdoor and a 10% targeted label flip, victims logreg and svm, over several seeds; and DPA's
certified accuracy.

For each victim, attack and seed the attack is applied once and the undefended model trained
once; every defense then trains on the same poisoned set and is scored on the same held-out
messages: CACC, ASR (backdoor) or spam leak (label flip), the CACC lost against the undefended
model, the rows removed and how many were poison, and the seconds the defense took to fit.
Each registered defense runs with its defaults; a few named variants (parameters a defender
would pick for the attack at hand) run beside them. A defense limited to other victims (the DP
Naive Bayes) runs with its own victim, marked in ``defense_victim``.

Goals: on SMS (issue 5), some defense brings the backdoor's ASR to <= 2% while losing <= 0.3
points of CACC; on any other corpus, long e-mail first (issue 12), ASR <= 5% with <= 0.5 points
lost. DPA's certified accuracy at radius 1, 5, 10, 25 for k in {25, 50, 100}, trained on the
clean training split.

    python bench/defense_quality.py            # one JSON line
    python bench/defense_quality.py --table    # and tables for people, on stderr
    python bench/defense_quality.py --seeds 2  # a quicker look
    python bench/defense_quality.py --corpus spamassassin --defenses trigger_filter --victims logreg,svm,nb
    python bench/defense_quality.py --corpus mail.csv --table   # a file: anything load_train_test reads

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

from poisonlab.attacks import Attack, Backdoor, LabelFlip
from poisonlab.data import load_train_test
from poisonlab.defenses import DEFENSES, Defense, Sanitize, TriggerFilter, Trim
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
    "trigger_filter[no retrain]": TriggerFilter(retrain=False),
    "trigger_filter[+per-message 1.0]": TriggerFilter(retrain=False, message_threshold=1.0),
}
DPA_PARTS = (25, 50, 100)
RADII = (1, 5, 10, 25)
GOALS = {"sms_spam": (0.02, 0.3)}
"""Per corpus: the largest mean backdoor ASR and the most CACC points lost that meet the goal."""
GOAL_OTHER = (0.05, 0.5)
"""The goal on any other corpus (issue 12: long e-mail)."""


def _defenses(names: list[str] | None = None) -> dict[str, Defense]:
    """Every registered defense (or those `names`) with its defaults, and their named variants."""
    chosen = DEFENSES.names() if names is None else names
    found: dict[str, Defense] = {name: DEFENSES.get(name)() for name in chosen}
    found.update({label: d for label, d in VARIANTS.items() if d.name in chosen})
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


def run_attacks(
    seeds: int,
    corpus: str = "sms_spam",
    victims: tuple[str, ...] = VICTIMS,
    names: list[str] | None = None,
    attacks: dict[str, Attack] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per victim and attack: the undefended figures and every defense's, summarised over seeds."""
    train, test = load_train_test(corpus)
    defenses = _defenses(names)
    undefended_rows, defended_rows = [], []
    for victim in victims:
        for attack_name, attack in (ATTACKS if attacks is None else attacks).items():
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


def goal_check(
    defended_rows: list[dict[str, Any]], corpus: str = "sms_spam", victims: tuple[str, ...] = VICTIMS
) -> dict[str, Any]:
    """Per victim, the defenses whose mean backdoor ASR and mean CACC lost (against both the
    undefended and the clean model) meet the corpus's goal (`GOALS`, else `GOAL_OTHER`)."""
    goal_asr, goal_lost = GOALS.get(corpus, GOAL_OTHER)
    out: dict[str, Any] = {"asr_at_most": goal_asr, "cacc_lost_pts_at_most": goal_lost}
    for victim in victims:
        met = []
        for row in defended_rows:
            if row["victim"] != victim or row["attack"] != "backdoor" or row["defense_victim"] != victim:
                continue
            asr, lost = row.get("asr", {}).get("mean"), row["cacc_lost_pts"]["mean"]
            lost_clean = row["cacc_lost_vs_clean_pts"]["mean"]
            if asr is not None and asr <= goal_asr and max(lost, lost_clean) <= goal_lost:
                met.append({"defense": row["defense"], "asr": asr, "cacc_lost_pts": max(lost, lost_clean)})
        out[victim] = met
    out["met"] = all(out[victim] for victim in victims)
    return out


def certified_accuracy(corpus: str = "sms_spam", victims: tuple[str, ...] = VICTIMS) -> dict[str, Any] | None:
    """DPA's certified accuracy at `RADII` for each k in `DPA_PARTS`, per victim (clean training)."""
    if "partition_aggregation" not in DEFENSES:
        return None
    from poisonlab.defenses.partition_aggregation import certified_accuracy_curve

    train, test = load_train_test(corpus)
    cls = DEFENSES.get("partition_aggregation")
    out: dict[str, Any] = {}
    for victim in victims:
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
    for victim in result["victims"]:
        for attack in result["attacks"]:
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
    goal = result["goal"]
    print(
        f"\ngoal (ASR <= {100 * goal['asr_at_most']:g}%, <= {goal['cacc_lost_pts_at_most']:g} CACC points "
        f"lost) met: {goal['met']}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds per victim and attack (default: 5)")
    parser.add_argument("--table", action="store_true", help="also print tables for people on stderr")
    parser.add_argument(
        "--corpus",
        default="sms_spam",
        help="a bundled corpus name or a data file, as load_train_test reads it (default: sms_spam)",
    )
    parser.add_argument(
        "--victims",
        default=",".join(VICTIMS),
        help=f"comma-separated victims (default: {','.join(VICTIMS)})",
    )
    parser.add_argument(
        "--attacks",
        default=",".join(ATTACKS),
        help=f"comma-separated attacks of this benchmark (default: {','.join(ATTACKS)})",
    )
    parser.add_argument(
        "--defenses",
        default=None,
        help="comma-separated registered defenses, with their variants (default: all)",
    )
    options = parser.parse_args(argv)
    victims = tuple(v.strip() for v in options.victims.split(",") if v.strip())
    names = None
    if options.defenses is not None:
        names = [name.strip() for name in options.defenses.split(",") if name.strip()]
    attacks = {name: ATTACKS[name] for name in options.attacks.split(",") if name in ATTACKS}
    if not attacks:
        parser.error(f"--attacks takes names among {', '.join(ATTACKS)}")
    unknown = [name for name in names or [] if name not in DEFENSES]
    if unknown:
        parser.error(f"unknown defenses: {', '.join(unknown)} (registered: {', '.join(DEFENSES.names())})")
    started = time.perf_counter()
    undefended, defended = run_attacks(options.seeds, options.corpus, victims, names, attacks)
    result = {
        "benchmark": "defense_quality",
        "data": options.corpus,
        "victims": list(victims),
        "seeds": options.seeds,
        "attacks": {name: {"attack": attack.name, **attack.get_params()} for name, attack in attacks.items()},
        "undefended": undefended,
        "defended": defended,
        "goal": goal_check(defended, options.corpus, victims),
        "dpa_certified": certified_accuracy(options.corpus, victims)
        if names is None or "partition_aggregation" in names
        else None,
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
