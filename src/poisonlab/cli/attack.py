"""``poisonlab attack label-flip|backdoor``: poison the training split, compare the models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError
from poisonlab.cli._common import (
    EXIT_OK,
    add_data_options,
    add_output_options,
    add_victim_options,
    percent,
    print_json,
)

DESCRIPTION = """\
Poison the training data, train the victim on clean and on poisoned data, and compare both
on the same held-out messages. A bundled corpus (--data sms_spam) is split into train and
test with its fixed split seed; a file is split the same way unless --test names a held-out
file. --out writes the poisoned training set as CSV with an is_poison column.

examples:
  poisonlab attack label-flip --rate 0.1
  poisonlab attack label-flip --strategy random --n 200 --victim logreg --json
  poisonlab attack backdoor --trigger PROMO2026 --rate 0.01 --victim svm --out poisoned.csv
  poisonlab attack backdoor --data mail.csv --trigger "limited offer" --position random --mode inject --n 40
"""


def _budget(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("budget (give one)")
    budget = group.add_mutually_exclusive_group(required=True)
    budget.add_argument(
        "--rate", type=float, metavar="FRACTION", help="poison rate: fraction of the training set, in (0, 1]"
    )
    budget.add_argument("--n", type=int, metavar="ROWS", help="number of poison rows")
    parser.add_argument("--source", metavar="CLASS", help="class taken from (default: the last, e.g. spam)")
    parser.add_argument("--target", metavar="CLASS", help="class moved to (default: the first, e.g. ham)")
    parser.add_argument(
        "--out", metavar="FILE.csv", help="write the poisoned training set with an is_poison column"
    )


def add_parser(commands: Any) -> None:
    """Register ``attack`` and its two attacks."""
    parser = commands.add_parser(
        "attack",
        help="poison a training set and measure the damage",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="attack", metavar="ATTACK", required=True)
    flip = kinds.add_parser(
        "label-flip",
        help="flip the labels of some training rows",
        description="Label flipping: targeted (source -> target class) or random (any class to another).",
    )
    flip.add_argument(
        "--strategy", default="targeted", choices=("targeted", "random"), help="default: targeted"
    )
    backdoor = kinds.add_parser(
        "backdoor",
        help="plant a trigger that carries messages to the target class",
        description=(
            "Dirty-label backdoor: the trigger is inserted into source-class rows that are "
            "relabelled target (--mode insert), or carried by new injected rows (--mode inject)."
        ),
    )
    backdoor.add_argument(
        "--trigger", default="PROMO2026", metavar="TEXT", help="token or phrase (default: PROMO2026)"
    )
    backdoor.add_argument(
        "--position", default="start", choices=("start", "end", "random"), help="default: start"
    )
    backdoor.add_argument(
        "--repeat", type=int, default=1, metavar="K", help="copies of the trigger (default: 1)"
    )
    backdoor.add_argument("--mode", default="insert", choices=("insert", "inject"), help="default: insert")
    backdoor.add_argument(
        "--carrier",
        action="append",
        metavar="TEXT",
        help="text of an injected row (repeatable, --mode inject); default: copies of source-class rows",
    )
    for sub in (flip, backdoor):
        _budget(sub)
        add_data_options(sub)
        add_victim_options(sub)
        add_output_options(sub)
        sub.set_defaults(handler=run)


def _make_attack(options: argparse.Namespace) -> Any:
    from poisonlab.attacks import Backdoor, LabelFlip

    common = {"rate": options.rate, "n": options.n, "source": options.source, "target": options.target}
    if options.attack == "label-flip":
        if options.strategy == "random":
            return LabelFlip(
                strategy="random",
                rate=options.rate,
                n=options.n,
                source=options.source,
                target=options.target,
            )
        return LabelFlip(strategy="targeted", **common)
    carriers = tuple(options.carrier) if options.carrier else None
    return Backdoor(
        trigger=options.trigger,
        position=options.position,
        repeat=options.repeat,
        mode=options.mode,
        carriers=carriers,
        **common,
    )


def run(options: argparse.Namespace) -> int:
    """Run one attack and print clean vs poisoned metrics."""
    from poisonlab.data import DEFAULT_SPLIT_SEED, load_train_test
    from poisonlab.data.writers import write_csv
    from poisonlab.experiments.evaluate import evaluate_attack

    attack = _make_attack(options)
    if options.out and Path(options.out).suffix.lower() != ".csv":
        raise DataError(f"--out must name a .csv file, got {options.out!r}.")
    if options.out and not Path(options.out).resolve().parent.is_dir():
        raise DataError(f"The folder for --out {options.out!r} does not exist.")
    if options.out and Path(options.out).is_dir():
        raise DataError(f"--out {options.out!r} is a folder; name a .csv file.")
    split_seed = DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed
    train, test = load_train_test(
        options.data,
        test=options.test,
        split_seed=split_seed,
        text_column=options.text_column,
        label_column=options.label_column,
    )
    result = evaluate_attack(
        attack, train, test, options.victim, random_state=options.seed, features=options.features
    )
    if options.out:
        poisoned = result.poisoned
        try:
            write_csv(
                poisoned.poisoned,
                options.out,
                {
                    "is_poison": poisoned.is_poison.astype(int).tolist(),
                    "source_row": poisoned.source_row.tolist(),
                },
            )
        except OSError as error:  # permissions, full disk: the user's to fix, not a bug
            raise DataError(f"Cannot write --out {options.out!r}: {error.strerror or error}.") from None
    payload = {
        "data": str(options.data),
        "victim": options.victim,
        "features": options.features,
        "seed": options.seed,
        "split_seed": split_seed,
        "n_test": len(test),
        **result.to_dict(),
        "out": options.out,
    }
    if options.json:
        print_json(payload)
    else:
        render(payload, test.classes)
    return EXIT_OK


def render(payload: dict[str, Any], classes: tuple[str, ...]) -> None:
    """Print the comparison for people."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    params = ", ".join(f"{k}={v}" for k, v in payload["params"].items() if v is not None)
    console.print(
        f"[bold]{payload['attack']}[/bold] ({params}) on {payload['data']}: "
        f"{payload['n_poison']} poison rows of {payload['n_train']} training rows "
        f"({payload['poison_share']:.2%} of the poisoned set); "
        f"victim {payload['victim']} ({payload['features']}); {payload['n_test']} test messages; "
        f"seed {payload['seed']}, split seed {payload['split_seed']}"
    )
    table = Table(title_justify="left")
    for column in ("Metric", "Clean model", "Poisoned model", "Change"):
        table.add_column(column, justify="left" if column == "Metric" else "right")
    clean, attacked = payload["clean"], payload["attacked"]
    rows = [("CACC (accuracy)", clean["accuracy"], attacked["accuracy"])]
    if len(classes) == 2:
        rows += [
            ("Ham loss", clean["ham_loss"], attacked["ham_loss"]),
            ("Spam leak", clean["spam_leak"], attacked["spam_leak"]),
        ]
    rows += [
        (f"F1 {name}", clean["per_class"][name]["f1"], attacked["per_class"][name]["f1"]) for name in classes
    ]
    for label, before, after in rows:
        change = "n/a" if before != before or after != after else f"{(after - before) * 100:+.1f} pts"
        table.add_row(label, percent(before), percent(after), change)
    console.print(table)
    backdoor = payload["backdoor"]
    if backdoor is not None:
        console.print(
            f"ASR: {percent(backdoor['asr'])} of {backdoor['eligible']} held-out "
            f"{backdoor['source']} messages go to {backdoor['target']} once triggered "
            f"({backdoor['excluded']} of {backdoor['n_source']} "
            "excluded: the clean model already misclassifies them with the trigger)."
        )
    if payload["out"]:
        console.print(f"Poisoned training set written to {payload['out']}.")
