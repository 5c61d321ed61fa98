"""kNN label disagreement at scale: the approximate neighbour search against the exact one, and its time.

Corpora are the SMS Spam Collection resampled with replacement and lightly perturbed
(`poisonlab.data.resample.resample_corpus`, seed 0, as ``bench/scale.py`` makes them), or read
from ``--data-dir`` (files ``sms_<size>.csv``); ``--corpus spamassassin`` resamples the
SpamAssassin e-mails instead (files ``spamassassin_<size>.csv``).

1. Sample quality, on a ``--sample``-row sample (seed 0) of the largest corpus, attacked by the
   targeted label flip of ``bench/detect_quality.py`` (10 % of the rows relabelled spam ->
   ham): the default detector with the exact search (``exact_below`` above the sample's
   distinct texts) beside the approximate one (``exact_below=0``) with each ``--partitions``
   (``auto``: the default's automatic choice):
   - neighbour recall@k: for ``--queries`` distinct texts, the share of the k texts the
     approximate search returns whose exact cosine similarity is at least the k-th largest
     exact similarity (ties count as found), k = ``n_neighbors``;
   - flags: the share of rows flagged alike, the Jaccard overlap of the flagged rows, the
     correlation of the scores, and each search's detection F1 and AUROC against the flip's
     ground truth; seconds of each.
2. Time, at each ``--sizes`` corpus, default detector (the approximate search at these sizes):
   seconds of `word_counts` (the tokenisation every detector of a scan shares, not counted in
   the detector's time) and of ``findings`` (what ``poisonlab scan`` calls), the growth
   exponent of the latter (slope of log seconds against log rows), the peak of memory the
   detector allocates (tracemalloc, a second untimed run) and the process's peak resident
   memory.
3. Quality at full size, on the largest corpus attacked by the same label flip: for
   ``--queries`` distinct texts (seed 0) the exact neighbour vote is computed by brute force
   and compared, on the rows carrying those texts, with the default detector's (flag
   agreement, flags of each, detection F1 on those rows) and the neighbour recall@k of
   those texts.

Prints one JSON line.

    python bench/knn_scale.py [--sizes 100000 1000000] [--sample 50000] [--partitions auto 1]
        [--queries 2000] [--data-dir /work/scale]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
import tracemalloc
from typing import Any

import numpy as np

from _corpus import add_corpus_option, add_data_dir_option, sized_corpus
from poisonlab import metrics
from poisonlab.attacks import LabelFlip
from poisonlab.data import Dataset
from poisonlab.detectors import KnnLabelDisagreement
from poisonlab.detectors.findings import Findings
from poisonlab.detectors.knn_labels import (
    automatic_partitions,
    candidate_neighbours,
    neighbour_tallies,
    row_votes,
    text_label_counts,
    tfidf_vectors,
    vote_margin,
)
from poisonlab.detectors.word_counts import word_counts


def recall_at_k(data: Dataset, queries: np.ndarray, k: int, partitions: int | None) -> float:
    """Mean share of the approximate search's k texts that are among the exact k nearest."""
    vectors = tfidf_vectors(word_counts(data))
    found, _ = candidate_neighbours(vectors, queries, k, partitions=partitions, random_state=0)
    hits = []
    step = max(1, 2**22 // vectors.shape[0])  # exact similarities, a few queries at a time
    for start in range(0, queries.size, step):
        block = queries[start : start + step]
        exact = (vectors[block] @ vectors.T).toarray()
        exact[np.arange(block.size), block] = -np.inf
        kth = -np.partition(-exact, k - 1, axis=1)[:, k - 1]
        mine = found[start : start + step]
        similarity = np.where(mine >= 0, np.take_along_axis(exact, np.maximum(mine, 0), axis=1), -np.inf)
        hits.append(np.minimum((similarity >= kth[:, None]).sum(axis=1) / k, 1.0))
    return round(float(np.mean(np.concatenate(hits))), 4)


def agreement(reference: Findings, other: Findings) -> dict[str, float]:
    a, b = reference.flags, other.flags
    return {
        "flag_agreement": round(float(np.mean(a == b)), 5),
        "flagged_jaccard": round(float((a & b).sum() / max((a | b).sum(), 1)), 4),
        "score_correlation": round(float(np.corrcoef(reference.scores, other.scores)[0, 1]), 4),
    }


def sample_quality(data: Dataset, n_queries: int, partitions: list[int | None]) -> dict[str, Any]:
    attacked = LabelFlip(strategy="targeted", rate=0.1).apply(data, random_state=0)
    poisoned, truth = attacked.poisoned, attacked.is_poison
    n_distinct = word_counts(poisoned).n_distinct
    queries = np.sort(np.random.default_rng(0).choice(n_distinct, min(n_queries, n_distinct), replace=False))
    k = KnnLabelDisagreement().n_neighbors
    out: dict[str, Any] = {
        "rows": len(poisoned),
        "distinct_texts": n_distinct,
        "poison_rows": int(truth.sum()),
    }

    def run(detector: KnnLabelDisagreement) -> tuple[Findings, dict[str, Any]]:
        started = time.perf_counter()
        found = detector.findings(poisoned)
        return found, {
            "seconds": round(time.perf_counter() - started, 2),
            "flagged": int(found.flags.sum()),
            "f1": round(metrics.detection_f1(truth, found.flags), 4),
            "auroc": round(metrics.auroc(truth, found.scores), 4),
        }

    exact, out["exact"] = run(KnnLabelDisagreement(exact_below=n_distinct + 1))
    for count in partitions:
        found, figures = run(KnnLabelDisagreement(exact_below=0, partitions=count))
        figures["partitions"] = count or automatic_partitions(n_distinct)
        figures.update(agreement(exact, found))
        figures[f"neighbour_recall_at_{k}"] = recall_at_k(poisoned, queries, k, count)
        out[f"approximate_partitions_{'auto' if count is None else count}"] = figures
    return out


def timing(data: Dataset) -> dict[str, Any]:
    started = time.perf_counter()
    counts = word_counts(data)
    tokenize = time.perf_counter() - started
    detector = KnnLabelDisagreement()
    started, cpu = time.perf_counter(), time.process_time()
    found = detector.findings(data)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    gc.collect()
    tracemalloc.start()
    detector.findings(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "rows": len(data),
        "distinct_texts": counts.n_distinct,
        "word_counts_seconds": round(tokenize, 2),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "flagged": int(found.flags.sum()),
        "detector_peak_alloc_mb": round(peak / 2**20, 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def scale_quality(data: Dataset, n_queries: int) -> dict[str, Any]:
    """The default detector on `data` after the label flip, on the rows of `n_queries`
    texts, against the exact vote of those rows."""
    attacked = LabelFlip(strategy="targeted", rate=0.1).apply(data, random_state=0)
    poisoned, truth = attacked.poisoned, attacked.is_poison
    detector = KnnLabelDisagreement()
    counts = word_counts(poisoned)
    started = time.perf_counter()
    found = detector.findings(poisoned)
    approximate_seconds = time.perf_counter() - started
    rng = np.random.default_rng(0)
    texts = np.sort(rng.choice(counts.n_distinct, min(n_queries, counts.n_distinct), replace=False))
    k = min(detector.n_neighbors, len(poisoned) - 1)
    label_counts = text_label_counts(poisoned)
    started = time.perf_counter()
    tally, weight = neighbour_tallies(counts, label_counts, k, weighted=True, exact=True, texts=texts)
    exact_seconds = time.perf_counter() - started
    rows = np.isin(counts.text_of_row, texts)
    votes = row_votes(poisoned, label_counts, tally, weight, k, balanced=True)
    scores = vote_margin(votes, poisoned.labels)[rows]
    exact_flags, flags = scores > 0, found.flags[rows]
    return {
        "rows": len(poisoned),
        "poison_rows": int(truth.sum()),
        "approximate_seconds_all_rows": round(approximate_seconds, 2),
        "approximate_flagged_all_rows": int(found.flags.sum()),
        "approximate_f1_all_rows": round(metrics.detection_f1(truth, found.flags), 4),
        "texts_compared": int(texts.size),
        "rows_compared": int(rows.sum()),
        "poison_rows_compared": int(truth[rows].sum()),
        "exact_seconds_for_these_texts": round(exact_seconds, 2),
        "flagged_exact": int(exact_flags.sum()),
        "flagged_approximate": int(flags.sum()),
        "f1_exact": round(metrics.detection_f1(truth[rows], exact_flags), 4),
        "f1_approximate": round(metrics.detection_f1(truth[rows], flags), 4),
        "flag_agreement": round(float(np.mean(exact_flags == flags)), 5),
        "score_correlation": round(float(np.corrcoef(scores, found.scores[rows])[0, 1]), 4),
        f"neighbour_recall_at_{detector.n_neighbors}": recall_at_k(
            poisoned, texts, detector.n_neighbors, None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sample", type=int, default=50_000, help="rows of the quality sample (0: skip)")
    parser.add_argument(
        "--partitions",
        nargs="+",
        default=["auto", "1"],
        help="approximate settings compared (auto or a count)",
    )
    parser.add_argument("--queries", type=int, default=2_000, help="texts the recall and full-size vote use")
    add_data_dir_option(parser)
    add_corpus_option(parser)
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    result: dict[str, Any] = {
        "benchmark": "knn_scale",
        "corpus": args.corpus,
        "defaults": KnnLabelDisagreement().get_params(),
    }
    if args.sample:
        largest = sized_corpus(args.corpus, sizes[-1], args.data_dir)
        rows = np.sort(
            np.random.default_rng(0).choice(len(largest), min(args.sample, len(largest)), replace=False)
        )
        sample = largest.take(rows)
        del largest
        settings = [None if value == "auto" else int(value) for value in args.partitions]
        result["sample_quality"] = sample_quality(sample, args.queries, settings)
        del sample
    result["time"] = {}
    for size in sizes:
        gc.collect()
        data = sized_corpus(args.corpus, size, args.data_dir)
        result["time"][str(size)] = timing(data)
        if size == sizes[-1] and args.queries:
            result["full_size_quality"] = scale_quality(data, args.queries)
        del data
    if len(sizes) > 1:
        seconds = [result["time"][str(s)]["seconds"] for s in sizes]
        result["exponent"] = round(float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
