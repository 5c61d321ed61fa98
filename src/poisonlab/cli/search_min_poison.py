"""``poisonlab search min-poison``: the fewest poison rows that change a prediction or reach an ASR."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError, ParameterError
from poisonlab.cli._common import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    add_data_options,
    add_output_options,
    add_victim_options,
    load_data_split,
    percent,
    print_json,
)

HELP = "the fewest poison rows that change a prediction or reach a target ASR"
DESCRIPTION = """\
Find the smallest number of poison rows that does the job:

* label flips that make the victim change its prediction for one message (--message, or
  --test-row for a message of the held-out split): rows of the class the clean model
  predicts, relabelled to the other class (--to), the most damaging first;
* injected trigger messages (--trigger): copies of training rows of the source class with the
  trigger, labelled with the target class, that make the triggered --message classified
  target, or that reach a target attack success rate on the held-out source messages (--asr).

Naive Bayes victims (nb, cnb) are answered exactly: every budget from 1 up is evaluated with
count arithmetic that equals a refit, so the first one that works is the minimum (flips are
tried in the greedy order: each the row that moves the message most). Other victims (logreg,
svm) get an exponential then binary search over budgets (1, 2, 4, ..., then bisection), one
refit each; this assumes a goal reached stays reached with more poison, and the output says so.
Exit status 1 when no budget up to --max-rows reaches the goal.

examples:
  poisonlab search min-poison --message "WINNER! Claim your free prize now, call 09061701461"
  poisonlab search min-poison --test-row 12 --victim logreg
  poisonlab search min-poison --trigger PROMO2026 --message "Buy cheap pills and win prizes"
  poisonlab search min-poison --trigger PROMO2026 --asr 0.5 --victim logreg --json
  poisonlab search min-poison --data mail.csv --message "Your invoice is attached" --out poison.csv
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {value}")
    return value


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction in (0, 1], got {value}")
    return value


def add_parser(commands: Any) -> None:
    """Register ``search min-poison``."""
    parser = commands.add_parser(
        "min-poison", help=HELP, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    goal = parser.add_argument_group("goal (give one)")
    which = goal.add_mutually_exclusive_group(required=True)
    which.add_argument("--message", metavar="TEXT", help="the message whose prediction should change")
    which.add_argument(
        "--test-row", type=int, metavar="N", help="the message in row N (from 0) of the held-out split"
    )
    which.add_argument(
        "--asr", type=_share, metavar="FRACTION", help="target attack success rate (needs --trigger)"
    )
    poison = parser.add_argument_group("poison")
    poison.add_argument(
        "--to", metavar="CLASS", help="flips: the wanted class (default: the other / second-best class)"
    )
    poison.add_argument("--trigger", metavar="TEXT", help="inject messages carrying this trigger")
    poison.add_argument(
        "--position", default="start", choices=("start", "end", "random"), help="default: start"
    )
    poison.add_argument(
        "--repeat", type=_positive_int, default=1, metavar="K", help="copies of the trigger (default: 1)"
    )
    poison.add_argument(
        "--carrier",
        action="append",
        metavar="TEXT",
        help="text of injected rows (repeatable, cycled); default: copies of source-class rows",
    )
    poison.add_argument("--source", metavar="CLASS", help="injections: class triggered (default: the last)")
    poison.add_argument("--target", metavar="CLASS", help="injections: class wanted (default: the first)")
    poison.add_argument(
        "--max-rows", type=_positive_int, metavar="N", help="most poison rows to try (default: all available)"
    )
    poison.add_argument(
        "--out", metavar="FILE.csv", help="write the training set poisoned at the minimum, with is_poison"
    )
    add_data_options(parser)
    add_victim_options(parser)
    add_output_options(parser)
    parser.set_defaults(handler=run)


def _check_options(options: argparse.Namespace) -> None:
    injecting = options.trigger is not None
    if options.asr is not None and not injecting:
        raise ParameterError("--asr measures a backdoor: give the --trigger to inject.")
    if injecting and options.to is not None:
        raise ParameterError("--to is for flips; with --trigger, give --target.")
    if not injecting:
        for name in ("carrier", "source", "target"):
            if getattr(options, name) is not None:
                raise ParameterError(f"--{name} is for injections: give --trigger too.")
        if options.position != "start" or options.repeat != 1:
            raise ParameterError("--position and --repeat shape the trigger: give --trigger too.")
    if options.out:
        out = Path(options.out)
        if out.suffix.lower() != ".csv":
            raise DataError(f"--out must name a .csv file, got {options.out!r}.")
        if out.is_dir():
            raise DataError(f"--out {options.out!r} is a folder; name a .csv file.")
        if not out.resolve().parent.is_dir():
            raise DataError(f"The folder for --out {options.out!r} does not exist.")


def run(options: argparse.Namespace) -> int:
    """Run the search and print what it found."""
    from poisonlab.attacks.trigger import Trigger
    from poisonlab.data import DEFAULT_SPLIT_SEED
    from poisonlab.experiments.min_poison import min_flips, min_injections

    _check_options(options)
    split_seed = DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed
    train, test = load_data_split(options)
    message = options.message
    if options.test_row is not None:
        if not 0 <= options.test_row < len(test):
            raise DataError(
                f"--test-row must be in [0, {len(test) - 1}]: the held-out split has {len(test)} rows."
            )
        message = test.texts[options.test_row]
    if options.trigger is not None:
        if not options.trigger.strip():
            raise ParameterError("--trigger must not be blank.")
        result = min_injections(
            train,
            Trigger(text=options.trigger, position=options.position, repeat=options.repeat),
            options.victim,
            message=message,
            test=test if options.asr is not None else None,
            target_asr=options.asr,
            features=options.features,
            source=options.source,
            target=options.target,
            carriers=tuple(options.carrier) if options.carrier else None,
            max_rows=options.max_rows,
            random_state=options.seed,
        )
    else:
        result = min_flips(
            train,
            message,
            options.victim,
            features=options.features,
            to=options.to,
            max_rows=options.max_rows,
            random_state=options.seed,
        )
    if options.out and result.poisoned is not None:
        _write(result.poisoned, options.out)
    payload = {
        "data": str(options.data),
        "n_train": len(train),
        "n_test": len(test),
        "test_row": options.test_row,
        "seed": options.seed,
        "split_seed": split_seed,
        **result.to_dict(),
        "out": options.out if result.poisoned is not None else None,
    }
    if options.json:
        print_json(payload)
    else:
        render(payload)
    return EXIT_OK if result.found else EXIT_CHECK_FAILED


def _write(poisoned: Any, path: str) -> None:
    from poisonlab.data.writers import write_csv

    try:
        write_csv(
            poisoned.poisoned,
            path,
            {
                "is_poison": poisoned.is_poison.astype(int).tolist(),
                "source_row": poisoned.source_row.tolist(),
            },
        )
    except OSError as error:  # permissions, full disk: the user's to fix, not a bug
        raise DataError(f"Cannot write --out {path!r}: {error.strerror or error}.") from None


def render(payload: dict[str, Any]) -> None:
    """Print the answer for people."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    kind = "label flips" if payload["poison"] == "flip" else "injected trigger messages"
    console.print(
        f"[bold]Minimum poison[/bold] ({kind}) against {payload['victim']} ({payload['features']}) "
        f"on {payload['data']}: {payload['n_train']} training rows; seed {payload['seed']}, "
        f"split seed {payload['split_seed']}"
    )
    table = Table(show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    if payload["goal"] == "prediction":
        table.add_row("Message", repr(payload["message"]))
        table.add_row("Clean model says", str(payload["before"]))
        table.add_row("Wanted", str(payload["wanted"]))
    else:
        table.add_row("Goal", f"ASR >= {percent(payload['target_asr'])} on held-out messages, triggered")
    if payload["found"]:
        table.add_row("Poison rows needed", f"[bold]{payload['n_poison']}[/bold]")
        if payload["goal"] == "prediction":
            table.add_row("Poisoned model says", str(payload["after"]))
        else:
            below = payload["asr_below"]
            table.add_row(
                "ASR reached",
                percent(payload["asr"]) + ("" if below is None else f" (one row fewer: {percent(below)})"),
            )
    else:
        table.add_row("Poison rows needed", f"[red]not reached with up to {payload['max_rows']} rows[/red]")
        if payload["asr"] is not None:
            table.add_row("Best ASR seen", percent(payload["asr"]))
    table.add_row("Method", payload["method"])
    table.add_row(
        "Budgets evaluated",
        f"{payload['evaluated']}" + (f", {payload['refits']} refits" if payload["refits"] else ""),
    )
    console.print(table)
    rows = payload["poison_rows"]
    if rows:
        shown = ", ".join(repr(r) if isinstance(r, str) else str(r) for r in rows[:8])
        more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
        label = "Flipped training rows" if payload["poison"] == "flip" else "Injected messages"
        console.print(f"{label}: {shown}{more}")
    if payload["out"]:
        console.print(f"Poisoned training set written to {payload['out']}.")
    console.print(f"Done in {payload['seconds']:.2f} s.")
