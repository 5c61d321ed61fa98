"""The report's figures, drawn with matplotlib and returned as SVG text (deterministic bytes)."""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from poisonlab._errors import DataError
from poisonlab.experiments.aggregate import Summary, aggregate, summarize


@dataclasses.dataclass(frozen=True)
class Figure:
    """One figure: an id for the page, a title, a caption and the SVG markup."""

    key: str
    title: str
    caption: str
    svg: str


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, set for deterministic SVG bytes."""
    try:
        import matplotlib
    except ImportError:
        raise DataError("Reports need matplotlib: pip install 'poisonlab[report]'.") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "poisonlab"  # stable ids: same results, same bytes
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


def svg_text(figure: Any) -> str:
    """A matplotlib figure as SVG markup (closed after)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if start >= 0 and end > start:  # the generator's RDF credits: nothing a reader needs
        text = text[:start] + text[end + len("</metadata>") :]
    return text


def component_label(component: Mapping[str, Any], hide: Iterable[str] = ()) -> str:
    """``name k=v ...`` for a component dict, without the keys in `hide`.

    Examples
    --------
    >>> component_label({"name": "label_flip", "rate": 0.1, "strategy": "targeted"}, hide=["rate"])
    'label_flip strategy=targeted'
    """
    hidden = set(hide)
    params = " ".join(f"{k}={v}" for k, v in component.items() if k != "name" and k not in hidden)
    return f"{component['name']} {params}".strip()


def _budget(cell: Mapping[str, Any], measured: Mapping[str, Summary]) -> float:
    return measured["poison_share"].mean if "poison_share" in measured else float("nan")


def _series(groups: Sequence[dict[str, Any]], metric: str) -> dict[str, list[tuple[float, Summary]]]:
    """Per (attack without its budget, victim, defense): (poison share, summary of `metric`) points."""
    lines: dict[str, list[tuple[float, Summary]]] = {}
    for group in groups:
        cell, measured = group["cell"], group["metrics"]
        defended = metric.replace("attacked.", "defended.")
        value = measured.get(defended) if cell["defense"]["name"] != "none" else None
        value = value or measured.get(metric)
        if value is None or value.n == 0:
            continue
        name = (
            f"{component_label(cell['attack'], hide=('rate', 'n'))} | {component_label(cell['victim'])} | "
            f"{component_label(cell['defense'])}"
        )
        lines.setdefault(name, []).append((_budget(cell, measured), value))
    return {name: sorted(points, key=lambda p: p[0]) for name, points in sorted(lines.items())}


def _line_figure(
    key: str, title: str, caption: str, lines: dict[str, list[tuple[float, Summary]]], ylabel: str
) -> Figure:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.2))
    for name, points in lines.items():
        x = np.array([p[0] * 100 for p in points])
        y = np.array([p[1].mean * 100 for p in points])
        error = np.array([0.0 if math.isnan(p[1].ci95) else p[1].ci95 * 100 for p in points])
        axes.errorbar(x, y, yerr=error, marker="o", capsize=3, label=name)
    axes.set_xlabel("poison rate (% of the training set)")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="best")
    return Figure(key, title, caption, svg_text(figure))


def rate_figures(groups: Sequence[dict[str, Any]]) -> list[Figure]:
    """CACC, ASR and spam leak against poison rate, one line per attack x victim x defense."""
    figures = []
    for metric, label, key, title in (
        ("attacked.accuracy", "CACC (%)", "cacc", "Clean accuracy (CACC) vs poison rate"),
        ("attacked.asr", "ASR (%)", "asr", "Attack success rate (ASR) vs poison rate"),
        ("attacked.spam_leak", "spam leak (%)", "spam-leak", "Spam leak vs poison rate"),
    ):
        lines = _series(groups, metric)
        if lines:
            figures.append(
                _line_figure(
                    f"figure-{key}",
                    title,
                    f"Mean over seeds with 95 % confidence intervals; a defended setting shows the "
                    f"defended model. Metric: {metric.split('.')[-1]}.",
                    lines,
                    label,
                )
            )
    return figures


def detector_figures(rows: Sequence[Mapping[str, Any]]) -> list[Figure]:
    """Mean ROC and precision-recall curves of every detector, per attack setting."""
    curves: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for row in rows:
        for detector, scores in row["metrics"].get("detectors", {}).items():
            if "roc" in scores:
                setting = component_label(row["cell"]["attack"])
                curves.setdefault(setting, {}).setdefault(detector, []).append(scores)
    if not curves:
        return []
    plt = pyplot()
    figure, (roc, pr) = plt.subplots(1, 2, figsize=(10, 4.2))
    grid = np.linspace(0, 1, 101)
    for setting, detectors in sorted(curves.items()):
        for detector, runs in sorted(detectors.items()):
            tpr = np.mean([np.interp(grid, r["roc"]["fpr"], r["roc"]["tpr"]) for r in runs], axis=0)
            precision = np.mean(
                [np.interp(grid, r["pr"]["recall"], r["pr"]["precision"]) for r in runs], axis=0
            )
            auroc = summarize(r["auroc"] for r in runs).mean
            label = f"{detector} on {setting} (AUROC {auroc:.3f})"
            roc.plot(grid, tpr, label=label)
            pr.plot(grid, precision, label=label)
    roc.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    for axes in (roc, pr):
        axes.grid(alpha=0.3)
    roc.legend(fontsize=6, loc="lower right")
    return [
        Figure(
            "figure-detectors",
            "Detectors: ROC and precision-recall",
            "Each curve is the mean over seeds (interpolated) of a detector scored against the rows the "
            "attack really poisoned.",
            svg_text(figure),
        )
    ]


def privacy_figures(groups: Sequence[dict[str, Any]]) -> list[Figure]:
    """The differential-privacy trade-off: epsilon against CACC, ASR and spam leak."""
    points: dict[str, list[tuple[float, Mapping[str, Summary]]]] = {}
    for group in groups:
        defense = group["cell"]["defense"]
        if "epsilon" in defense:
            attack, victim = component_label(group["cell"]["attack"]), group["cell"]["victim"]["name"]
            name = f"{attack} | {victim} | {defense['name']}"
            points.setdefault(name, []).append((float(defense["epsilon"]), group["metrics"]))
    if not points:
        return []
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.2))
    for name, items in sorted(points.items()):
        items.sort(key=lambda item: item[0])
        eps = [item[0] for item in items]
        for metric, style in (
            ("defended.accuracy", "-o"),
            ("defended.asr", "--s"),
            ("defended.spam_leak", ":^"),
        ):
            values = [item[1].get(metric) for item in items]
            if all(v is not None and v.n for v in values):
                axes.plot(
                    eps,
                    [v.mean * 100 for v in values if v is not None],
                    style,
                    label=f"{metric.split('.')[-1]}: {name}",
                )
    axes.set_xscale("log")
    axes.set(xlabel="privacy budget epsilon (log scale)", ylabel="%")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=6)
    return [
        Figure(
            "figure-privacy",
            "Differential privacy: epsilon vs CACC, ASR and spam leak",
            "Smaller epsilon means more noise: stronger privacy and a bounded influence of any one "
            "poisoned message, at a cost in clean accuracy.",
            svg_text(figure),
        )
    ]


def certified_figures(rows: Sequence[Mapping[str, Any]]) -> list[Figure]:
    """Partition aggregation's certified accuracy against radius, per number of partitions."""
    curves: dict[str, list[Mapping[str, float]]] = {}
    for row in rows:
        curve = row["metrics"].get("defense_info", {}).get("certified_accuracy")
        if isinstance(curve, Mapping) and curve:
            name = f"{component_label(row['cell']['defense'])} | {row['cell']['victim']['name']}"
            curves.setdefault(name, []).append({str(k): float(v) for k, v in curve.items()})
    if not curves:
        return []
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 4.2))
    for name, runs in sorted(curves.items()):
        radii = sorted({int(r) for run in runs for r in run})
        means = [summarize(run.get(str(r), float("nan")) for run in runs).mean for r in radii]
        axes.step(radii, [m * 100 for m in means], where="post", label=name)
    axes.set(xlabel="certified radius r (poisoned training rows)", ylabel="certified accuracy (%)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    return [
        Figure(
            "figure-certified",
            "Partition aggregation: certified accuracy",
            "Share of test messages classified correctly and certified at radius at least r: no "
            "change of r training rows can alter those predictions.",
            svg_text(figure),
        )
    ]


def all_figures(rows: Sequence[Mapping[str, Any]]) -> list[Figure]:
    """Every figure the rows support, in report order."""
    groups = aggregate(rows)
    return [
        *rate_figures(groups),
        *detector_figures(rows),
        *privacy_figures(groups),
        *certified_figures(rows),
    ]
