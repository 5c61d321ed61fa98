"""Differential privacy as a poisoning defense on the SMS corpus: epsilon vs CACC vs ASR vs label flip.

For each victim (``nb`` -> DPNaiveBayes, ``logreg`` -> DPLogistic) and each budget, over
``--seeds`` seeds: CACC of the private model trained on clean data, ASR of a 1 % rare-token
backdoor (insert mode, trigger PROMO2026) and the CACC and spam leak after a 10 % targeted
label flip; ``epsilon = "inf"`` is the undefended victim on the same data. Seeded noise (see the
DP defenses' notes), so the figures repeat. Prints one JSON line.

    python bench/dp_tradeoff.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import time

from _corpus import add_corpus_option
from poisonlab.data import load_train_test
from poisonlab.defenses import DPLogistic, DPNaiveBayes
from poisonlab.experiments.dp_tradeoff import DEFAULT_EPSILONS, average_over_seeds, dp_tradeoff


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    add_corpus_option(parser)
    args = parser.parse_args()
    train, test = load_train_test(args.corpus)
    seeds = tuple(range(args.seeds))
    out: dict[str, object] = {"benchmark": "dp_tradeoff", "corpus": args.corpus, "seeds": len(seeds)}
    for victim, defense in (("nb", DPNaiveBayes()), ("logreg", DPLogistic())):
        started = time.perf_counter()
        points = average_over_seeds(dp_tradeoff(train, test, defense, victim=victim, seeds=seeds))
        out[victim] = {
            "defense": defense.name,
            "seconds": round(time.perf_counter() - started, 2),
            "points": [
                {
                    "epsilon": p.to_dict()["epsilon"],
                    "cacc": round(p.cacc, 4),
                    "spam_leak": round(p.spam_leak, 4),
                    "asr": round(p.asr, 4),
                    "flip_cacc": round(p.flip_cacc, 4),
                    "flip_spam_leak": round(p.flip_spam_leak, 4),
                    "flip_damage": round(p.flip_damage, 4),
                }
                for p in points
            ],
        }
    out["epsilons"] = list(DEFAULT_EPSILONS)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
