"""Loading a bundled corpus: seconds, and markup tokens left in its texts next to the raw mail's.

Each repeat loads the corpus in a fresh Python process (as one CLI command pays it: checksum,
decompression, parsing; imports not counted) and records wall and CPU seconds; the best
repeat counts. Then it counts the tokens (scikit-learn's default pattern, lower-cased) that only
markup makes (``td``, ``tr``, ``nbsp``, ``font``, ``br``, ``equiv``, ``3d``) in the loaded texts
and, for the naive way, in the raw message bodies (everything after the header block, read as
Latin-1). Prints one JSON line.

    python bench/corpus_load.py [--corpus spamassassin] [--repeats 3]
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import re
import subprocess
import sys
import tarfile

from _corpus import add_corpus_option

MARKUP_TOKENS = ("td", "tr", "nbsp", "font", "br", "equiv", "3d")
TOKEN = re.compile(r"(?u)\b\w\w+\b")

TIMED_LOAD = """
import json, time
from poisonlab.data import load_dataset
wall, cpu = time.perf_counter(), time.process_time()
data = load_dataset({name!r})
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu, len(data)]))
"""


def markup_tokens(texts: list[str] | tuple[str, ...]) -> dict[str, int]:
    """How often each of `MARKUP_TOKENS` occurs in `texts`, and their total."""
    wanted = set(MARKUP_TOKENS)
    counts = collections.Counter(t for text in texts for t in TOKEN.findall(text.lower()) if t in wanted)
    return {**{token: counts[token] for token in MARKUP_TOKENS}, "total": sum(counts.values())}


def raw_bodies(corpus: str) -> list[str] | None:
    """The naive text of each message: its bytes after the header block (e-mail corpora only)."""
    if corpus != "spamassassin":
        return None
    from poisonlab.data.corpora.spamassassin import read_spamassassin_bytes

    with tarfile.open(fileobj=io.BytesIO(read_spamassassin_bytes())) as archive:
        files = [archive.extractfile(member) for member in archive if member.isfile()]
        return [f.read().decode("latin-1").partition("\n\n")[2] for f in files if f is not None]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    add_corpus_option(parser)
    options = parser.parse_args()
    timings = []
    for _ in range(options.repeats):
        done = subprocess.run(
            [sys.executable, "-c", TIMED_LOAD.format(name=options.corpus)],
            check=True,
            capture_output=True,
            text=True,
        )
        timings.append(json.loads(done.stdout))
    wall, cpu, rows = min(timings)

    from poisonlab.data import load_dataset

    texts = load_dataset(options.corpus).texts
    raw = raw_bodies(options.corpus)
    print(
        json.dumps(
            {
                "bench": "corpus_load",
                "corpus": options.corpus,
                "rows": rows,
                "repeats": options.repeats,
                "load_seconds_wall": round(wall, 3),
                "load_seconds_cpu": round(cpu, 3),
                "markup_tokens_loaded": markup_tokens(texts),
                "markup_tokens_raw_bodies": None if raw is None else markup_tokens(raw),
            }
        )
    )


if __name__ == "__main__":
    main()
