"""Minimum label flips to change a spam test message's prediction: count arithmetic vs brute force.

Victim ``nb`` (CountVectorizer + MultinomialNB) on the SMS training split. Messages: the first
``--messages`` spam messages of the test split that the clean model classifies spam.

* fast: ``FlipSearch`` (prepared once: tokenizing and class counts, timed apart) answers each
  message: the greedy order of flips and the smallest budget that makes the message ham;
* brute force: along the same order, flip one more row, refit
  (``CountVectorizer().fit_transform`` + ``MultinomialNB().fit``), predict; stop at the first
  budget whose model says ham.

The run fails unless both give the same answer for every message. The fast search runs
``--repeats`` times per message (median; the answers are identical each time). One JSON line:
per message the answer and both times; ``ratio`` (brute-force seconds / fast seconds per query, the
corpus tokenized once beforehand; goal >= 1000) and ``ratio_with_preparing`` (the fast side's
one-time preparation added).

    python bench/min_poison.py [--messages 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from _corpus import add_corpus_option
from poisonlab.data import load_train_test
from poisonlab.experiments.min_poison import FlipSearch

GOAL = 1000.0


def brute_force(texts, labels, message, order, wanted, limit):
    labels = labels.copy()
    for budget in range(1, limit + 1):
        labels[order[budget - 1]] = wanted
        vectorizer = CountVectorizer()
        model = MultinomialNB().fit(vectorizer.fit_transform(texts), labels)
        if model.predict(vectorizer.transform([message]))[0] == wanted:
            return budget
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5, help="fast searches per message (median)")
    add_corpus_option(parser)
    args = parser.parse_args()
    train, test = load_train_test(args.corpus)
    started = time.perf_counter()
    search = FlipSearch(train, "nb")
    preparing = time.perf_counter() - started
    spam = [test.texts[i] for i in np.flatnonzero(test.labels == 1)]
    chosen = [m for m in spam if search.search(m, max_rows=1).before == "spam"][: args.messages]
    rows = []
    for message in chosen:
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = search.search(message)
            times.append(time.perf_counter() - started)
        fast = statistics.median(times)
        order = result.poisoned.poison_rows if result.poisoned is not None else np.zeros(0, dtype=np.int64)
        ranked = [int(r) for r in result.poisoned.params["rows"]] if result.poisoned is not None else []
        started = time.perf_counter()
        answer = brute_force(train.texts, train.labels, message, ranked, 0, len(ranked))
        brute = time.perf_counter() - started
        if answer != result.n_poison:
            raise SystemExit(
                f"different answers for {message!r}: fast {result.n_poison}, brute force {answer}"
            )
        rows.append(
            {
                "message": message,
                "flips": result.n_poison,
                "fast_seconds": round(fast, 5),
                "brute_force_seconds": round(brute, 4),
                "poison_rows": len(order),
            }
        )
    fast_total = sum(r["fast_seconds"] for r in rows)
    brute_total = sum(r["brute_force_seconds"] for r in rows)
    ratio = brute_total / fast_total
    print(
        json.dumps(
            {
                "benchmark": "min_poison",
                "corpus": args.corpus,
                "victim": "nb",
                "messages": len(rows),
                "same_answers": True,
                "flips": [r["flips"] for r in rows],
                "fast_seconds": round(fast_total, 5),
                "fast_preparing_seconds": round(preparing, 4),
                "brute_force_seconds": round(brute_total, 4),
                "brute_force_refits": sum(r["flips"] for r in rows),
                "ratio": round(ratio, 1),
                "ratio_with_preparing": round(brute_total / (fast_total + preparing), 1),
                "goal_ratio": GOAL,
                "goal_met": ratio >= GOAL,
                "per_message": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
