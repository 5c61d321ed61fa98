"""The report's summary table: one row per setting (a cell without its seed), means with CIs."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from poisonlab.experiments.aggregate import Summary
from poisonlab.reports.figures import component_label

COLUMNS = (
    ("accuracy", "CACC"),
    ("asr", "ASR"),
    ("spam_leak", "Spam leak"),
    ("ham_loss", "Ham loss"),
)


@dataclasses.dataclass(frozen=True)
class Table:
    """Headers and rows; each cell is (display text, sort value)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[tuple[str, float | str], ...], ...]


def _shown(summary: Summary | None) -> tuple[str, float | str]:
    if summary is None or summary.n == 0 or math.isnan(summary.mean):
        return "—", float("-inf")
    text = f"{summary.mean * 100:.1f}%"
    if summary.n > 1 and not math.isnan(summary.ci95):
        text += f" ± {summary.ci95 * 100:.1f}"
    return text, summary.mean


def summary_table(groups: Sequence[dict[str, Any]]) -> Table:
    """The table of every setting: victim, attack, defense, seeds, poison rows, then the metrics
    of the model that setting deploys (the defended one when there is a defense).

    Examples
    --------
    >>> from poisonlab.experiments.aggregate import summarize
    >>> group = {"cell": {"victim": {"name": "nb"}, "attack": {"name": "label_flip", "n": 2},
    ...          "defense": {"name": "none"}}, "seeds": [0, 1],
    ...          "metrics": {"attacked.accuracy": summarize([0.9, 0.8]), "n_poison": summarize([2, 2])}}
    >>> summary_table([group]).rows[0][4]
    ('2', 2.0)
    """
    headers = ("Victim", "Attack", "Defense", "Seeds", "Poison rows", *(label for _, label in COLUMNS))
    rows = []
    for group in groups:
        cell, measured = group["cell"], group["metrics"]
        side = "defended" if cell["defense"]["name"] != "none" else "attacked"
        poison = measured.get("n_poison")
        values = [_shown(measured.get(f"{side}.{metric}")) for metric, _ in COLUMNS]
        rows.append(
            (
                (component_label(cell["victim"]), component_label(cell["victim"])),
                (component_label(cell["attack"]), component_label(cell["attack"])),
                (component_label(cell["defense"]), component_label(cell["defense"])),
                (str(len(group["seeds"])), float(len(group["seeds"]))),
                ("—", float("-inf")) if poison is None else (f"{poison.mean:g}", poison.mean),
                *values,
            )
        )
    return Table(headers, tuple(rows))
