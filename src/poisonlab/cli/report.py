"""``poisonlab report STORE -o FILE``: a sweep's results as HTML or Markdown."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from poisonlab.cli._common import EXIT_OK

DESCRIPTION = """\
Render a results store written by `poisonlab sweep` as one self-contained HTML page
(inline SVG plots, no network at view time): CACC, ASR and spam leak against poison rate
per attack x victim x defense, detector ROC and precision-recall curves, the differential
privacy trade-off, partition aggregation's certified-accuracy curves, and a sortable table
of every setting (mean over seeds with 95 % confidence intervals). --format md prints a
terminal-friendly Markdown summary instead.

examples:
  poisonlab report quick.sqlite -o quick.html
  poisonlab report quick.sqlite --format md
"""


def add_parser(commands: Any) -> None:
    """Register ``report``."""
    parser = commands.add_parser(
        "report",
        help="render a sweep's results store as HTML or Markdown",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("store", metavar="STORE", help="SQLite results store from poisonlab sweep")
    parser.add_argument("-o", "--out", metavar="FILE", help="output file (default: stdout)")
    parser.add_argument("--format", choices=("html", "md"), default=None, help="default: from --out, else md")
    parser.add_argument("--sweep", metavar="NAME", help="only this sweep's cells")
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    """Read the store and write the report."""
    from poisonlab._errors import DataError
    from poisonlab._io import atomic_text_writer
    from poisonlab.experiments.store import ResultStore
    from poisonlab.reports import render_html, render_markdown

    if not Path(options.store).is_file():
        raise DataError(f"No such results store: {options.store}.")
    fmt = options.format or (
        "html" if options.out and options.out.lower().endswith((".html", ".htm")) else "md"
    )
    with ResultStore(options.store) as store:
        rows = store.rows(sweep=options.sweep)
        errors = [e for e in store.errors() if options.sweep in (None, e["sweep"])]
    title = f"poisonlab report: {Path(options.store).name}"
    text = render_html(rows, errors, title=title) if fmt == "html" else render_markdown(rows, errors)
    if options.out:
        if not Path(options.out).resolve().parent.is_dir():
            raise DataError(f"The folder for --out {options.out!r} does not exist.")
        with atomic_text_writer(options.out) as handle:
            handle.write(text)
        print(f"Report written to {options.out} ({len(rows)} cells).", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
