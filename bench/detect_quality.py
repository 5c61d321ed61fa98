"""Detection quality, every figure against the attack's ground truth, in one run.

1. Label flips, per corpus (``--corpus``: bundled names or data files, e.g. ``sms_spam
   spamassassin``): targeted spam -> ham at rates 0.10 and 0.03, random at 0.10 and 0.20, on the
   training split. Every registered detector whose ``targets`` include ``label_flip`` flags rows
   with its own rule (``flag``); those that take a victim run once per victim (``nb`` on counts,
   ``logreg`` on TF-IDF), beside ``cleanlab.filter.find_label_issues`` with its defaults on the
   same victim's out-of-fold probabilities: precision, recall, F1 and seconds (the baseline's
   seconds include computing those probabilities). Also each one's flag rate on the unpoisoned
   training split of split seeds 0, 1 and 2. Goal: the best detector's F1 at least cleanlab's + 0.05.
2. Backdoors: 1 % of the training split (45 spam messages) gets a trigger at a random position
   and the label ham (dirty-label ``Backdoor``, ``rate=0.01``). Three triggers: a rare token
   (``cf``, the rare-token trigger of Kurita et al. 2020; absent from SMS), a phrase of common
   words that ham already uses (``let me know``, in 22 ham messages), and the word most common
   in both classes (``you``, in 29 % of ham and 34 % of spam). Every detector whose ``targets``
   include ``backdoor`` runs with its defaults, beside spectral signatures and activation
   clustering in the plain ``counts`` and ``tfidf_svd`` representations (the baselines), and
   spectral signatures weighted by a Naive Bayes victim instead of logistic regression: recall
   of poison rows at a false-positive rate <= 0.5 %, AUROC, average precision, seconds; for
   trigger mining also the rank of the true trigger among all ranked tokens, the log10 of its
   adjusted p-value, and how many tokens are reported as significant. Goal: recall >= 0.95 and the
   true trigger ranked first for the rare token.
3. Control: trigger mining on the clean training split: its significant tokens are false
   alarms; its five best-ranked tokens show the margin.

Each figure is the mean and the spread (population standard deviation, min, max) over the
seeds (the attack's seed; the detectors keep their default seeds). Prints one JSON line;
``--table`` also prints a table for people on stderr.

    python bench/detect_quality.py [--seeds 5] [--table] [--corpus sms_spam spamassassin] [--no-backdoor]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from poisonlab import metrics
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset, load_train_test
from poisonlab.detectors import DETECTORS, ActivationClustering, Detector, SpectralSignature, TriggerMining

TRIGGERS = {"rare_token": "cf", "phrase": "let me know", "common_word": "you"}
FLIP_RATE = 0.10
BACKDOOR_RATE = 0.01
MAX_FPR = 0.005


def clear_shared_caches() -> None:
    """Forget every detector cache (word counts, out-of-fold probabilities, mining results,
    representations, flood clusters), so each timing starts cold."""
    from poisonlab.detectors.caches import clear_caches

    clear_caches()


def summary(values: list[float | None]) -> dict[str, Any]:
    """Mean and spread of the finite values; how many were missing (None or NaN)."""
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0, "missing": len(values)}
    return {
        "mean": round(statistics.fmean(finite), 4),
        "std": round(statistics.pstdev(finite), 4),
        "min": round(min(finite), 4),
        "max": round(max(finite), 4),
        "n": len(finite),
        "missing": len(values) - len(finite),
    }


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    clear_shared_caches()
    started = time.perf_counter()
    out = call()
    return out, time.perf_counter() - started


def flags_of(detector: Detector, dataset: Dataset) -> np.ndarray:
    """The detector's own flags: ``flag``, else ``findings().flags``."""
    if hasattr(detector, "flag"):
        return np.asarray(detector.flag(dataset), dtype=bool)
    return np.asarray(detector.findings(dataset).flags, dtype=bool)  # type: ignore[attr-defined]


FLIP_ATTACKS = {
    "targeted_10": ("targeted", 0.10),
    "targeted_3": ("targeted", 0.03),
    "random_10": ("random", 0.10),
    "random_20": ("random", 0.20),
}
VICTIMS = {"nb": "count", "logreg": "tfidf"}
CLEAN_SPLIT_SEEDS = (0, 1, 2)


def label_detectors() -> dict[str, Callable[[], Detector]]:
    """Every label-issue detector with its defaults; those that take a victim, once per victim."""
    chosen: dict[str, Callable[[], Detector]] = {}
    for name in DETECTORS:
        cls = DETECTORS.get(name)
        if "label_flip" not in cls.targets:
            continue
        if "victim" in {f.name for f in dataclasses.fields(cls)}:
            for victim, features in VICTIMS.items():
                chosen[f"{name}[{victim}]"] = lambda c=cls, v=victim, f=features: c(victim=v, features=f)
        else:
            chosen[name] = cls
    return chosen


def cleanlab_baseline(victim: str) -> Callable[[Dataset], np.ndarray]:
    """``cleanlab.filter.find_label_issues`` with its defaults on the victim's out-of-fold probabilities."""
    import cleanlab.filter

    from poisonlab.detectors.out_of_fold import out_of_fold_proba

    def flags(data: Dataset) -> np.ndarray:
        proba = out_of_fold_proba(data, victim, features=VICTIMS[victim])
        return np.asarray(cleanlab.filter.find_label_issues(data.labels, proba), dtype=bool)

    return flags


def label_flip_part(train: Dataset, seeds: list[int]) -> dict[str, Any]:
    detectors = label_detectors()
    out: dict[str, Any] = {
        "baseline": "cleanlab.filter.find_label_issues defaults on out-of-fold victim probabilities",
        "victims": VICTIMS,
    }
    for attack_name, (strategy, rate) in FLIP_ATTACKS.items():
        runs: dict[str, dict[str, list[float | None]]] = {}

        def record(
            name: str, truth: np.ndarray, flags: np.ndarray, seconds: float, runs: dict[str, Any] = runs
        ) -> None:
            row = runs.setdefault(name, {k: [] for k in ("precision", "recall", "f1", "seconds", "flagged")})
            row["precision"].append(metrics.detection_precision(truth, flags))
            row["recall"].append(metrics.detection_recall(truth, flags))
            row["f1"].append(metrics.detection_f1(truth, flags))
            row["seconds"].append(seconds)
            row["flagged"].append(float(flags.sum()))

        n_poison: list[int] = []
        for seed in seeds:
            attacked = LabelFlip(strategy=strategy, rate=rate).apply(train, random_state=seed)
            data, truth = attacked.poisoned, attacked.is_poison
            n_poison.append(int(truth.sum()))
            for victim in VICTIMS:
                baseline = cleanlab_baseline(victim)
                flags, seconds = timed(lambda b=baseline, data=data: b(data))
                record(f"cleanlab_default[{victim}]", truth, flags, seconds)
            for name, make in detectors.items():
                detector = make()
                flags, seconds = timed(lambda d=detector, data=data: flags_of(d, data))
                record(name, truth, flags, seconds)
        table = {name: {k: summary(v) for k, v in row.items()} for name, row in runs.items()}
        part: dict[str, Any] = {
            "attack": f"label_flip {strategy} rate={rate}",
            "n_poison": round(statistics.fmean(n_poison)),
            "detectors": table,
        }
        ours = [n for n in table if not n.startswith("cleanlab_default")]
        best = max(ours, key=lambda n: table[n]["f1"]["mean"] or -1.0)
        part["best"] = best
        part["f1_gain_over_cleanlab"] = {
            victim: round(table[best]["f1"]["mean"] - table[f"cleanlab_default[{victim}]"]["f1"]["mean"], 4)
            for victim in VICTIMS
        }
        out[attack_name] = part
    return out


def clean_split_rates(corpus: str) -> dict[str, Any]:
    """Share of rows each label-issue detector (and the baseline) flags on unpoisoned training splits."""
    rates: dict[str, list[float | None]] = {}
    for split_seed in CLEAN_SPLIT_SEEDS:
        train = load_train_test(corpus, split_seed=split_seed)[0]
        for victim in VICTIMS:
            rates.setdefault(f"cleanlab_default[{victim}]", []).append(
                float(cleanlab_baseline(victim)(train).mean())
            )
        for name, make in label_detectors().items():
            rates.setdefault(name, []).append(float(flags_of(make(), train).mean()))
    return {"split_seeds": list(CLEAN_SPLIT_SEEDS), "flag_rate": {k: summary(v) for k, v in rates.items()}}


def backdoor_detectors() -> dict[str, Detector]:
    chosen: dict[str, Detector] = {
        n: DETECTORS.get(n)() for n in DETECTORS if "backdoor" in DETECTORS.get(n).targets
    }
    for kind in ("counts", "tfidf_svd"):
        chosen[f"spectral_signature[{kind}]"] = SpectralSignature(representation=kind)
        chosen[f"activation_clustering[{kind}]"] = ActivationClustering(representation=kind)
    chosen["spectral_signature[weighted, nb]"] = SpectralSignature(victim="nb")
    return chosen


def trigger_rank(miner: TriggerMining, data: Dataset, trigger: str) -> tuple[int | None, float | None, int]:
    """Rank (1 = first) and adjusted p-value of `trigger` among all ranked tokens; significant count."""
    from sklearn.feature_extraction.text import CountVectorizer

    wanted = " ".join(CountVectorizer().build_analyzer()(trigger))
    ranked = miner.suspected_triggers(data, significant=False)
    n_significant = sum(t.p_value <= miner.significance for t in ranked)
    for position, found in enumerate(ranked, start=1):
        if found.token == wanted:
            return position, found.p_value, n_significant
    return None, None, n_significant


def backdoor_part(train: Dataset, seeds: list[int]) -> dict[str, Any]:
    detectors = backdoor_detectors()
    out: dict[str, Any] = {}
    for kind, trigger in TRIGGERS.items():
        runs: dict[str, dict[str, list[float | None]]] = {}
        mining: dict[str, list[float | None]] = {
            "rank": [],
            "log10_p_value": [],
            "ranked_first": [],
            "significant": [],
        }
        for seed in seeds:
            attacked = Backdoor(trigger=trigger, rate=BACKDOOR_RATE, position="random").apply(
                train, random_state=seed
            )
            data, truth = attacked.poisoned, attacked.is_poison
            for name, detector in detectors.items():
                scores, seconds = timed(lambda d=detector, data=data: d.score(data))
                row = runs.setdefault(
                    name, {k: [] for k in ("recall_at_fpr", "auroc", "average_precision", "seconds")}
                )
                row["recall_at_fpr"].append(metrics.recall_at_fpr(truth, scores, MAX_FPR))
                row["auroc"].append(metrics.auroc(truth, scores))
                row["average_precision"].append(metrics.average_precision(truth, scores))
                row["seconds"].append(seconds)
                if isinstance(detector, TriggerMining):
                    rank, p_value, significant = trigger_rank(detector, data, trigger)
                    mining["rank"].append(rank)
                    mining["log10_p_value"].append(
                        None if p_value is None else np.log10(max(p_value, 1e-300))
                    )
                    mining["ranked_first"].append(float(rank == 1))
                    mining["significant"].append(float(significant))
        out[kind] = {
            "trigger": trigger,
            "n_poison": round(BACKDOOR_RATE * len(train)),
            "detectors": {name: {k: summary(v) for k, v in row.items()} for name, row in runs.items()},
            "trigger_mining": {
                "ranks": mining["rank"],
                **{k: summary(v) for k, v in mining.items() if k != "rank"},
            },
        }
    rare = out["rare_token"]
    recall = rare["detectors"]["trigger_mining"]["recall_at_fpr"]["mean"]
    first = rare["trigger_mining"]["ranked_first"]["mean"]
    out["goal"] = {
        "rare_token_recall_at_fpr": recall,
        "recall_goal": 0.95,
        "rare_token_ranked_first_share": first,
        "met": bool(recall is not None and recall >= 0.95 and first == 1.0),
    }
    return out


def clean_control(train: Dataset) -> dict[str, Any]:
    miner = TriggerMining()
    ranked = miner.suspected_triggers(train, significant=False, top=5)
    return {
        "significance": miner.significance,
        "n_significant": len(miner.suspected_triggers(train)),
        "top_tokens": [
            {"token": t.token, "p_value": float(f"{t.p_value:.3g}"), "rows": len(t.rows)} for t in ranked
        ],
    }


def print_table(result: dict[str, Any]) -> None:
    def cell(stat: dict[str, Any], digits: int = 3) -> str:
        if stat["mean"] is None:
            return "-"
        return f"{stat['mean']:.{digits}f}±{stat['std']:.{digits}f}"

    lines = []
    for corpus, flip in result["label_flip"].items():
        for attack_name in FLIP_ATTACKS:
            part = flip[attack_name]
            lines.append(
                f"{corpus}: label flips ({part['attack']}; {part['n_poison']} poison rows); "
                f"best: {part['best']}, F1 gain over cleanlab {part['f1_gain_over_cleanlab']}"
            )
            lines.append(
                f"  {'detector':34s} {'precision':>13s} {'recall':>13s} {'F1':>13s} {'seconds':>13s} "
                f"{'flagged':>10s}"
            )
            for name, row in part["detectors"].items():
                lines.append(
                    f"  {name:34s} {cell(row['precision']):>13s} {cell(row['recall']):>13s} "
                    f"{cell(row['f1']):>13s} {cell(row['seconds'], 2):>13s} {cell(row['flagged'], 0):>10s}"
                )
        clean = result["clean_split"][corpus]
        lines.append(
            f"{corpus}: clean training splits (split seeds {clean['split_seeds']}), share of rows flagged"
        )
        for name, stat in clean["flag_rate"].items():
            lines.append(f"  {name:34s} {cell(stat, 4):>15s}")
    if "backdoor" not in result:
        print("\n".join(lines), file=sys.stderr)
        return
    for kind, part in result["backdoor"].items():
        if kind == "goal":
            continue
        mining = part["trigger_mining"]
        lines.append(
            f"Backdoor, {kind} trigger {part['trigger']!r} ({part['n_poison']} poison rows): trigger ranks "
            f"{mining['ranks']}, significant tokens {cell(mining['significant'], 1)}"
        )
        lines.append(f"  {'detector':34s} {'recall@FPR.5%':>13s} {'AUROC':>13s} {'AP':>13s} {'seconds':>13s}")
        for name, row in part["detectors"].items():
            lines.append(
                f"  {name:34s} {cell(row['recall_at_fpr']):>13s} {cell(row['auroc']):>13s} "
                f"{cell(row['average_precision']):>13s} {cell(row['seconds'], 2):>13s}"
            )
    lines.append(f"  goal: {result['backdoor']['goal']}")
    control = result["clean_control"]
    lines.append(
        f"Clean control: {control['n_significant']} significant tokens at {control['significance']}; "
        f"top tokens {control['top_tokens']}"
    )
    print("\n".join(lines), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="attack seeds 0..N-1 (default 5)")
    parser.add_argument("--table", action="store_true", help="also print a table for people on stderr")
    parser.add_argument(
        "--corpus",
        nargs="+",
        default=["sms_spam"],
        help="corpora (a bundled name or a data file) for the label-flip part (default sms_spam)",
    )
    parser.add_argument("--no-backdoor", action="store_true", help="skip the backdoor part and its control")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    trains = {corpus: load_train_test(corpus)[0] for corpus in args.corpus}
    result: dict[str, Any] = {
        "benchmark": "detect_quality",
        "corpus": [f"{corpus} train split" for corpus in args.corpus],
        "n_train": {corpus: len(train) for corpus, train in trains.items()},
        "seeds": seeds,
        "max_fpr": MAX_FPR,
        "label_flip": {corpus: label_flip_part(train, seeds) for corpus, train in trains.items()},
        "clean_split": {corpus: clean_split_rates(corpus) for corpus in args.corpus},
    }
    if not args.no_backdoor:  # its triggers are chosen for SMS: it runs on the first corpus
        train = trains[args.corpus[0]]
        result["backdoor"] = backdoor_part(train, seeds)
        result["clean_control"] = clean_control(train)
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    if args.table:
        print_table(result)


if __name__ == "__main__":
    main()
