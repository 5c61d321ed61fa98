"""The label-issue detectors at scale: out-of-fold Naive Bayes, cleanlab, leave-one-out influence.

For each size, the SMS Spam Collection resampled with replacement and lightly perturbed
(`poisonlab.data.resample.resample_corpus`) is scored by:

- ``oof``: `out_of_fold_proba` for the default victim (count arithmetic on the shared word
  counts), side by side with scikit-learn's ``cross_val_predict`` on the victim Pipeline (up to
  ``--reference-max`` rows) and their largest difference;
- ``cleanlab``: ``get_label_quality_scores`` and ``find_label_issues`` on those probabilities,
  with one process (what `ConfidentLearning` asks for) and with cleanlab's own worker pool;
- ``confident_learning`` and ``nb_influence``: the detectors' ``findings``, as ``scan`` runs them;
  the influence's ``score`` (per distinct text and label) beside the row-by-row leave-one-out
  it replaces;
- ``groups``: `leave_groups_out_joint` judging every group of rows sharing a text (as a scan
  judges duplicate floods), beside the one-group-at-a-time loop on the first groups.

The shared tokenisation (`word_counts`) is timed on its own and excluded from the detector
figures; ``growth`` is the slope of log(seconds) against log(rows). Prints one JSON line.

    python bench/label_detectors_scale.py [--sizes 10000 100000 1000000] [--reference-max 100000]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from _corpus import add_corpus_option


def _seconds(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _one_group_at_a_time(counts: Any, labels: np.ndarray, groups: list[np.ndarray]) -> list[np.ndarray]:
    """The plain way: for each group, the full model minus the group's counts, then predict."""
    from poisonlab.detectors.nb_influence import CountModel

    matrix = counts.astype(np.float64)
    full = CountModel.fit(matrix, labels, 2, 1.0)
    judged = []
    for rows in groups:
        removed = CountModel.fit(matrix[rows], labels[rows], 2, 1.0)
        rest = CountModel(
            full.feature_counts - removed.feature_counts, full.class_counts - removed.class_counts, 1.0
        )
        judged.append(rest.joint_log_likelihood(matrix[rows]))
    return judged


def measure(n: int, reference_max: int, reference_groups: int, corpus: str) -> dict[str, Any]:
    import cleanlab.filter
    import cleanlab.rank
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from poisonlab.data import load_dataset
    from poisonlab.data.resample import resample_corpus
    from poisonlab.detectors import ConfidentLearning, NaiveBayesInfluence, out_of_fold
    from poisonlab.detectors.nb_influence import leave_groups_out_joint, leave_one_out_joint
    from poisonlab.detectors.word_counts import word_counts
    from poisonlab.victims import make_victim

    data = resample_corpus(load_dataset(corpus), n, random_state=0)
    figures: dict[str, Any] = {"rows": n}
    figures["word_counts_s"], counts = _seconds(lambda: word_counts(data))
    figures["distinct_texts"] = counts.n_distinct

    out_of_fold.clear_cache()
    figures["oof_s"], proba = _seconds(lambda: out_of_fold.out_of_fold_proba(data))
    if n <= reference_max:
        split = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        figures["oof_cross_val_predict_s"], expected = _seconds(
            lambda: cross_val_predict(
                make_victim("nb"), list(data.texts), data.labels, cv=split, method="predict_proba"
            )
        )
        figures["oof_max_abs_diff"] = float(np.abs(proba - expected).max())

    figures["cleanlab_quality_s"], _ = _seconds(
        lambda: cleanlab.rank.get_label_quality_scores(data.labels, proba)
    )
    figures["cleanlab_issues_one_process_s"], _ = _seconds(
        lambda: cleanlab.filter.find_label_issues(data.labels, proba, n_jobs=1)
    )
    figures["cleanlab_issues_worker_pool_s"], _ = _seconds(
        lambda: cleanlab.filter.find_label_issues(data.labels, proba, n_jobs=None)
    )

    out_of_fold.clear_cache()
    figures["confident_learning_s"], found = _seconds(lambda: ConfidentLearning().findings(data))
    figures["confident_learning_flags"] = int(found.flags.sum())
    figures["nb_influence_s"], found = _seconds(lambda: NaiveBayesInfluence().findings(data))
    figures["nb_influence_flags"] = int(found.flags.sum())
    figures["nb_influence_score_s"], scores = _seconds(lambda: NaiveBayesInfluence().score(data))
    if n <= reference_max:
        rows = counts.rows().astype(np.float64)

        def row_by_row() -> np.ndarray:
            loo = leave_one_out_joint(rows, data.labels, 2)
            every = np.arange(n)
            return np.asarray(loo[every, 1 - data.labels] - loo[every, data.labels])

        figures["nb_influence_row_by_row_s"], margins = _seconds(row_by_row)
        figures["nb_influence_max_abs_diff"] = float(np.abs(margins - scores).max())

    order = np.argsort(counts.text_of_row, kind="stable")
    bounds = np.flatnonzero(np.diff(counts.text_of_row[order])) + 1
    groups = [g for g in np.split(order, bounds) if g.size > 1]
    row_counts = counts.rows()
    figures["groups"] = len(groups)
    figures["groups_s"], judged = _seconds(
        lambda: list(leave_groups_out_joint(row_counts, data.labels, groups, 2))
    )
    first = groups[:reference_groups]
    figures["groups_first"] = len(first)
    figures["groups_first_batched_s"], batched = _seconds(
        lambda: list(leave_groups_out_joint(row_counts, data.labels, first, 2))
    )
    figures["groups_first_one_at_a_time_s"], plain = _seconds(
        lambda: _one_group_at_a_time(row_counts, data.labels, first)
    )
    figures["groups_max_abs_diff"] = float(max(np.abs(a - b).max() for a, b in zip(batched, plain)))
    del judged
    return figures


def warm_up() -> None:
    """Import and run everything once on the article's 14 messages, so no figure pays for imports."""
    import cleanlab.filter
    import cleanlab.rank
    from sklearn.model_selection import cross_val_predict

    from poisonlab.data import load_dataset
    from poisonlab.detectors import ConfidentLearning, NaiveBayesInfluence, out_of_fold
    from poisonlab.victims import make_victim

    data = load_dataset("article")
    proba = out_of_fold.out_of_fold_proba(data, n_splits=2)
    cross_val_predict(make_victim("nb"), list(data.texts), data.labels, cv=2, method="predict_proba")
    cleanlab.rank.get_label_quality_scores(data.labels, proba)
    cleanlab.filter.find_label_issues(data.labels, proba, n_jobs=1)
    ConfidentLearning(n_splits=2).findings(data)
    NaiveBayesInfluence().findings(data)


def _growth(sizes: list[int], seconds: list[float]) -> float | None:
    if len(sizes) < 2 or min(seconds) <= 0:
        return None
    return round(float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reference-max", type=int, default=100_000)
    parser.add_argument("--reference-groups", type=int, default=2000)
    add_corpus_option(parser)
    options = parser.parse_args()
    warm_up()
    runs = [
        measure(n, options.reference_max, options.reference_groups, options.corpus) for n in options.sizes
    ]
    timed = ["oof_s", "cleanlab_issues_one_process_s", "confident_learning_s", "nb_influence_s", "groups_s"]
    growth = {key: _growth([r["rows"] for r in runs], [r[key] for r in runs]) for key in timed}
    rounded = [
        {k: round(v, 3) if isinstance(v, float) and k.endswith("_s") else v for k, v in r.items()}
        for r in runs
    ]
    print(
        json.dumps(
            {"bench": "label_detectors_scale", "corpus": options.corpus, "runs": rounded, "growth": growth}
        )
    )


if __name__ == "__main__":
    main()
