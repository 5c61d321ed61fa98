"""The scan report's figures: each finding against its null, the label issues by class, the
detectors' score distributions. SVG text from matplotlib (deterministic bytes)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from poisonlab.experiments.findings import LEVELS, LIKELY_FALSE_ALARM, REVIEW_FALSE_ALARM
from poisonlab.experiments.scan import LABEL_ISSUE_TARGET, ScanReport
from poisonlab.reports.figures import Figure, pyplot, svg_text

_COLOURS = {LEVELS[2]: "#b3261e", LEVELS[1]: "#b07d00"}


def scan_figures(report: ScanReport) -> list[Figure]:
    """Every figure the scan's HTML page shows.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> from poisonlab.experiments.scan import scan
    >>> [f.key for f in scan_figures(scan(load_dataset("article"), detectors=["nb_influence"]))]
    ['figure-classes', 'figure-scores']
    """
    figures = []
    tested = [f for f in report.findings if not math.isnan(f.false_alarm)]
    if tested:
        figures.append(_chance_figure(tested))
    triggers = [t for t in report.triggers if t.eligible_rows and not math.isnan(t.expected_share)]
    if triggers:
        figures.append(_trigger_figure(triggers[:8]))
    floods = [f for f in report.findings if f.kind in ("flood", "dictionary")]
    if floods and report.flood_null.size:
        figures.append(_flood_figure(report, floods))
    figures.append(_class_figure(report))
    if report.runs:
        figures.append(_score_figure(report))
    return figures


def _chance_figure(findings: list[Any]) -> Figure:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 0.5 + 0.45 * len(findings)))
    strength = [-math.log10(max(f.false_alarm, 1e-300)) for f in findings]
    names = [_short(f.summary, 60) for f in findings]
    axes.barh(range(len(findings)), strength, color=[_COLOURS[f.level] for f in findings])
    axes.axvline(-math.log10(LIKELY_FALSE_ALARM), color="#b3261e", linestyle="--", linewidth=1)
    axes.axvline(-math.log10(REVIEW_FALSE_ALARM), color="#b07d00", linestyle=":", linewidth=1)
    axes.set_yticks(range(len(findings)), names, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("−log10 chance in clean data (dashed: likely, dotted: review)")
    axes.grid(axis="x", alpha=0.3)
    return Figure(
        "figure-chance",
        "Each finding against chance",
        "How often clean data like this would give a finding this strong, estimated from the data "
        "itself (see the README: trigger test adjusted for every word tested; floods against the "
        "data's own leave-one-out contradictions). Longer bars are less likely by chance.",
        svg_text(figure),
    )


def _trigger_figure(triggers: list[Any]) -> Figure:
    from scipy.stats import binom

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 0.6 + 0.5 * len(triggers)))
    for i, trigger in enumerate(triggers):
        n, q = trigger.eligible_rows, trigger.expected_share
        high = binom.ppf(0.999, n, q)
        axes.barh(i, high, color="#d6dbe0", height=0.6)
        axes.plot([n * q], [i], marker="|", color="#1d232a", markersize=14)
        axes.plot([len(trigger.explained_rows)], [i], marker="o", color="#b3261e")
    axes.set_yticks(range(len(triggers)), [_short(t.text, 30) for t in triggers], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("rows labelled against their text (grey: 99.9 % of chance; |: expected; ●: found)")
    axes.grid(axis="x", alpha=0.3)
    return Figure(
        "figure-triggers",
        "Suspected triggers: rows they explain against chance",
        "For each suspected trigger, its rows whose label the rest of their text contradicts, against "
        "what rows without the word would lead to expect (the test's null rate).",
        svg_text(figure),
    )


def _flood_figure(report: ScanReport, floods: list[Any]) -> Figure:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 3.6))
    null = report.flood_null
    axes.hist(null, bins=60, color="#8a96a3", log=True)
    by_rows = {tuple(f.rows): f for f in report.floods}
    for finding in floods:
        flood = by_rows.get(tuple(finding.rows))
        if flood is not None:
            axes.axvline(flood.contradiction, color=_COLOURS[finding.level], linewidth=2)
    axes.set_xlabel("log-odds per word against the label (Naive Bayes without the message or flood)")
    axes.set_ylabel("messages (log)")
    return Figure(
        "figure-floods",
        "Contradicted floods against the data's own messages",
        "Grey: every other distinct message, judged by a model trained without it. Lines: the "
        "contradicted floods, judged by a model trained without the whole flood.",
        svg_text(figure),
    )


def _class_figure(report: ScanReport) -> Figure:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 3.2))
    classes = list(report.counts)
    kinds = sorted({f.kind for f in report.findings})
    base = np.zeros(len(classes))
    for kind in kinds:
        named = np.zeros(len(classes))
        for finding in report.findings:
            if finding.kind == kind and finding.target in classes:
                named[classes.index(finding.target)] += len(finding.rows)
        axes.bar(classes, named, bottom=base, label=kind)
        base += named
    share = [base[i] / max(report.counts[c], 1) for i, c in enumerate(classes)]
    for i, value in enumerate(share):
        axes.annotate(
            f"{value:.1%} of {report.counts[classes[i]]}", (i, base[i]), ha="center", va="bottom", fontsize=8
        )
    axes.set_ylabel("rows named, by the label they carry")
    if kinds:
        axes.legend(fontsize=7)
    axes.grid(axis="y", alpha=0.3)
    return Figure(
        "figure-classes",
        "Flagged rows per class",
        "Rows the findings name, by the label they carry and the kind of finding; the share is of "
        "the class's rows.",
        svg_text(figure),
    )


def _score_figure(report: ScanReport) -> Figure:
    plt = pyplot()
    runs = list(report.runs)
    columns = 2
    rows = math.ceil(len(runs) / columns)
    figure, grid = plt.subplots(rows, columns, figsize=(7.5, 1.9 * rows), squeeze=False)
    named = np.zeros(report.n_rows, dtype=bool)
    named[report.ranking.rows] = True
    for axes, run in zip(grid.ravel(), runs):
        bins = np.histogram_bin_edges(run.scores, bins=40)
        axes.hist(run.scores[~named], bins=bins, color="#8a96a3", log=True, label="not flagged")
        if named.any():
            axes.hist(run.scores[named], bins=bins, color="#b3261e", log=True, alpha=0.8, label="flagged")
        role = "label issues" if LABEL_ISSUE_TARGET in run.targets else "backdoors"
        axes.set_title(f"{run.name} ({role})", fontsize=8)
        axes.tick_params(labelsize=7)
    for axes in grid.ravel()[len(runs) :]:
        axes.axis("off")
    grid.ravel()[0].legend(fontsize=7)
    figure.tight_layout()
    return Figure(
        "figure-scores",
        "Detector scores: flagged rows against the rest",
        "Each detector's suspicion score (higher is more suspicious), rows the findings name in red.",
        svg_text(figure),
    )


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


__all__ = ["scan_figures"]
