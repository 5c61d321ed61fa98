"""Duplicate floods, spectral signatures and activation clustering at scale: exactness and time.

Corpora are the SMS Spam Collection resampled with replacement and lightly perturbed
(`poisonlab.data.resample.resample_corpus`, seed 0, as ``bench/scale.py`` makes them), or read
from ``--data-dir`` (files ``sms_<size>.csv``); ``--corpus spamassassin`` resamples the
SpamAssassin e-mails instead (files ``spamassassin_<size>.csv``).

1. Floods against an exact check. The near-duplicate clusters of `near_duplicate_clusters`
   (MinHash LSH candidates, each checked exactly) with the detector's defaults and with a
   looser setting (threshold 0.6, 96 values, 32 bands), against the clusters of an all-pairs
   exact Jaccard check, on the SMS training split and on a ``--sample``-row sample (seed 0) of
   the largest corpus, for LSH seeds 0..4. LSH only links pairs it has checked, so its clusters
   can only split exact ones: the exact clusters it splits (mean and worst over the seeds), the
   rows in them, and seconds of each path.
2. Spectral signatures and activation clustering against the per-row computation. On the
   sample, backdoored (rare token ``cf`` at 1 %, dirty label), each detector's scores (one
   computation per distinct (text, label) pair, weighted by its rows) against the same
   detector's per-class scoring of every row of the same representation: largest absolute
   difference, AUROC of both, and the seconds of the scoring step of each (the victim fit,
   shared, is timed apart).
3. Time at each ``--sizes`` corpus: seconds of `word_counts` (the tokenisation a scan's
   detectors share, not counted in theirs), of ``DuplicateFlood().findings`` then ``floods``
   (what ``poisonlab scan`` calls), and of spectral signatures then activation clustering
   (sharing one representation), the growth exponent of each (slope of log seconds against
   log rows), and the process's peak resident memory.

Prints one JSON line.

    python bench/backdoor_detectors_scale.py [--sizes 100000 1000000] [--sample 20000] \\
        [--data-dir /work/scale]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from _corpus import add_corpus_option, add_data_dir_option, sized_corpus
from poisonlab import metrics
from poisonlab.attacks import Backdoor
from poisonlab.data import Dataset, load_train_test
from poisonlab.detectors import ActivationClustering, DuplicateFlood, SpectralSignature, representation
from poisonlab.detectors.activation_clustering import small_cluster_scores
from poisonlab.detectors.duplicate_flood import near_duplicate_clusters, shingles
from poisonlab.detectors.spectral_signature import top_direction_scores
from poisonlab.detectors.word_counts import word_counts

SETTINGS = {"default": (0.8, 64, 16), "loose": (0.6, 96, 32)}
SEEDS = range(5)


def exact_clusters(texts: list[str], threshold: float) -> np.ndarray:
    """Clusters of every pair of distinct texts with shingle Jaccard >= threshold (all pairs checked)."""
    matrix = shingles(texts)
    _, column = np.unique(matrix.indices, return_inverse=True)
    compact = sp.csr_matrix((np.ones(matrix.nnz), column.ravel(), matrix.indptr))
    sizes = np.diff(matrix.indptr)
    left, right = [], []
    for start in range(0, compact.shape[0], 1000):
        shared = (compact[start : start + 1000] @ compact.T).tocoo()
        row = shared.row + start
        union = sizes[row] + sizes[shared.col] - shared.data
        linked = shared.data >= threshold * union
        left.append(row[linked])
        right.append(shared.col[linked])
    empty = np.flatnonzero(sizes == 0)  # empty texts are one cluster
    left.append(empty[:-1])
    right.append(empty[1:])
    graph = sp.coo_matrix(
        (np.ones(sum(a.size for a in left)), (np.concatenate(left), np.concatenate(right))),
        shape=(len(texts), len(texts)),
    )
    return np.asarray(connected_components(graph, directed=False)[1])


def flood_quality(name: str, data: Dataset) -> dict[str, Any]:
    texts = list(dict.fromkeys(data.texts))
    out: dict[str, Any] = {"corpus": name, "rows": len(data), "distinct_texts": len(texts)}
    for setting, (threshold, n_permutations, bands) in SETTINGS.items():
        started = time.perf_counter()
        exact = exact_clusters(texts, threshold)
        exact_seconds = time.perf_counter() - started
        sizes = np.bincount(exact)
        split, split_rows, seconds = [], [], []
        for seed in SEEDS:
            started = time.perf_counter()
            found = near_duplicate_clusters(
                texts, threshold=threshold, n_permutations=n_permutations, bands=bands, random_state=seed
            )
            seconds.append(time.perf_counter() - started)
            pieces = np.unique(np.stack([exact, found]), axis=1)[0]  # exact cluster of each found piece
            broken = np.flatnonzero(np.bincount(pieces, minlength=sizes.size) > 1)
            split.append(broken.size)
            split_rows.append(int(sizes[broken].sum()))
        out[setting] = {
            "threshold": threshold,
            "n_permutations": n_permutations,
            "bands": bands,
            "exact_clusters": int(sizes.size),
            "linked_texts": int(sizes[sizes > 1].sum()),
            "split_clusters_mean": round(float(np.mean(split)), 2),
            "split_clusters_max": int(max(split)),
            "texts_in_split_clusters_max": int(max(split_rows)),
            "exact_seconds": round(exact_seconds, 2),
            "lsh_seconds": round(float(np.mean(seconds)), 3),
        }
    return out


def scoring_exactness(data: Dataset) -> dict[str, Any]:
    attacked = Backdoor(trigger="cf", rate=0.01, position="random").apply(data, random_state=0)
    poisoned, truth = attacked.poisoned, attacked.is_poison
    representation.clear_cache()
    started = time.perf_counter()
    represented = representation.represent(poisoned, "weighted")
    out: dict[str, Any] = {
        "rows": len(poisoned),
        "distinct_pairs": int(represented.weights.size),
        "victim_fit_seconds": round(time.perf_counter() - started, 2),
    }
    each_row = represented.rows()
    for name, detector, per_class in (
        ("spectral_signature", SpectralSignature(), top_direction_scores),
        ("activation_clustering", ActivationClustering(), small_cluster_scores),
    ):
        started = time.perf_counter()
        scores = detector.score(poisoned)
        pairs_seconds = time.perf_counter() - started
        started = time.perf_counter()
        reference = np.zeros(len(poisoned))
        for label in np.unique(poisoned.labels):
            members = np.flatnonzero(poisoned.labels == label)
            reference[members] = per_class(each_row[members])
        rows_seconds = time.perf_counter() - started
        out[name] = {
            "max_abs_difference": float(np.abs(scores - reference).max()),
            "auroc_pairs": round(metrics.auroc(truth, scores), 4),
            "auroc_rows": round(metrics.auroc(truth, reference), 4),
            "seconds_pairs": round(pairs_seconds, 3),
            "seconds_rows": round(rows_seconds, 3),
        }
    return out


def timing(data: Dataset) -> dict[str, Any]:
    started = time.perf_counter()
    counts = word_counts(data)
    tokenize = time.perf_counter() - started
    started = time.perf_counter()
    detector = DuplicateFlood()
    flagged = int(detector.findings(data).flags.sum())
    n_floods = len(detector.floods(data))
    flood_seconds = time.perf_counter() - started
    started = time.perf_counter()
    SpectralSignature().score(data)
    spectral_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ActivationClustering().score(data)
    activation_seconds = time.perf_counter() - started
    return {
        "rows": len(data),
        "distinct_texts": counts.n_distinct,
        "word_counts_seconds": round(tokenize, 2),
        "duplicate_flood_seconds": round(flood_seconds, 2),
        "flagged": flagged,
        "floods": n_floods,
        "spectral_signature_seconds": round(spectral_seconds, 2),
        "activation_clustering_seconds": round(activation_seconds, 2),
        "spectral_plus_activation_seconds": round(spectral_seconds + activation_seconds, 2),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sample", type=int, default=20_000, help="rows of the quality sample (0: skip)")
    add_data_dir_option(parser)
    add_corpus_option(parser)
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    result: dict[str, Any] = {
        "benchmark": "backdoor_detectors_scale",
        "corpus": args.corpus,
        "defaults": {
            "duplicate_flood": DuplicateFlood().get_params(),
            "spectral": SpectralSignature().get_params(),
        },
    }
    result["floods"] = [flood_quality(f"{args.corpus} train split", load_train_test(args.corpus)[0])]
    if args.sample:
        largest = sized_corpus(args.corpus, sizes[-1], args.data_dir)
        rows = np.sort(
            np.random.default_rng(0).choice(len(largest), min(args.sample, len(largest)), replace=False)
        )
        sample = largest.take(rows)
        del largest
        result["floods"].append(flood_quality(f"{len(sample)}-row sample", sample))
        result["scoring"] = scoring_exactness(sample)
        del sample
    result["time"] = {}
    for size in sizes:
        gc.collect()
        result["time"][str(size)] = timing(sized_corpus(args.corpus, size, args.data_dir))
    if len(sizes) > 1:
        for key in ("duplicate_flood_seconds", "spectral_plus_activation_seconds"):
            seconds = [result["time"][str(s)][key] for s in sizes]
            result[f"exponent_{key.removesuffix('_seconds')}"] = round(
                float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]), 3
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
