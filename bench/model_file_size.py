"""Model file size and save/load time: `poisonlab.victims.save_model` beside a plain ``skops.io.dump``.

The victim is trained on the SMS training split. Two vocabularies are measured: as this
scikit-learn fits it (plain ints) and with NumPy integers (as older scikit-learn releases and
many user pipelines hold it), which makes skops write one archive member per word. "naive" is
``skops.io.dump(model, path)`` with its defaults (stored, not deflated) and ``skops.io.load``;
"ours" is `save_model` (plain ints, deflated, plus the model card) and `load_model` (with its
pickle sniffing and trusted-type check). Each figure is the median of ``--rounds`` runs,
alternating the two ways.

    python bench/model_file_size.py [--rounds 5] [--victims nb,logreg]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

from _corpus import add_corpus_option
from poisonlab.data import load_train_test
from poisonlab.victims import make_victim
from poisonlab.victims.model_file import ModelCard, data_summary, load_model, save_model


def timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(model: Any, card: ModelCard, folder: Path, rounds: int) -> dict[str, Any]:
    naive, ours = folder / "naive.skops", folder / "ours.skops"
    samples: dict[str, list[float]] = {"naive_save": [], "ours_save": [], "naive_load": [], "ours_load": []}
    for _ in range(rounds):
        samples["naive_save"].append(timed(lambda: sio.dump(model, naive)))
        samples["ours_save"].append(timed(lambda: save_model(model, ours, card)))
        samples["naive_load"].append(
            timed(lambda: sio.load(naive, trusted=sio.get_untrusted_types(file=naive)))
        )
        samples["ours_load"].append(timed(lambda: load_model(ours)))
    with zipfile.ZipFile(naive) as a, zipfile.ZipFile(ours) as b:
        members = {"naive": len(a.namelist()), "ours": len(b.namelist())}
    sizes = {"naive": naive.stat().st_size, "ours": ours.stat().st_size}
    medians = {k: round(statistics.median(v), 4) for k, v in samples.items()}
    return {
        "bytes": sizes,
        "archive_members": members,
        "seconds": medians,
        "size_ratio_naive_over_ours": round(sizes["naive"] / sizes["ours"], 1),
        "save_ratio_naive_over_ours": round(medians["naive_save"] / medians["ours_save"], 2),
        "load_ratio_naive_over_ours": round(medians["naive_load"] / medians["ours_load"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--victims", default="nb,logreg")
    add_corpus_option(parser)
    args = parser.parse_args()
    train, _ = load_train_test(args.corpus)
    out: dict[str, Any] = {
        "benchmark": "model_file_size",
        "corpus": args.corpus,
        "rounds": args.rounds,
        "results": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        for victim in args.victims.split(","):
            model = make_victim(victim, random_state=0).fit(list(train.texts), train.labels)
            card = ModelCard(
                victim=victim, features="count", classes=train.classes, training_data=data_summary(train)
            )
            numpy_vocabulary = copy.deepcopy(model)
            vectorizer = numpy_vocabulary.steps[0][1]
            vectorizer.vocabulary_ = {k: np.int64(v) for k, v in vectorizer.vocabulary_.items()}
            out["results"][victim] = {
                "vocabulary_words": len(vectorizer.vocabulary_),
                "plain_int_vocabulary": measure(model, card, Path(folder), args.rounds),
                "numpy_int_vocabulary": measure(numpy_vocabulary, card, Path(folder), args.rounds),
            }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
