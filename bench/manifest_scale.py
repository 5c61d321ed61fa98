"""Manifest throughput and memory at scale: create and verify on synthetic datasets.

For each size (default 100,000 and 1,000,000 rows), in a fresh process so its peak RSS is its
own: build a synthetic dataset (SMS-like texts of 3-30 words, two classes, ids ``r0``...),
then time (best of ``--repeats`` runs, the one least disturbed by other load)

* ``create``: `create_manifest` (two streaming passes: Merkle root, then the rows);
* ``verify``: `verify_manifest` of the same data (identical: exit 0 in the CLI);
* ``verify_changed``: verify after 0.1 % of rows each are added, removed, relabelled and
  modified, and check that the reported counts are exact;
* ``load_csv``: `load_dataset` of the same rows written as CSV, the loader's cost that the
  CLI adds before either (not part of the manifest code).

Rows per second equal across sizes mean linear time (a quadratic diff would lose 10x from
100 k to 1 M rows). RSS is reported after the dataset is built and at the peak, so the
manifest's own memory is the difference. Prints one JSON line.

    python bench/manifest_scale.py [--sizes 100000,1000000] [--seed 0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = [
    "free",
    "win",
    "cash",
    "call",
    "now",
    "txt",
    "reply",
    "stop",
    "claim",
    "prize",
    "urgent",
    "offer",
    "mobile",
    "week",
    "ok",
    "lunch",
    "later",
    "home",
    "love",
    "see",
    "you",
    "tomorrow",
    "meeting",
    "thanks",
    "sorry",
    "going",
    "gonna",
    "tonight",
    "what",
    "when",
    "where",
    "good",
    "day",
    "night",
    "work",
    "phone",
    "back",
    "time",
    "sure",
    "dinner",
    "da",
    "lor",
]


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def synthetic(n: int, seed: int) -> Any:
    import numpy as np

    from poisonlab.data import Dataset

    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 31, n)
    picks = rng.integers(0, len(WORDS), int(lengths.sum()))
    texts, start = [], 0
    for length in lengths.tolist():
        texts.append(" ".join(WORDS[k] for k in picks[start : start + length]))
        start += length
    labels = (rng.random(n) < 0.13).astype(int)
    return Dataset(texts, labels, ("ham", "spam"), [f"r{i}" for i in range(n)], name="synthetic")


def edited(data: Any, seed: int) -> tuple[Any, dict[str, int]]:
    """`data` with 0.1 % of rows each added, removed, relabelled and modified."""
    import numpy as np

    from poisonlab.data import Dataset

    rng = np.random.default_rng(seed + 1)
    n = len(data)
    k = max(1, n // 1000)
    chosen = rng.choice(n, 3 * k, replace=False)
    relabel, modify, remove = chosen[:k], chosen[k : 2 * k], chosen[2 * k :]
    labels = data.labels.copy()
    labels[relabel] = 1 - labels[relabel]
    texts = list(data.texts)
    for i in modify.tolist():
        texts[i] = texts[i] + " PROMO2026"
    keep = np.setdiff1d(np.arange(n), remove)
    new = Dataset(
        [texts[i] for i in keep.tolist()] + [f"injected {j} win cash" for j in range(k)],
        np.concatenate([labels[keep], np.zeros(k, dtype=int)]),
        data.classes,
        [data.ids[i] for i in keep.tolist()] + [f"new{j}" for j in range(k)],
        data.name,
    )
    return new, {"added": k, "removed": k, "relabelled": k, "modified": k}


def best_of(repeats: int, work: Any) -> tuple[float, Any]:
    """The shortest wall time of `repeats` calls of `work` (least disturbed by other load), and its result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def run_size(n: int, seed: int, repeats: int) -> dict[str, Any]:
    """Every measurement for one size; runs in its own process."""
    from poisonlab.data import load_dataset
    from poisonlab.data.manifest import create_manifest, verify_manifest
    from poisonlab.data.writers import write_csv

    data = synthetic(n, seed)
    changed, expected = edited(data, seed)
    rss_data = rss_mb()
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "m.jsonl"
        create_s, _ = best_of(repeats, lambda: create_manifest(data, manifest))
        rss_create = rss_mb()
        verify_s, same = best_of(repeats, lambda: verify_manifest(data, manifest))
        changed_s, other = best_of(repeats, lambda: verify_manifest(changed, manifest))
        rss_verify = rss_mb()
        manifest_bytes = manifest.stat().st_size
        csv_path = Path(folder) / "data.csv"
        write_csv(data, csv_path)
        started = time.perf_counter()
        loaded = load_dataset(csv_path)
        load_s = time.perf_counter() - started
    assert len(loaded) == n
    return {
        "rows": n,
        "create_rows_per_s": round(n / create_s),
        "verify_rows_per_s": round(n / verify_s),
        "verify_changed_rows_per_s": round(n / changed_s),
        "load_csv_rows_per_s": round(n / load_s),
        "create_s": round(create_s, 2),
        "verify_s": round(verify_s, 2),
        "verify_changed_s": round(changed_s, 2),
        "load_csv_s": round(load_s, 2),
        "identical_verified": same.is_identical,
        "changes_exact": other.diff.counts() == expected and not other.problems,
        "changes": other.diff.counts(),
        "manifest_bytes_per_row": round(manifest_bytes / n, 1),
        "rss_after_data_mb": rss_data,
        "rss_after_create_mb": rss_create,
        "rss_after_verify_mb": rss_verify,
        "peak_rss_mb": rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each step; the best counts")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    context = multiprocessing.get_context("spawn")
    for n in sizes:  # one fresh process per size: its peak RSS is its own
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            results.append(pool.submit(run_size, n, args.seed, args.repeats).result())
    from poisonlab import __version__

    small, large = results[0], results[-1]
    print(
        json.dumps(
            {
                "benchmark": "manifest_scale",
                "sizes": results,
                "verify_rate_ratio_largest_vs_smallest": round(
                    large["verify_rows_per_s"] / small["verify_rows_per_s"], 3
                ),
                "create_rate_ratio_largest_vs_smallest": round(
                    large["create_rows_per_s"] / small["create_rows_per_s"], 3
                ),
                "repeats": args.repeats,
                "python": platform.python_version(),
                "poisonlab": __version__,
            }
        )
    )


if __name__ == "__main__":
    main()
