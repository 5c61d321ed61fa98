"""``poisonlab sweep SPEC --store FILE``: run a grid of experiments into a resumable store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from poisonlab.cli._common import EXIT_CHECK_FAILED, EXIT_OK, add_output_options, percent, print_json

DESCRIPTION = """\
Run every cell of a TOML sweep spec (victims x attacks x parameter grids x defenses x seeds)
and store each finished cell as one row of an SQLite file. The spec is checked whole before
anything runs. Rerunning the same spec skips the cells already stored, so a killed run
(Ctrl-C or SIGKILL) resumes where it stopped and loses no finished cell.

Cells run on local worker processes (--workers, default: all cores), or on a Dask
distributed cluster with --scheduler tcp://HOST:8786 (needs poisonlab[dask]). At the end,
every metric is summarised over seeds as a mean and a 95 % confidence interval.

examples:
  poisonlab sweep examples/quick.toml --store quick.sqlite
  poisonlab sweep examples/study.toml --store study.sqlite --workers 2
  poisonlab sweep examples/quick.toml --store quick.sqlite --dry-run
  poisonlab sweep examples/quick.toml --store quick.sqlite --scheduler tcp://10.0.0.5:8786
"""

SHOWN = (("attacked.accuracy", "CACC"), ("attacked.asr", "ASR"), ("attacked.spam_leak", "Spam leak"))


def add_parser(commands: Any) -> None:
    """Register ``sweep``."""
    parser = commands.add_parser(
        "sweep",
        help="run a grid of experiments into a resumable SQLite store",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", metavar="SPEC", help="TOML sweep spec (see examples/)")
    parser.add_argument(
        "--store", required=True, metavar="FILE", help="SQLite results file (created if missing)"
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: all cores)"
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler instead")
    parser.add_argument("--dry-run", action="store_true", help="validate the spec and list the cells only")
    add_output_options(parser)
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    """Validate the spec, run the pending cells, summarise."""
    from poisonlab._errors import ParameterError
    from poisonlab.experiments.aggregate import aggregate
    from poisonlab.experiments.runner import run_sweep
    from poisonlab.experiments.spec import load_spec
    from poisonlab.experiments.store import ResultStore

    if options.workers is not None and options.workers < 1:
        raise ParameterError(f"--workers must be at least 1, got {options.workers}.")
    spec = load_spec(options.spec)
    cells = spec.cells()
    if options.dry_run:
        if options.json:
            print_json({"sweep": spec.name, "cells": [cell.describe() for cell in cells]})
        else:
            for cell in cells:
                print(cell.label())
            print(f"{len(cells)} cells.")
        return EXIT_OK
    with ResultStore(options.store) as store:
        summary = run_sweep(
            spec,
            store,
            workers=options.workers,
            scheduler=options.scheduler,
            on_progress=_Reporter(len(cells), quiet=options.json),
        )
        groups = aggregate(store.rows(sweep=spec.name))
        errors = [e for e in store.errors() if e["sweep"] == spec.name]
    if options.json:
        print_json(
            {
                "sweep": spec.name,
                "store": options.store,
                **summary.to_dict(),
                "errors": errors,
                "aggregates": [
                    {
                        "cell": group["cell"],
                        "seeds": group["seeds"],
                        "metrics": {
                            name: {"mean": s.mean, "ci95": s.ci95, "n": s.n}
                            for name, s in group["metrics"].items()
                        },
                    }
                    for group in groups
                ],
            }
        )
    else:
        _render(spec.name, summary, groups, errors)
    return EXIT_CHECK_FAILED if summary.failed else EXIT_OK


class _Reporter:
    """Progress on stderr: a rich bar with ETA on a terminal, plain lines otherwise."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        self.total = total
        self.bar: Any = None
        self.task: Any = None
        if sys.stderr.isatty() and not quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("sweep"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.bar.start()
            self.task = self.bar.add_task("cells", total=total)

    def __call__(self, progress: Any) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=progress.done)
            if progress.done >= progress.total:
                self.bar.stop()
        else:
            status = f"FAILED: {progress.error}" if progress.error else f"{progress.seconds:.2f} s"
            print(
                f"[{progress.done}/{progress.total}] {progress.label} ({status})", file=sys.stderr, flush=True
            )

    def __del__(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _varying(groups: list[dict[str, Any]], part: str) -> set[str]:
    """The parameters of `part` that differ between groups of the same component: the ones to show."""
    seen: dict[tuple[str, str], set[str]] = {}
    for group in groups:
        component = group["cell"][part]
        for key, value in component.items():
            seen.setdefault((component["name"], key), set()).add(repr(value))
    return {key for (_, key), values in seen.items() if len(values) > 1}


def _render(name: str, summary: Any, groups: list[dict[str, Any]], errors: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(
        f"[bold]{name}[/bold]: {summary.total} cells, {summary.ran} run, {summary.skipped} already stored, "
        f"{summary.failed} failed, in {summary.seconds:.1f} s."
    )
    table = Table(title="Mean over seeds (± 95 % CI)", title_justify="left")
    for column in ("Victim", "Attack", "Defense", "Seeds", *(label for _, label in SHOWN)):
        table.add_column(column)
    varying = {part: _varying(groups, part) for part in ("victim", "attack", "defense")}
    for group in groups:
        cell = group["cell"]
        cells = [
            " ".join(
                [str(cell[part]["name"])]
                + [f"{k}={v}" for k, v in cell[part].items() if k != "name" and k in varying[part]]
            )
            for part in ("victim", "attack", "defense")
        ]
        values = []
        for metric, _ in SHOWN:
            defended = metric.replace("attacked.", "defended.")
            summary_of = group["metrics"].get(defended) or group["metrics"].get(metric)
            if summary_of is None or summary_of.n == 0:
                values.append("—")
            elif summary_of.n == 1:
                values.append(percent(summary_of.mean))
            else:
                values.append(f"{percent(summary_of.mean)} ± {summary_of.ci95 * 100:.1f}")
        table.add_row(*cells, str(len(group["seeds"])), *values)
    console.print(table)
    for error in errors:
        console.print(f"[red]failed[/red] {error['cell']}: {error['error']}")
