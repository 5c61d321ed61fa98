"""How long `poisonlab scan` takes on a corpus's training split, per detector and in total.

Prints one JSON line. The data is the training split of the SMS corpus (or ``--corpus
spamassassin``) with a 10 % targeted label flip (the scan's detectors are scored against it
too, so the figures show what the time buys).

    python bench/scan_speed.py [--repeats 3] [--corpus sms_spam|spamassassin]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _corpus import add_corpus_option


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    add_corpus_option(parser)
    options = parser.parse_args()

    started = time.perf_counter()
    from poisonlab.attacks import LabelFlip
    from poisonlab.data import load_train_test
    from poisonlab.detectors.caches import clear_caches
    from poisonlab.experiments.scan import scan

    import_seconds = time.perf_counter() - started
    train, _ = load_train_test(options.corpus)
    attacked = LabelFlip(strategy="targeted", rate=0.1).apply(train, random_state=0)
    scan(attacked.poisoned, detectors=["confident_learning"])  # load cleanlab and scikit-learn once
    totals: list[float] = []
    per_detector: dict[str, list[float]] = {}
    quality: dict[str, dict[str, float]] = {}
    for _ in range(options.repeats):
        clear_caches()  # every repeat starts cold
        report = scan(attacked.poisoned, is_poison=attacked.is_poison)
        totals.append(report.seconds)
        for run in report.runs:
            per_detector.setdefault(run.name, []).append(run.seconds)
            if run.quality is not None:
                quality[run.name] = {"auroc": round(run.quality.auroc, 3), "f1": round(run.quality.f1, 3)}
    print(
        json.dumps(
            {
                "bench": "scan_speed",
                "corpus": options.corpus,
                "rows": len(attacked.poisoned),
                "repeats": options.repeats,
                "import_seconds": round(import_seconds, 3),
                "scan_seconds_median": round(statistics.median(totals), 3),
                "scan_seconds_min": round(min(totals), 3),
                "detector_seconds_median": {
                    k: round(statistics.median(v), 3) for k, v in per_detector.items()
                },
                "quality_10pct_flip": quality,
            }
        )
    )


if __name__ == "__main__":
    main()
