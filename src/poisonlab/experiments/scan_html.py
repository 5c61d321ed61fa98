"""The scan report as one self-contained HTML page: inline CSS, no scripts, nothing fetched."""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Sequence

from poisonlab._io import atomic_text_writer
from poisonlab.experiments.scan import LEVELS, ScanReport

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;
color:#1d232a;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d6dbe0}
.meta{color:#5b6670}
.verdict{padding:.7rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.level0{background:#e6f4ea;color:#1e5631}.level1{background:#fff4d6;color:#6b4e00}
.level2{background:#fde2e1;color:#8a1c17}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border-bottom:1px solid #e3e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.text{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;white-space:pre-wrap;
word-break:break-word}
.none{color:#5b6670;font-style:italic}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{color:#5b6670;font-size:.85rem}
.likely{color:#8a1c17;font-weight:600}.review{color:#6b4e00;font-weight:600}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float, digits: int = 3) -> str:
    return (
        "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_scan_html(report: ScanReport) -> str:
    """The report as a complete HTML document; every text from the data is escaped.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> from poisonlab.experiments.scan import scan
    >>> page = render_scan_html(scan(load_dataset("article"), detectors=["nb_influence"]))
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page, "<svg" in page
    (True, False, True)
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>poisonlab scan: {_e(report.data)}</title><style>{_CSS}</style></head><body>",
        f"<h1>poisonlab scan: {_e(report.data)}</h1>",
        '<p class="meta">'
        + _e(
            f"{report.n_rows} rows ("
            + ", ".join(f"{k} {v}" for k, v in report.counts.items())
            + f"); victim {report.settings['victim']} ({report.settings['features']}); "
            f"seed {report.settings['random_state']}; {report.seconds:.1f} s"
        )
        + "</p>",
        f'<div class="verdict level{LEVELS.index(report.level)}">{_e(report.verdict)}</div>',
    ]
    parts.append(f"<h2>Findings ({len(report.findings)})</h2>")
    if report.findings:
        parts.append(
            _table(
                ["Level", "Kind", "Rows", "Chance in clean data", "What", "Evidence"],
                (
                    [
                        f'<span class="{_level_class(f.level)}">{_e(f.level)}</span>',
                        _e(f.kind),
                        str(len(f.rows)),
                        "stated rule" if math.isnan(f.false_alarm) else f"{f.false_alarm:.1g}",
                        _e(f.summary),
                        _e(f.evidence[0]),
                    ]
                    for f in report.findings
                ),
                numeric=(2, 3),
            )
        )
    else:
        parts.append('<p class="none">No finding: no trigger, contradicted flood or label issue.</p>')
    parts.append(
        f"<h2>Flagged rows ({report.settings['n_suspicious']} named by the findings; top "
        f"{len(report.suspicious)})</h2>"
    )
    if report.suspicious:
        parts.append(
            _table(
                ["#", "Id", "Label", "Finding", "Text", "Why (most informative first)"],
                (
                    [
                        str(rank),
                        _e(row.id),
                        _e(row.label),
                        _e(row.finding),
                        f'<span class="text">{_e(row.text)}</span>',
                        _reasons(row.reasons),
                    ]
                    for rank, row in enumerate(report.suspicious, start=1)
                ),
                numeric=(0,),
            )
        )
    else:
        parts.append('<p class="none">No row flagged.</p>')
    parts.append("<h2>Figures</h2>")
    parts.extend(_figures(report))
    parts.append("<h2>Suspected triggers</h2>")
    if report.triggers:
        parts.append(
            _table(
                [
                    "Trigger",
                    "Score",
                    "Rows",
                    "Label",
                    "p (rows / contexts)",
                    "Its rows (first 10 ids)",
                    "Detector",
                ],
                (
                    [
                        f'<span class="text">{_e(t.text)}</span>',
                        _num(t.score),
                        str(len(t.rows)),
                        _e(t.label or ""),
                        f"{t.p_value:.1g} / {t.context_p_value:.1g}",
                        _e(", ".join(report.ids[r] for r in t.rows[:10])),
                        _e(t.detector),
                    ]
                    for t in report.triggers
                ),
                numeric=(1, 2),
            )
        )
    else:
        parts.append('<p class="none">None suspected.</p>')
    parts.append(f"<h2>Label issues ({len(report.label_issues)} corroborated)</h2>")
    if report.label_issues:
        shown = report.label_issues[:200]
        parts.append(
            "<p>"
            + _e(", ".join(report.ids[row] for row in shown))
            + (
                _e(f" … and {len(report.label_issues) - len(shown)} more")
                if len(report.label_issues) > 200
                else ""
            )
            + "</p>"
        )
    else:
        parts.append('<p class="none">None corroborated.</p>')
    parts.append(f"<h2>Near-duplicate floods ({len(report.floods)})</h2>")
    if report.floods:
        parts.append(
            _table(
                ["Rows", "Label", "The rest of the data says", "Example"],
                (
                    [
                        str(len(f.rows)),
                        _e(f.label),
                        _e(f"{f.rest_label} ({len(f.rows) - f.rest_agrees} of {len(f.rows)} contradict)"),
                        f'<span class="text">{_e(f.example)}</span>',
                    ]
                    for f in report.floods
                ),
                numeric=(0,),
            )
        )
    else:
        parts.append('<p class="none">None found.</p>')
    parts.append("<h2>Detectors</h2>")
    headers = ["Detector", "Flagged", "Rule", "Seconds"]
    if report.has_ground_truth:
        headers += ["Precision", "Recall", "F1", "AUROC", "Avg precision"]
    rows = []
    for run in report.runs:
        row = [_e(run.name), str(run.n_flagged), "own" if run.own_flags else "outliers", f"{run.seconds:.2f}"]
        if run.quality is not None:
            q = run.quality
            row += [_num(q.precision), _num(q.recall), _num(q.f1), _num(q.auroc), _num(q.average_precision)]
        rows.append(row)
    parts.append(_table(headers, rows, numeric=tuple(range(1, len(headers)))))
    if report.has_ground_truth and report.is_poison is not None:
        parts.append(
            f'<p class="meta">Ground truth: {int(report.is_poison.sum())} poison rows (is_poison column).</p>'
        )
    for name, reason in report.skipped:
        parts.append(f'<p class="none">Skipped {_e(name)}: {_e(reason)}</p>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _reasons(reasons: Sequence[str]) -> str:
    """The most informative reason, with the others folded away."""
    first = _e(reasons[0]) if reasons else ""
    if len(reasons) < 2:
        return first
    rest = "<br>".join(_e(reason) for reason in reasons[1:])
    return f"{first}<details><summary>{len(reasons) - 1} more</summary>{rest}</details>"


def _level_class(level: str) -> str:
    return "likely" if level == LEVELS[2] else "review"


def _figures(report: ScanReport) -> list[str]:
    """The report's figures as HTML, or a note when matplotlib is not installed."""
    from poisonlab._errors import DataError
    from poisonlab.experiments.scan_figures import scan_figures

    try:
        figures = scan_figures(report)
    except DataError as error:
        return [f'<p class="none">{_e(error)}</p>']
    return [
        f'<section id="{_e(f.key)}"><h3>{_e(f.title)}</h3><figure>{f.svg}'
        f"<figcaption>{_e(f.caption)}</figcaption></figure></section>"
        for f in figures
    ]


def write_scan_html(report: ScanReport, path: str | os.PathLike[str]) -> None:
    """Write `render_scan_html` to `path` atomically: the file appears whole or not at all."""
    page = render_scan_html(report)
    with atomic_text_writer(path) as handle:
        handle.write(page)


__all__ = ["render_scan_html", "write_scan_html"]
