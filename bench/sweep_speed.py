"""A 60-cell label-flip sweep on the SMS corpus: count arithmetic against the naive refit loop.

Cells: 3 seeds x 20 poison rates of ``LabelFlip`` (targeted spam -> ham by default) on the SMS
training split, victim ``nb`` (CountVectorizer + MultinomialNB), scored on the test split.

* naive: per cell ``CountVectorizer().fit_transform(train)``, ``MultinomialNB().fit``,
  ``predict(vectorizer.transform(test))``;
* fast: ``NaiveBayesCounts`` tokenizes the training and test texts once (timed: a fresh object
  each round), then per cell moves only the rows whose label differs from the previous cell
  and predicts with the same arithmetic as scikit-learn.

The poisoned labels of every cell are made once, before timing, and given to both. The run
fails unless both give the same predictions, hence the same accuracies, in every cell. Each
way runs ``--rounds`` times (alternating); medians are reported. One JSON line: seconds and
cells/s of each, ``ratio`` (fast vs naive cells/s, tokenizing included, goal >= 100) and
``ratio_after_tokenizing`` (the per-cell work alone, once the corpus is tokenized).

    python bench/sweep_speed.py [--rounds 3] [--strategy targeted|random]
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
from poisonlab.attacks import LabelFlip
from poisonlab.data import load_train_test
from poisonlab.victims import make_victim
from poisonlab.victims.incremental_nb import NaiveBayesCounts

SEEDS = (0, 1, 2)
RATES = tuple(float(r) for r in np.round(np.linspace(0.005, 0.10, 20), 4))
GOAL = 100.0


def naive(train_texts, test_texts, cells, test_labels):
    accuracies, predictions = [], []
    for labels in cells:
        vectorizer = CountVectorizer()
        model = MultinomialNB().fit(vectorizer.fit_transform(train_texts), labels)
        predicted = model.predict(vectorizer.transform(test_texts))
        predictions.append(predicted)
        accuracies.append(float(np.mean(predicted == test_labels)))
    return accuracies, predictions


def fast(train_texts, train_labels, test_texts, cells, test_labels):
    started = time.perf_counter()
    nb = NaiveBayesCounts(make_victim("nb"), train_texts, train_labels)
    features = nb.features(test_texts)
    tokenized = time.perf_counter() - started
    accuracies, predictions = [], []
    current = np.asarray(train_labels).copy()
    for labels in cells:
        changed = np.flatnonzero(labels != current)
        nb.set_labels(changed, labels[changed])
        current = labels
        predicted = nb.predict_features(features)
        predictions.append(predicted)
        accuracies.append(float(np.mean(predicted == test_labels)))
    return accuracies, predictions, tokenized


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--strategy", choices=("targeted", "random"), default="targeted")
    add_corpus_option(parser)
    args = parser.parse_args()
    train, test = load_train_test(args.corpus)
    cells = [
        LabelFlip(strategy=args.strategy, rate=rate).apply(train, random_state=seed).poisoned.labels
        for seed in SEEDS
        for rate in RATES
    ]
    samples: dict[str, list[float]] = {"naive": [], "fast": [], "fast_tokenizing": []}
    for _ in range(args.rounds):
        started = time.perf_counter()
        naive_acc, naive_pred = naive(train.texts, test.texts, cells, test.labels)
        samples["naive"].append(time.perf_counter() - started)
        started = time.perf_counter()
        fast_acc, fast_pred, tokenized = fast(train.texts, train.labels, test.texts, cells, test.labels)
        samples["fast"].append(time.perf_counter() - started)
        samples["fast_tokenizing"].append(tokenized)
        if fast_acc != naive_acc or not all(np.array_equal(a, b) for a, b in zip(fast_pred, naive_pred)):
            raise SystemExit("the fast sweep's predictions differ from the naive loop's")
    naive_s = statistics.median(samples["naive"])
    fast_s = statistics.median(samples["fast"])
    per_cell_s = statistics.median(f - t for f, t in zip(samples["fast"], samples["fast_tokenizing"]))
    ratio = naive_s / fast_s
    print(
        json.dumps(
            {
                "benchmark": "sweep_speed",
                "corpus": args.corpus,
                "cells": len(cells),
                "seeds": list(SEEDS),
                "rates": list(RATES),
                "strategy": args.strategy,
                "victim": "nb",
                "equal_accuracies": True,
                "naive_seconds": round(naive_s, 4),
                "fast_seconds": round(fast_s, 4),
                "fast_tokenizing_seconds": round(statistics.median(samples["fast_tokenizing"]), 4),
                "naive_cells_per_s": round(len(cells) / naive_s, 2),
                "fast_cells_per_s": round(len(cells) / fast_s, 2),
                "ratio": round(ratio, 1),
                "ratio_after_tokenizing": round(naive_s / per_cell_s, 1),
                "goal_ratio": GOAL,
                "goal_met": ratio >= GOAL,
                "accuracy_range": [min(naive_acc), max(naive_acc)],
                "rounds": args.rounds,
                "samples": {k: [round(v, 4) for v in vs] for k, vs in samples.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
