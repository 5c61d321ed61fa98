"""``poisonlab scan DATA``: run the detectors on a training set and say what looks poisoned."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError
from poisonlab.cli._common import EXIT_CHECK_FAILED, EXIT_OK, add_output_options, percent, print_json, seed

DESCRIPTION = """\
Scan a labelled training set for poison: suspected backdoor triggers, suspicious rows ranked
with the reason for each, label issues (confident learning, kNN label disagreement, exact
leave-one-out Naive Bayes), near-duplicate floods, and a one-line verdict. Every registered
detector runs unless --detector picks some. DATA is a bundled corpus (sms_spam, spamassassin,
article), a CSV/TSV/JSONL/Parquet/UCI file, or e-mail; no ground truth is needed. When the
file has an is_poison column (as `poisonlab attack --out` writes), each detector is also
scored against it: precision, recall and F1 of its flags, AUROC and average precision of its
scores.

examples:
  poisonlab scan mail.csv
  poisonlab scan spamassassin --json   # the bundled SpamAssassin e-mail corpus
  poisonlab attack label-flip --rate 0.1 --out poisoned.csv && poisonlab scan poisoned.csv
  poisonlab scan poisoned.csv --victim logreg --features tfidf --html scan.html
  poisonlab scan mail.csv --detector knn_labels --detector duplicate_flood --json
  poisonlab scan mail.csv --check    # exit 1 when the verdict is "poisoning likely"
  poisonlab scan mail.csv --flags flags.csv --clean mail.clean.csv   # act on the findings
  poisonlab scan big.csv --workers 1 # detectors one after another (less memory)
  poisonlab scan big.csv --scheduler tcp://HOST:8786   # one detector per Dask task
"""


def add_parser(commands: Any) -> None:
    """Register ``scan``."""
    from poisonlab.victims import FEATURES, VICTIMS  # the detectors load at run time: a lean start

    parser = commands.add_parser(
        "scan",
        help="find poisoned rows, triggers, label issues and duplicate floods in a training set",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "data", metavar="DATA", help="bundled corpus (sms_spam, spamassassin, article), data file or e-mail"
    )
    parser.add_argument("--text-column", metavar="NAME", help="text column of a file (default: detected)")
    parser.add_argument("--label-column", metavar="NAME", help="label column of a file (default: detected)")
    parser.add_argument(
        "--victim",
        default="nb",
        choices=VICTIMS.names(),
        help="model the label-issue detectors train out of fold (default: nb)",
    )
    parser.add_argument(
        "--features", default="count", choices=FEATURES, help="text features (default: count)"
    )
    parser.add_argument(
        "--seed", type=seed, default=0, metavar="INT", help="seeds the detectors (default: 0)"
    )
    parser.add_argument(
        "--detector",
        action="append",
        metavar="NAME",
        help="run only this registered detector (repeatable; an unknown name lists them all)",
    )
    parser.add_argument(
        "--top", type=int, default=20, metavar="N", help="suspicious rows to list (default: 20)"
    )
    parser.add_argument(
        "--alarm-rate",
        type=float,
        default=0.02,
        metavar="FRACTION",
        help="share of rows with corroborated label issues that makes poisoning likely (default: 0.02)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes running detectors side by side (default: all cores; the report is the same)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run each detector as a task on this Dask scheduler (tcp://HOST:8786) instead",
    )
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    parser.add_argument(
        "--flags",
        metavar="FILE",
        help="write every flagged row (id, row, label, finding, level, confidence, reasons) to a "
        ".csv, .tsv, .jsonl or .parquet file",
    )
    parser.add_argument(
        "--clean",
        metavar="FILE",
        help="write the data without the rows of 'poisoning likely' findings, every original column "
        "kept (.csv, .tsv, .jsonl or .parquet)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the verdict is 'poisoning likely'")
    add_output_options(parser)
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    """Scan the data; print the findings (or JSON); write HTML if asked."""
    from poisonlab.data import load_dataset
    from poisonlab.data.ground_truth import read_is_poison
    from poisonlab.experiments.scan import LEVELS, scan

    if options.top < 0:
        raise DataError(f"--top must be 0 or more, got {options.top}.")
    _check_outputs(options)
    if options.workers is not None and options.workers < 1:
        raise DataError(f"--workers must be at least 1, got {options.workers}.")
    dataset = load_dataset(options.data, text_column=options.text_column, label_column=options.label_column)
    is_poison = None
    if Path(options.data).is_file():
        is_poison = read_is_poison(options.data, text_column=options.text_column)
    report = scan(
        dataset,
        victim=options.victim,
        features=options.features,
        random_state=options.seed,
        detectors=options.detector,
        is_poison=is_poison,
        alarm_rate=options.alarm_rate,
        top=options.top,
        workers=options.workers or (os.cpu_count() or 1),
        scheduler=options.scheduler,
    )
    if options.html:
        from poisonlab.experiments.scan_html import write_scan_html

        try:
            write_scan_html(report, options.html)
        except OSError as error:
            raise DataError(f"Cannot write --html {options.html!r}: {error.strerror or error}.") from None
    if options.flags:
        from poisonlab.data.frames import write_columns

        _write(write_columns, report.flag_table(), options.flags, "--flags")
    removed = None
    if options.clean:
        removed = _write_clean(options, dataset, report)
    if options.json:
        print_json(
            {
                **report.to_dict(),
                "html": options.html,
                "flags": options.flags,
                "clean": options.clean,
                "removed": removed,
            }
        )
    else:
        render(report, options.html)
        if options.flags:
            print(f"Flagged rows written to {options.flags} ({report.settings['n_suspicious']} rows).")
        if options.clean:
            print(f"Data without the likely poison written to {options.clean} ({removed} rows removed).")
    return EXIT_CHECK_FAILED if options.check and report.level == LEVELS[2] else EXIT_OK


def _check_outputs(options: argparse.Namespace) -> None:
    """Refuse, before any work, an output that names an input or a folder, or an unknown format."""
    from poisonlab.data.frames import table_format

    given = Path(options.data).resolve() if Path(options.data).exists() else None
    outputs = {"--html": options.html, "--flags": options.flags, "--clean": options.clean}
    for flag, value in outputs.items():
        if value is None:
            continue
        target = Path(value)
        if target.is_dir():
            raise DataError(f"{flag} {value!r} is a folder; name a file.")
        if not target.resolve().parent.is_dir():
            raise DataError(f"The folder for {flag} {value!r} does not exist.")
        if given is not None and target.resolve() == given:
            raise DataError(f"{flag} {value!r} is the data being scanned; name another file.")
        if flag != "--html":
            table_format(value)
    named = [value for value in outputs.values() if value is not None]
    if len({Path(v).resolve() for v in named}) < len(named):
        raise DataError("--html, --flags and --clean must name different files.")


def _write(writer: Any, columns: Any, path: str, flag: str) -> None:
    try:
        writer(columns, path)
    except OSError as error:
        raise DataError(f"Cannot write {flag} {path!r}: {error.strerror or error}.") from None


def _write_clean(options: argparse.Namespace, dataset: Any, report: Any) -> int:
    """Write the data without the rows of "poisoning likely" findings; return how many went."""
    from poisonlab.data.frames import dataset_columns, read_columns, write_columns
    from poisonlab.data.mail import is_email_source
    from poisonlab.experiments.scan import LEVELS

    source = Path(options.data)
    columns = (
        read_columns(source) if source.is_file() and not is_email_source(source) else dataset_columns(dataset)
    )
    if any(len(values) != report.n_rows for values in columns.values()):
        raise DataError(f"{options.data} changed while it was scanned; scan it again.")
    drop = {row for finding in report.findings if finding.level == LEVELS[2] for row in finding.rows}
    keep = [row for row in range(report.n_rows) if row not in drop]
    _write(
        write_columns,
        {name: [values[row] for row in keep] for name, values in columns.items()},
        options.clean,
        "--clean",
    )
    return len(drop)


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render(report: Any, html_path: str | None) -> None:
    """Print the report for people: the verdict and findings first, detector details after."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from poisonlab.experiments.scan import LEVELS

    console = Console(highlight=False)
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    console.print(
        f"[bold]poisonlab scan[/bold] {escape(report.data)}: {report.n_rows} rows ({escape(counts)}); "
        f"victim {report.settings['victim']} ({report.settings['features']}); seed "
        f"{report.settings['random_state']}; {report.seconds:.1f} s"
    )
    style = ("green", "yellow", "red")[LEVELS.index(report.level)]
    console.print(f"[bold {style}]Verdict: {escape(report.verdict)}[/bold {style}]")
    if report.findings:
        table = Table(title="Findings", title_justify="left")
        table.add_column("Level")
        table.add_column("Kind")
        table.add_column("Rows", justify="right")
        table.add_column("Chance if clean", justify="right")
        table.add_column("What", overflow="fold")
        for finding in report.findings:
            chance = "rule" if finding.false_alarm != finding.false_alarm else f"{finding.false_alarm:.1g}"
            table.add_row(
                "likely" if finding.level == LEVELS[2] else "review",
                finding.kind,
                str(len(finding.rows)),
                chance,
                escape(finding.summary),
            )
        console.print(table)
    if report.suspicious:
        flagged = report.settings["n_suspicious"]
        table = Table(title=f"Flagged rows: top {len(report.suspicious)} of {flagged}", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("Id", overflow="fold")
        table.add_column("Label")
        table.add_column("Finding")
        table.add_column("Text", overflow="fold", ratio=2)
        table.add_column("Why", overflow="fold", ratio=3)
        for rank, row in enumerate(report.suspicious, start=1):
            more = f" (+{len(row.reasons) - 1} more)" if len(row.reasons) > 1 else ""
            table.add_row(
                str(rank),
                escape(row.id),
                escape(row.label),
                row.finding,
                escape(_short(row.text)),
                escape(f"{row.reasons[0]}{more}"),
            )
        console.print(table)
    else:
        console.print("Flagged rows: none.")
    console.print("[bold]Details[/bold]")
    if report.triggers:
        table = Table(title="Suspected triggers", title_justify="left")
        for column in ("Trigger", "Score", "Rows", "Label", "p", "Detector"):
            table.add_column(column, justify="right" if column in ("Score", "Rows", "p") else "left")
        for trigger in report.triggers[:10]:
            table.add_row(
                escape(trigger.text),
                f"{trigger.score:.3g}",
                str(len(trigger.rows)),
                escape(trigger.label or ""),
                f"{max(trigger.p_value, trigger.context_p_value):.1g}"
                if trigger.context_p_value == trigger.context_p_value
                else f"{trigger.p_value:.1g}",
                trigger.detector,
            )
        console.print(table)
    else:
        console.print("Suspected triggers: none.")
    issues = report.label_issues
    if issues:
        shown = ", ".join(report.ids[row] for row in issues[:15])
        rest = f" and {len(issues) - 15} more" if len(issues) > 15 else ""
        console.print(
            f"Label issues: {len(issues)} rows ({len(issues) / report.n_rows:.1%}) flagged by at least two "
            f"label-issue detectors; ids {escape(shown)}{rest}."
        )
    else:
        console.print("Label issues: none corroborated.")
    if report.floods:
        table = Table(title="Near-duplicate floods", title_justify="left")
        for column in ("Rows", "Label", "The rest of the data says", "Example"):
            table.add_column(column, justify="right" if column == "Rows" else "left")
        for flood in sorted(report.floods, key=lambda f: (not f.contradicted, -len(f.rows)))[:10]:
            says = (
                f"{flood.rest_label} ({len(flood.rows) - flood.rest_agrees} of {len(flood.rows)} contradict)"
            )
            table.add_row(
                str(len(flood.rows)), escape(flood.label), escape(says), escape(_short(flood.example, 60))
            )
        console.print(table)
    else:
        console.print("Near-duplicate floods: none.")
    _render_detectors(console, report)
    for name, reason in report.skipped:
        console.print(f"Skipped {name}: {escape(reason)}")
    if html_path:
        console.print(f"HTML report written to {escape(html_path)}.")


def _render_detectors(console: Any, report: Any) -> None:
    from rich.table import Table

    title = "Detectors"
    if report.is_poison is not None:
        title += f" scored against the is_poison column ({int(report.is_poison.sum())} poison rows)"
    table = Table(title=title, title_justify="left")
    headers = ["Detector", "Flagged", "Rule", "Secs"]
    if report.is_poison is not None:
        headers += ["Prec.", "Recall", "F1", "AUROC", "AP"]
    for column in headers:
        table.add_column(
            column,
            justify="left" if column in ("Detector", "Rule") else "right",
            no_wrap=column == "Detector",
        )
    for run in report.runs:
        cells = [run.name, str(run.n_flagged), "own" if run.own_flags else "outliers", f"{run.seconds:.2f}"]
        if run.quality is not None:
            q = run.quality
            cells += [
                percent(q.precision),
                percent(q.recall),
                percent(q.f1),
                _ratio(q.auroc),
                _ratio(q.average_precision),
            ]
        table.add_row(*cells)
    console.print(table)


def _ratio(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"
