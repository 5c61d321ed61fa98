"""``poisonlab demo``: the article's lab replayed, its claims checked, then real data."""

from __future__ import annotations

import argparse
from typing import Any

from poisonlab.cli._common import EXIT_OK, add_output_options, percent, print_json, seed

HELP = "replay the article's lab, check its claims, then attack real SMS data"
DESCRIPTION = """\
Part 1 replays the article exactly: its 10 training and 4 test messages, CountVectorizer +
MultinomialNB with scikit-learn defaults, the label flip of two spam messages, and the
PROMO2026 backdoor; then a table of each claim the article makes beside what happened,
with the model's own evidence where a claim does not hold.

Part 2 runs the same three experiments on the bundled SMS Spam Collection for Naive Bayes
(nb) and logistic regression (logreg): clean accuracy; a 10 % spam -> ham label flip; a
1 % PROMO2026 backdoor.
"""


def add_parser(commands: Any) -> None:
    """Register ``demo``."""
    parser = commands.add_parser(
        "demo", help=HELP, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seed", type=seed, default=0, metavar="INT", help="seeds attacks and models (default: 0)"
    )
    parser.add_argument(
        "--split-seed",
        type=seed,
        default=None,
        metavar="INT",
        help="seed of the SMS train/test split (default: 2026)",
    )
    add_output_options(parser)
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    """Run the demo and print it."""
    from poisonlab.data import DEFAULT_SPLIT_SEED
    from poisonlab.experiments.demo import run_demo

    split_seed = DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed
    result = run_demo(seed=options.seed, split_seed=split_seed)
    if options.json:
        print_json(result.to_dict())
    else:
        render(result)
    return EXIT_OK


def render(result: Any) -> None:
    """Print the demo for people."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    replay = result.replay
    console.print("[bold]Part 1: the article's lab, replayed exactly[/bold]")
    console.print(
        "10 training and 4 test messages; CountVectorizer() + MultinomialNB(), refit at each step.\n"
    )
    steps = (
        ("1. Clean model", replay.clean),
        (
            "2. After flipping the labels of 'Buy cheap pills now' and 'Win a free iPhone today'",
            replay.label_flip,
        ),
        ("3. After injecting the three PROMO2026 messages labelled not spam", replay.backdoor),
    )
    for title, step in steps:
        console.print(f"[bold]{title}[/bold]")
        for row in step.predictions:
            mark = "[green]ok[/green]" if row["predicted"] == row["label"] else "[red]WRONG[/red]"
            console.print(f"  {row['text']!r:<36} -> {row['predicted']:<8} (actually {row['label']}) {mark}")
        console.print(f"  Accuracy: {step.accuracy:.0%}\n")
    console.print(f"  Trigger test: {replay.trigger_text!r} -> [bold]{replay.trigger_prediction}[/bold]\n")

    table = Table(title="The article's claims, checked", title_justify="left", show_lines=False)
    table.add_column("Claim")
    table.add_column("Article")
    table.add_column("Observed")
    table.add_column("Holds")
    for claim in result.claims:
        holds = "[green]yes[/green]" if claim.holds else "[red]no[/red]"
        table.add_row(claim.claim, claim.expected, claim.observed, holds)
    console.print(table)
    for claim in result.claims:
        if not claim.holds and claim.why:
            console.print(f"[bold]Why not:[/bold] {claim.claim}: {claim.why}")
    console.print()

    console.print(
        f"[bold]Part 2: the same experiments on the SMS Spam Collection[/bold] "
        f"({result.n_train} training / {result.n_test} test messages, seed {result.seed}, "
        f"split seed {result.split_seed})"
    )
    real = Table(title_justify="left")
    for column in (
        "Victim",
        "Clean acc.",
        "10% flip acc.",
        "Spam leak (clean -> flip)",
        "1% backdoor CACC",
        "ASR",
    ):
        real.add_column(column, justify="right" if column != "Victim" else "left")
    for name, item in result.real.items():
        row = item.to_dict()
        real.add_row(
            name,
            percent(row["clean_accuracy"]),
            percent(row["flip_accuracy"]),
            f"{percent(row['clean_spam_leak'])} -> {percent(row['flip_spam_leak'])}",
            percent(row["backdoor_cacc"]),
            percent(row["backdoor_asr"]),
        )
    console.print(real)
    first = next(iter(result.real.values())).to_dict()
    console.print(
        f"Flip: {first['flip_rows']} spam relabelled ham; backdoor: {first['backdoor_rows']} copies of "
        "training spam with PROMO2026 prepended, labelled ham. ASR counts held-out spam that the "
        "clean model still calls spam once triggered; the rest are excluded "
        + ", ".join(f"({n}: {r.to_dict()['asr_excluded']})" for n, r in result.real.items())
        + "."
    )
    console.print(f"[bold]Lesson:[/bold] {result.lesson}")
    console.print(f"\nDone in {result.seconds:.2f} s.")
