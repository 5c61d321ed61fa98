"""Detection quality on the SMS corpus, every figure against the attack's ground truth, in one run.

1. Label flips: 10 % of the training split relabelled spam -> ham (targeted ``LabelFlip``,
   ``rate=0.1``: a tenth of all rows, 446 of the 597 spam messages). Every registered detector
   whose ``targets`` include ``label_flip`` flags rows with its own rule (``flag``), beside
   ``cleanlab.filter.find_label_issues`` with its defaults on the out-of-fold probabilities of
   the confident-learning detector's default victim: precision, recall, F1 and seconds (the
   baseline's seconds include computing those probabilities, as each detector's include
   everything it does). Goal: the best detector's F1 at least cleanlab's + 0.05, in no more time.
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

    python bench/detect_quality.py [--seeds 5] [--table]
"""

from __future__ import annotations

import argparse
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


def label_flip_part(train: Dataset, seeds: list[int]) -> dict[str, Any]:
    import cleanlab.filter

    from poisonlab.detectors.out_of_fold import out_of_fold_proba

    names = [n for n in DETECTORS if "label_flip" in DETECTORS.get(n).targets]
    cl_defaults = DETECTORS.get("confident_learning")() if "confident_learning" in DETECTORS else None
    victim = getattr(cl_defaults, "victim", "nb")
    features = getattr(cl_defaults, "features", "count")
    runs: dict[str, dict[str, list[float | None]]] = {}

    def record(name: str, truth: np.ndarray, flags: np.ndarray, seconds: float, auroc: float | None) -> None:
        row = runs.setdefault(
            name, {k: [] for k in ("precision", "recall", "f1", "seconds", "auroc", "flagged")}
        )
        row["precision"].append(metrics.detection_precision(truth, flags))
        row["recall"].append(metrics.detection_recall(truth, flags))
        row["f1"].append(metrics.detection_f1(truth, flags))
        row["seconds"].append(seconds)
        row["auroc"].append(auroc)
        row["flagged"].append(float(flags.sum()))

    for seed in seeds:
        attacked = LabelFlip(strategy="targeted", rate=FLIP_RATE).apply(train, random_state=seed)
        data, truth = attacked.poisoned, attacked.is_poison

        def baseline(data: Dataset = data) -> np.ndarray:
            proba = out_of_fold_proba(data, victim, features=features)
            return np.asarray(cleanlab.filter.find_label_issues(data.labels, proba), dtype=bool)

        flags, seconds = timed(baseline)
        record("cleanlab_default", truth, flags, seconds, None)
        for name in names:
            detector = DETECTORS.get(name)()
            flags, seconds = timed(lambda d=detector, data=data: flags_of(d, data))
            record(name, truth, flags, seconds, metrics.auroc(truth, detector.score(data)))
    table = {name: {k: summary(v) for k, v in row.items()} for name, row in runs.items()}
    best = max(names, key=lambda n: table[n]["f1"]["mean"] or -1.0) if names else None
    base = table["cleanlab_default"]
    out: dict[str, Any] = {
        "attack": f"label_flip targeted spam->ham rate={FLIP_RATE}",
        "n_poison": round(FLIP_RATE * len(train)),
        "baseline": (
            f"cleanlab.filter.find_label_issues defaults on out-of-fold {victim}/{features} probabilities"
        ),
        "detectors": table,
        "best": best,
    }
    if best is not None:
        gain = table[best]["f1"]["mean"] - base["f1"]["mean"]
        time_ratio = table[best]["seconds"]["mean"] / base["seconds"]["mean"]
        out["goal"] = {
            "f1_gain": round(gain, 4),
            "f1_gain_goal": 0.05,
            "seconds_ratio": round(time_ratio, 3),
            "seconds_ratio_goal": 1.0,
            "met": bool(gain >= 0.05 and time_ratio <= 1.0),
        }
    return out


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
    flip = result["label_flip"]
    lines.append(f"Label flips ({flip['attack']}; {flip['n_poison']} poison rows); best: {flip['best']}")
    lines.append(
        f"  {'detector':34s} {'precision':>13s} {'recall':>13s} {'F1':>13s} {'seconds':>13s} {'flagged':>10s}"
    )
    for name, row in flip["detectors"].items():
        lines.append(
            f"  {name:34s} {cell(row['precision']):>13s} {cell(row['recall']):>13s} {cell(row['f1']):>13s} "
            f"{cell(row['seconds'], 2):>13s} {cell(row['flagged'], 0):>10s}"
        )
    if "goal" in flip:
        lines.append(f"  goal: {flip['goal']}")
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
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    train = load_train_test("sms_spam")[0]
    started = time.perf_counter()
    result = {
        "benchmark": "detect_quality",
        "corpus": "sms_spam train split",
        "n_train": len(train),
        "seeds": seeds,
        "max_fpr": MAX_FPR,
        "label_flip": label_flip_part(train, seeds),
        "backdoor": backdoor_part(train, seeds),
        "clean_control": clean_control(train),
    }
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    if args.table:
        print_table(result)


if __name__ == "__main__":
    main()
