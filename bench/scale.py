"""Scale: `poisonlab scan` and a 10-cell label-flip sweep at 10 k, 100 k and 1 M messages.

Corpora are the SMS Spam Collection resampled with replacement and lightly perturbed
(`poisonlab.data.resample.resample_corpus`: each message gets one word dropped, duplicated,
swapped or borrowed from a message of its class; labels kept), written as CSV. Each command
runs as its own process, as a user would run it (`scan DATA --json`, detectors side by side on
all cores; the sweep on `--workers` processes). Recorded: wall time, the peak resident memory
of the largest process (GNU time's %M), and the peaks of the RSS and of the PSS summed over all
its processes (sampled; the PSS sum is the physical memory used, the RSS sum counts pages that
forked workers share once per process); the growth exponent is the slope of log(seconds)
against log(messages). Goals at 1 M: scan <= 60 s, peak RSS <= 4 GB (judged on the RSS sum,
the higher figure), exponent <= 1.1. Prints one JSON line.

    python bench/scale.py [--sizes 10000 100000 1000000] [--workers 2] [--corpus spamassassin]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _corpus import CSV_PREFIX, add_corpus_option
from poisonlab.data import load_dataset
from poisonlab.data.resample import resample_corpus
from poisonlab.data.writers import write_csv

SWEEP = """name = "scale"
data = "{data}"
seeds = [0]

[[victim]]
name = "nb"

[[attack]]
name = "label_flip"
strategy = "targeted"
rate = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10]
"""


def _tree_memory_kb(root: int) -> tuple[int, int]:
    """Resident memory of `root` and all its descendants now, in KB (Linux /proc): the sum of
    their RSS (pages forked processes share counted once per process, so it errs high) and of
    their PSS (each shared page split among its sharers: the physical memory they use)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:  # the process ended meanwhile
            continue
        parent = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), "0")
        children.setdefault(int(parent), []).append(int(entry.name))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


def measured(command: list[str], folder: Path) -> dict[str, float]:
    """Run `command` under GNU time: wall seconds, the peak RSS of its largest process (GNU
    time's %M) and the peaks of the RSS and PSS summed over all its processes (sampled every
    50 ms; see `_tree_memory_kb`)."""
    report, errors = folder / "time.txt", folder / "stderr.txt"
    started = time.perf_counter()
    with errors.open("w") as stderr_file:
        process = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", str(report), *command],
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
        )
        peak_rss = peak_pss = 0
        while process.poll() is None:
            rss, pss = _tree_memory_kb(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    stderr = errors.read_text(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr[-2000:]}")
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(int(report.read_text().split()[-1]) / 1024, 1),
        "peak_tree_rss_mb": round(peak_rss / 1024, 1),
        "peak_tree_pss_mb": round(peak_pss / 1024, 1),
    }


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """Slope of log(seconds) against log(size): 1.0 is linear growth."""
    return round(float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    add_corpus_option(parser)
    args = parser.parse_args()
    if shutil.which("/usr/bin/time") is None:
        raise SystemExit("bench/scale.py needs GNU time (/usr/bin/time; Debian package 'time').")
    source = load_dataset(args.corpus)
    poisonlab = [sys.executable, "-m", "poisonlab"]
    results: dict[str, dict[str, dict[str, float]]] = {"scan": {}, "sweep": {}}
    with tempfile.TemporaryDirectory(prefix="poisonlab-scale-") as temporary:
        folder = Path(temporary)
        for size in args.sizes:
            data = folder / f"{CSV_PREFIX[args.corpus]}_{size}.csv"
            write_csv(resample_corpus(source, size, random_state=0), data)
            results["scan"][str(size)] = measured([*poisonlab, "scan", str(data), "--json"], folder)
            spec = folder / f"sweep_{size}.toml"
            spec.write_text(SWEEP.format(data=data.as_posix()), encoding="utf-8")
            store = folder / f"sweep_{size}.sqlite"
            command = [
                *poisonlab,
                "sweep",
                str(spec),
                "--store",
                str(store),
                "--workers",
                str(args.workers),
                "--json",
            ]
            results["sweep"][str(size)] = measured(command, folder)
            data.unlink()
    largest = str(max(args.sizes))
    scan_exponent = exponent(args.sizes, [results["scan"][str(s)]["seconds"] for s in args.sizes])
    sweep_exponent = exponent(args.sizes, [results["sweep"][str(s)]["seconds"] for s in args.sizes])
    summary = {
        "benchmark": "scale",
        "corpus": args.corpus,
        "sizes": args.sizes,
        "scan": results["scan"],
        "sweep_10_cells": results["sweep"],
        "scan_exponent": scan_exponent,
        "sweep_exponent": sweep_exponent,
        "goals_at_largest": {
            "scan_seconds<=60": results["scan"][largest]["seconds"] <= 60,
            "peak_tree_rss_mb<=4096": max(r[largest]["peak_tree_rss_mb"] for r in results.values()) <= 4096,
            "exponents<=1.1": max(scan_exponent, sweep_exponent) <= 1.1,
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
