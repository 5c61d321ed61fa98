"""Trigger mining at scale: its time and memory at 10 k, 100 k and 1 M messages.

Corpora are the SMS Spam Collection resampled with replacement and lightly perturbed
(`poisonlab.data.resample.resample_corpus`, seed 0, as ``bench/scale.py`` makes them), or read
from ``--data-dir`` (files ``sms_<size>.csv``); ``--corpus spamassassin`` resamples the
SpamAssassin e-mails instead (files ``spamassassin_<size>.csv``).

1. Time, at each ``--sizes`` corpus with the default detector: seconds of `word_counts` (the
   tokenisation every detector of a scan shares, not counted in the detector's time) and of
   what ``poisonlab scan`` calls (``findings``, then ``suspected_triggers``), wall and CPU; the
   growth exponent of the latter (slope of log seconds against log rows); the peak of memory
   the detector allocates (tracemalloc, a second untimed run) besides the process's peak
   resident memory; and what was mined: distinct texts and (text, label) groups, candidate
   tokens, (text, token) pairs, significant triggers, flagged rows. Resampling copies each
   template message (the same text, the same label) about ``size / 5574`` times, so a
   template labelled against its text becomes a "significant" token at 100 k and above: a
   property of the data, reported as found.
2. Side by side with the naive way, on the first ``--naive-rows`` rows of the smallest corpus
   that has them:
   the word n-grams as ``CountVectorizer(ngram_range=(1, 3), min_df=3, binary=True)`` builds
   them (what the detector did before it shared `word_counts`) against the detector's integer
   n-gram keys on the shared word counts; the tokens must be the same, in the same order.

Prints one JSON line.

    python bench/trigger_mining_scale.py [--sizes 10000 100000 1000000] [--data-dir /work/scale]
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
from poisonlab.data import Dataset
from poisonlab.detectors import TriggerMining, trigger_mining
from poisonlab.detectors.word_counts import count_words, word_counts


def scan_calls(detector: TriggerMining, data: Dataset) -> tuple[int, int]:
    """What `poisonlab scan` asks of the detector: its findings, then its triggers."""
    flagged = int(detector.findings(data).flags.sum())
    return flagged, len(detector.suspected_triggers(data))


def timing(data: Dataset) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    counts = word_counts(data)
    tokenize, tokenize_cpu = time.perf_counter() - started, time.process_time() - cpu
    detector = TriggerMining()
    trigger_mining.clear_cache()
    started, cpu = time.perf_counter(), time.process_time()
    flagged, significant = scan_calls(detector, data)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    evidence = detector._evidence(data)
    mined = {
        "candidate_tokens": len(evidence.tokens),
        "text_token_pairs": int(evidence.pair_texts.size),
        "groups": int(evidence.group_rows.size),
        "positive_tokens": int((evidence.scores > 0).sum()),
    }
    del evidence
    trigger_mining.clear_cache()
    gc.collect()
    tracemalloc.start()
    scan_calls(detector, data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    trigger_mining.clear_cache()
    return {
        "rows": len(data),
        "distinct_texts": counts.n_distinct,
        **mined,
        "significant_triggers": significant,
        "flagged": flagged,
        "word_counts_seconds": round(tokenize, 2),
        "word_counts_cpu_seconds": round(tokenize_cpu, 2),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "detector_peak_alloc_mb": round(peak / 2**20, 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def naive(data: Dataset) -> dict[str, Any]:
    from sklearn.feature_extraction.text import CountVectorizer

    from poisonlab.detectors.trigger_mining import _alphabetical, _frequent_ngrams

    miner = TriggerMining()
    started = time.perf_counter()
    vectorizer = CountVectorizer(ngram_range=(1, miner.max_ngram), min_df=miner.min_rows, binary=True)
    vectorizer.fit_transform(list(data.texts))
    expected = tuple(str(t) for t in vectorizer.get_feature_names_out())
    naive_seconds = time.perf_counter() - started
    started = time.perf_counter()
    counted = count_words(data.texts)
    shared = time.perf_counter() - started
    started = time.perf_counter()
    grams = _frequent_ngrams(counted, max_ngram=miner.max_ngram, min_rows=miner.min_rows)
    tokens = _alphabetical(grams.sequences, counted.words)[0]
    keyed = time.perf_counter() - started
    return {
        "rows": len(data),
        "tokens": len(tokens),
        "same_tokens_same_order": tokens == expected,
        "count_vectorizer_seconds": round(naive_seconds, 3),
        "word_counts_seconds": round(shared, 3),
        "integer_keys_seconds": round(keyed, 3),
        "speedup_beside_word_counts": round(naive_seconds / keyed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-rows", type=int, default=100_000, help="rows of the side-by-side (0: skip)")
    add_data_dir_option(parser)
    add_corpus_option(parser)
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    result: dict[str, Any] = {
        "benchmark": "trigger_mining_scale",
        "corpus": args.corpus,
        "defaults": TriggerMining().get_params(),
    }
    if args.naive_rows:
        data = sized_corpus(
            args.corpus, next((s for s in sizes if s >= args.naive_rows), sizes[-1]), args.data_dir
        )
        result["naive"] = naive(data.take(np.arange(min(args.naive_rows, len(data)))))
        del data
    result["time"] = {}
    for size in sizes:
        gc.collect()
        result["time"][str(size)] = timing(sized_corpus(args.corpus, size, args.data_dir))
    if len(sizes) > 1:
        seconds = [result["time"][str(s)]["seconds"] for s in sizes]
        result["exponent"] = round(float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
