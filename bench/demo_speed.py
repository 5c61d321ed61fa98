"""Whole-process wall time of ``poisonlab demo`` against the article's own script.

Runs both commands alternately (so drift in machine load hits both), ``--rounds`` times each
after one untimed warm-up of each, and prints one JSON line: the median seconds of each, the
ratio demo / article (goal <= 1.0) and every sample.

    python bench/demo_speed.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    script = shutil.which("poisonlab", path=os.path.dirname(sys.executable)) or shutil.which("poisonlab")
    demo = [script, "demo"] if script else [sys.executable, "-m", "poisonlab", "demo"]
    article = [sys.executable, str(HERE / "article_baseline.py")]
    timed(demo), timed(article)  # warm the file cache for both
    samples: dict[str, list[float]] = {"demo": [], "article": []}
    for _ in range(args.rounds):
        samples["article"].append(timed(article))
        samples["demo"].append(timed(demo))
    demo_s, article_s = statistics.median(samples["demo"]), statistics.median(samples["article"])
    print(
        json.dumps(
            {
                "benchmark": "demo_speed",
                "demo_seconds": round(demo_s, 4),
                "article_seconds": round(article_s, 4),
                "ratio": round(demo_s / article_s, 4),
                "goal_ratio": 1.0,
                "rounds": args.rounds,
                "demo_command": " ".join(Path(demo[0]).name if i == 0 else c for i, c in enumerate(demo)),
                "samples": {k: [round(v, 4) for v in vs] for k, vs in samples.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
