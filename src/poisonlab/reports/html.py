"""The report as one self-contained HTML page: inline SVG figures, inline CSS and a sortable table.

Nothing is fetched at view time: no fonts, scripts or images from the network.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from poisonlab.experiments.aggregate import aggregate
from poisonlab.reports.figures import all_figures
from poisonlab.reports.table import summary_table

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; }
th { cursor: pointer; background: #f4f4f4; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #555; } .errors li { color: #a00; }
"""

# Written by hand: sorting a table by a clicked header needs a few lines, not a library.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
        var nx = parseFloat(x), ny = parseFloat(y);
        var order = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.documentElement.setAttribute("data-report", "ready");
"""


def _sort_value(value: float | str) -> str:
    if isinstance(value, float):
        return "-1e308" if value == float("-inf") else repr(value)
    return value


def render_html(
    rows: Sequence[Mapping[str, Any]], errors: Sequence[Mapping[str, Any]] = (), *, title: str = ""
) -> str:
    """The whole report page for a results store's rows (and its failed cells).

    Examples
    --------
    >>> page = render_html([])
    >>> page.startswith("<!DOCTYPE html>") and "No finished cells" in page
    True
    """
    heading = html.escape(title or "poisonlab report")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{heading}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{heading}</h1>",
    ]
    if not rows:
        parts.append("<p>No finished cells in this store.</p>")
    else:
        sweeps = ", ".join(sorted({str(row["sweep"]) for row in rows}))
        versions = ", ".join(f"{k} {v}" for k, v in rows[0]["versions"].items())
        fingerprints = sorted({str(row["fingerprint"])[:12] for row in rows})
        parts.append(
            f'<p class="meta">{len(rows)} finished cells from sweep(s) {html.escape(sweeps)}; '
            f"{html.escape(versions)}; data fingerprint(s) {html.escape(', '.join(fingerprints))}.</p>"
        )
        for figure in all_figures(rows):
            parts.append(
                f'<section><h2>{html.escape(figure.title)}</h2><figure id="{figure.key}" class="plot">'
                f"{figure.svg}<figcaption>{html.escape(figure.caption)}</figcaption></figure></section>"
            )
        table = summary_table(aggregate(rows))
        parts.append("<section><h2>All settings</h2>")
        parts.append(
            '<p class="meta">Mean over seeds ± 95 % confidence interval. Click a header to sort.</p>'
        )
        parts.append('<table class="sortable" id="summary"><thead><tr>')
        parts.extend(f"<th>{html.escape(header)}</th>" for header in table.headers)
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            cells = "".join(
                f'<td class="{"num" if isinstance(value, float) else "text"}" '
                f'data-sort="{html.escape(_sort_value(value))}">{html.escape(text)}</td>'
                for text, value in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table></section>")
    if errors:
        parts.append(f'<section><h2>Failed cells ({len(errors)})</h2><ul class="errors">')
        parts.extend(
            f"<li>{html.escape(str(e['cell']))}: {html.escape(str(e['error']))}</li>" for e in errors
        )
        parts.append("</ul></section>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"
