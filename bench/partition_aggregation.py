"""Deep Partition Aggregation on the SMS corpus: certified accuracy, and speed against the naive way.

For ``nb`` and ``logreg`` and k in {25, 50, 100}: clean accuracy (CACC) of the ensemble, the
certified accuracy at radius 1, 5, 10 and 25 (share of test messages correct *and* certified
to survive that many inserted, removed or relabelled training rows), the share flagged
disputed, and the seconds to fit and certify. Beside it, the naive way for k = 100: each
part's whole Pipeline fitted and run on its own, as a reader would write it. Prints one JSON line.

    python bench/partition_aggregation.py
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from _corpus import add_corpus_option
from poisonlab.data import load_train_test
from poisonlab.defenses import PartitionAggregation, certified_accuracy_curve
from poisonlab.defenses.partition_aggregation import partition_of
from poisonlab.victims import make_victim

RADII = (1, 5, 10, 25)
KS = (25, 50, 100)


def naive_seconds(train, test, victim: str, k: int) -> float:  # type: ignore[no-untyped-def]
    """Fit and run each part's Pipeline separately (single-class parts vote their class)."""
    started = time.perf_counter()
    parts = partition_of(train.texts, k)
    for part in range(k):
        rows = np.flatnonzero(parts == part)
        if np.unique(train.labels[rows]).size < 2:
            continue
        model = make_victim(victim, random_state=0).fit([train.texts[i] for i in rows], train.labels[rows])
        model.predict(list(test.texts))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_corpus_option(parser)
    args = parser.parse_args()
    train, test = load_train_test(args.corpus)
    out: dict[str, object] = {
        "benchmark": "partition_aggregation",
        "corpus": args.corpus,
        "radii": list(RADII),
    }
    for victim in ("nb", "logreg"):
        plain = make_victim(victim, random_state=0).fit(list(train.texts), train.labels)
        rows: dict[str, object] = {
            "undefended_cacc": round(float(np.mean(plain.predict(list(test.texts)) == test.labels)), 4)
        }
        for k in KS:
            started = time.perf_counter()
            defended = PartitionAggregation(k=k).fit(train, victim, random_state=0)
            certificates = defended.model.certify(test.texts)
            seconds = time.perf_counter() - started
            curve = certified_accuracy_curve(
                test.labels, certificates.predictions, certificates.radii, max_radius=max(RADII)
            )
            rows[f"k{k}"] = {
                "cacc": round(float(curve[0]), 4),
                "certified_accuracy": {str(r): round(float(curve[r]), 4) for r in RADII},
                "median_radius": float(np.median(certificates.radii)),
                "disputed_share": round(float(certificates.is_disputed.mean()), 4),
                "seconds": round(seconds, 3),
            }
        naive = naive_seconds(train, test, victim, 100)
        fast = rows["k100"]["seconds"]  # type: ignore[index]
        rows["naive_k100_seconds"] = round(naive, 3)
        rows["speedup_k100"] = round(naive / fast, 2)
        out[victim] = rows
    print(json.dumps(out))


if __name__ == "__main__":
    main()
