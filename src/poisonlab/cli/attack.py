"""``poisonlab attack NAME``: poison the training split with any registered attack, compare models."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError
from poisonlab.cli._common import (
    EXIT_OK,
    EXIT_USAGE,
    add_data_options,
    add_output_options,
    add_victim_options,
    load_data_split,
    percent,
    print_json,
)
from poisonlab.cli._options import (
    add_component_commands,
    add_component_options,
    command_line,
    command_name,
    component_kwargs,
    describe_parameters,
    has_budget,
    summary,
)

DESCRIPTION = """\
Poison the training data with one attack, train the victim on clean and on poisoned data, and
compare both on the same held-out messages. Every registered attack is a subcommand; its
options are its parameters (see `poisonlab attack --list`, or `poisonlab attack NAME --help`).

A bundled corpus (--data sms_spam, spamassassin) is split into train and test with its fixed split seed; a
file is split the same way unless --test names a held-out file. Every run also checks the
poison's labels: the share of poison rows that the model trained on the clean data gives
their own label (all of them, for a truly clean-label attack).

--out FILE writes the poisoned training set with its ground truth: .csv (is_poison, source_row
-1 for injected rows; spreadsheet formulas neutralised), .jsonl (is_poison, source_row null for
injected rows) or .mbox (one RFC 822 message per row, label and ground truth in X-Poisonlab-*
headers), to train any third-party spam filter on the same poison.

examples:
  poisonlab attack --list
  poisonlab attack label-flip --rate 0.1
  poisonlab attack backdoor --trigger PROMO2026 --rate 0.01 --victim logreg --out poisoned.csv
  poisonlab attack clean-label-backdoor --trigger PROMO2026 --rate 0.05 --select hardest --victim logreg
  poisonlab attack dictionary --rate 0.01 --victim cnb --out dictionary.mbox
  poisonlab attack focused --message "Are we still on for lunch tomorrow?" --n 30
"""

SHARED = ("victim", "features")
"""Attack parameters named like the command's own options: ``--attack-victim`` defaults to ``--victim``."""

OUT_HELP = (
    "write the poisoned training set with is_poison and source_row: FILE.csv, FILE.jsonl or "
    "FILE.mbox (one e-mail per row; see `poisonlab attack --help`)"
)


def _examples(name: str, cls: Any) -> str:
    lines = [
        f"  poisonlab attack {command_name(name)} {shlex.join(command_line(e, SHARED))}"
        for e in cls.examples()
    ]
    return "examples:\n" + "\n".join(lines) + "\n"


def add_parser(commands: Any) -> None:
    """Register ``attack`` and one subcommand per registered attack."""
    from poisonlab.attacks import ATTACKS

    parser = commands.add_parser(
        "attack",
        help="poison a training set and measure the damage",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands_made = add_component_commands(
        parser, ATTACKS, dest="attack", metavar="ATTACK", examples=_examples, on_list=run_list
    )
    for name, cls, sub in commands_made:
        add_component_options(sub, cls, SHARED)
        sub.add_argument("--out", metavar="FILE", help=OUT_HELP)
        add_data_options(sub)
        add_victim_options(sub)
        add_output_options(sub)
        sub.set_defaults(handler=run, attack_name=name)


def run_list(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``poisonlab attack --list``; without --list and without an attack, a usage error."""
    if not options.list:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: name an attack, or give --list to see them", file=sys.stderr)
        return EXIT_USAGE
    attacks = describe_attacks()
    if options.list_json:
        print_json({"attacks": attacks})
    else:
        render_list(attacks)
    return EXIT_OK


def describe_attacks() -> list[dict[str, Any]]:
    """Every registered attack: name, command, summary, paper and parameters (JSON-ready)."""
    from poisonlab.attacks import ATTACKS
    from poisonlab.experiments.clean_label import is_clean_label_attack

    described = []
    for name in ATTACKS.names():
        cls = ATTACKS.get(name)
        parameters = describe_parameters(cls, SHARED)
        if has_budget(cls):
            for field, kind, text in (
                ("rate", "float", "poison rate: fraction of the training set, in (0, 1]"),
                ("n", "int", "number of poison rows"),
            ):
                parameters.append(
                    {
                        "name": field,
                        "option": f"--{field}",
                        "kind": kind,
                        "default": None,
                        "required": False,
                        "choices": None,
                        "help": text + " (give --rate or --n)",
                    }
                )
        described.append(
            {
                "name": name,
                "command": command_name(name),
                "summary": summary(cls),
                "paper": cls.paper,
                "clean_label": is_clean_label_attack(cls),
                "parameters": parameters,
            }
        )
    return described


def render_list(attacks: list[dict[str, Any]]) -> None:
    """Print the attacks for people."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Attacks (poisonlab attack NAME --help for details)", title_justify="left")
    for column in ("Attack", "Parameters (default)", "Paper"):
        table.add_column(column, overflow="fold")
    for attack in attacks:
        shown = []
        for p in attack["parameters"]:
            values = "|".join(p["choices"]) if p["choices"] else ""
            default = "required" if p["required"] else p["default"]
            shown.append(f"{p['option']} {values}".rstrip() + ("" if default is None else f" ({default})"))
        label = f"[bold]{attack['command']}[/bold]\n{attack['summary']}"
        if attack["clean_label"]:
            label += "\n(clean-label)"
        table.add_row(label, "\n".join(shown), attack["paper"])
    Console(highlight=False).print(table)


def _check_out(out: str | None) -> None:
    """Fail before any work when --out cannot be written."""
    from poisonlab.data.writers import EXPORT_FORMATS

    if out is None:
        return
    path = Path(out)
    if path.suffix.lower() not in EXPORT_FORMATS:
        raise DataError(f"--out must name a .csv, .jsonl or .mbox file, got {out!r}.")
    if path.is_dir():
        raise DataError(f"--out {out!r} is a folder; name a .csv, .jsonl or .mbox file.")
    if not path.resolve().parent.is_dir():
        raise DataError(f"The folder for --out {out!r} does not exist.")


def with_class_indices(attack: Any, classes: tuple[str, ...]) -> Any:
    """`attack` with a `source` or `target` given as digits read as a class index.

    The command line gives classes as text; ``--target 0`` means the first class unless a
    class is named ``0``.
    """
    import dataclasses

    changes = {}
    for field in ("source", "target"):
        value = getattr(attack, field, None)
        if isinstance(value, str) and value.strip().isdigit() and value not in classes:
            changes[field] = int(value)
    return dataclasses.replace(attack, **changes) if changes else attack


def run(options: argparse.Namespace) -> int:
    """Run one attack and print clean vs poisoned metrics, the label check and the attack's goal."""
    from poisonlab.attacks import ATTACKS, BoundaryShift, FocusedAttack
    from poisonlab.data import DEFAULT_SPLIT_SEED
    from poisonlab.data.writers import write_training_set
    from poisonlab.experiments.attack_goals import campaign_outcome, target_message_outcome
    from poisonlab.experiments.clean_label import check_clean_label, is_clean_label_attack
    from poisonlab.experiments.evaluate import evaluate_attack

    cls = ATTACKS.get(options.attack_name)
    attack = cls(**component_kwargs(cls, options, SHARED))
    _check_out(options.out)
    train, test = load_data_split(options)
    attack = with_class_indices(attack, train.classes)
    result = evaluate_attack(
        attack, train, test, options.victim, random_state=options.seed, features=options.features
    )
    check = check_clean_label(result.poisoned, options.victim, model=result.clean_model)
    target_message = None
    campaign = None
    if isinstance(attack, FocusedAttack):
        target_message = target_message_outcome(result, attack.message).to_dict()
    if isinstance(attack, BoundaryShift):
        campaign = campaign_outcome(result, test, attack.campaign_words(train)).to_dict()
    if options.out:
        poisoned = result.poisoned
        try:
            write_training_set(
                poisoned.poisoned, options.out, is_poison=poisoned.is_poison, source_row=poisoned.source_row
            )
        except OSError as error:  # permissions, full disk: the user's to fix, not a bug
            raise DataError(f"Cannot write --out {options.out!r}: {error.strerror or error}.") from None
    payload = {
        "data": str(options.data),
        "victim": options.victim,
        "features": options.features,
        "seed": options.seed,
        "split_seed": DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed,
        "n_test": len(test),
        **result.to_dict(),
        "paper": cls.paper,
        "clean_label": {"attack_is_clean_label": is_clean_label_attack(attack), **check.to_dict()},
        "target_message": target_message,
        "campaign": campaign,
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
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    params = ", ".join(f"{k}={_short(v)}" for k, v in payload["params"].items() if v is not None)
    console.print(
        escape(
            f"{payload['attack']} ({params}) on {payload['data']}: "
            f"{payload['n_poison']} poison rows of {payload['n_train']} training rows "
            f"({payload['poison_share']:.2%} of the poisoned set); "
            f"victim {payload['victim']} ({payload['features']}); {payload['n_test']} test messages; "
            f"seed {payload['seed']}, split seed {payload['split_seed']}"
        )
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
        table.add_row(escape(label), percent(before), percent(after), change)
    console.print(table)
    for line in _findings(payload):
        console.print(escape(line))


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _findings(payload: dict[str, Any]) -> list[str]:
    """The sentences under the table: ASR, the label check, the attack's own goal, the export."""
    lines = []
    backdoor = payload["backdoor"]
    if backdoor is not None:
        lines.append(
            f"ASR: {percent(backdoor['asr'])} of {backdoor['eligible']} held-out "
            f"{backdoor['source']} messages go to {backdoor['target']} once triggered "
            f"({backdoor['excluded']} of {backdoor['n_source']} "
            "excluded: the clean model already misclassifies them with the trigger)."
        )
    check = payload["clean_label"]
    verdict = (
        "the label of every one is correct by this test"
        if check["n_pass"] == check["n_poison"]
        else (
            f"the other {check['n_poison'] - check['n_pass']} look like another class to it, "
            "so they are not clean-label for this victim"
            if check["attack_is_clean_label"]
            else "a dirty-label attack: it gives rows labels their text does not earn"
        )
    )
    lines.append(
        f"Clean-label check: the {payload['victim']} model trained on the clean data gives "
        f"{check['n_pass']} of {check['n_poison']} poison rows ({percent(check['share'])}) their own label; "
        f"{verdict}."
    )
    message = payload["target_message"]
    if message is not None:
        state = "BLOCKED" if message["is_blocked"] else "not blocked"
        lines.append(
            f"Target message {_short(message['message'])!r}: clean model says {message['clean_prediction']} "
            f"(log-odds {message['target']} {message['clean_score']:+.2f}), poisoned model says "
            f"{message['poisoned_prediction']} ({message['poisoned_score']:+.2f}): {state}."
        )
    campaign = payload["campaign"]
    if campaign is not None:
        words = ", ".join(campaign["words"][:8]) + (", ..." if len(campaign["words"]) > 8 else "")
        lines.append(
            f"Campaign words ({len(campaign['words'])}: {words}): of {campaign['n_messages']} held-out "
            f"{campaign['source']} messages using them, {percent(campaign['poisoned_slip'])} slip through as "
            f"{campaign['target']} with the poisoned model (clean model: {percent(campaign['clean_slip'])})."
        )
    if payload["out"]:
        lines.append(f"Poisoned training set written to {payload['out']}.")
    return lines
