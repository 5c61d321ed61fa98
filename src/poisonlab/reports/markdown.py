"""The report as Markdown: a terminal-friendly summary of a results store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from poisonlab.experiments.aggregate import aggregate
from poisonlab.reports.table import summary_table


def render_markdown(rows: Sequence[Mapping[str, Any]], errors: Sequence[Mapping[str, Any]] = ()) -> str:
    """A Markdown summary: counts, the summary table and failed cells.

    Examples
    --------
    >>> print(render_markdown([]))
    # poisonlab report
    <BLANKLINE>
    No finished cells in this store.
    <BLANKLINE>
    """
    lines = ["# poisonlab report", ""]
    if not rows:
        return "\n".join([*lines, "No finished cells in this store.", ""])
    sweeps = sorted({row["sweep"] for row in rows})
    versions = rows[0]["versions"]
    lines += [
        f"{len(rows)} finished cells from sweep(s) {', '.join(sweeps)}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        "",
        "Mean over seeds ± 95 % confidence interval (Student t).",
        "",
    ]
    table = summary_table(aggregate(rows))
    lines.append("| " + " | ".join(table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(text.replace("|", "\\|") for text, _ in row) + " |")
    if errors:
        lines += ["", f"{len(errors)} failed cell(s):", ""]
        lines += [f"- {error['cell']}: {error['error']}" for error in errors]
    return "\n".join([*lines, ""])
