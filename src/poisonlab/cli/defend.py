"""``poisonlab defend NAME --attack ATTACK``: attack, train undefended and defended, compare."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from typing import Any

from poisonlab._errors import ParameterError
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
    Option,
    add_component_commands,
    add_component_options,
    command_line,
    command_name,
    component_kwargs,
    component_options,
    describe_parameters,
    has_budget,
    summary,
)

HELP = "train under a defense, on your own data or against any attack, and compare with no defense"

DESCRIPTION = """\
Train the victim undefended and under one defense and compare both on the same held-out
messages: CACC, ham loss, spam leak, and what the defense did (rows it removed, its privacy
budget, certified radii, or the words its input filter strips). Every registered defense is a
subcommand; its options are its parameters (see `poisonlab defend --list`).

Without --attack the training data is used as it is: your own, possibly poisoned, file. The
defense reports the rows it removed, scored against the file's is_poison column when it has
one (as `poisonlab attack --out` writes). With --attack, the data is first poisoned by that
registered attack (its parameters as in `poisonlab attack`: --rate/--n, --trigger, ...), and
the comparison adds the model trained on clean data, the backdoor's attack success rate (ASR)
and how many removed rows were the attack's.

examples:
  poisonlab defend --list
  poisonlab defend sanitize --data mail.csv --victim logreg
  poisonlab defend sanitize --data poisoned.csv --json     # scored against its is_poison column
  poisonlab defend sanitize --attack backdoor --rate 0.01 --repeat 3 --victim logreg
  poisonlab defend trigger-filter --attack backdoor --rate 0.01 --repeat 3 --victim svm
  poisonlab defend roni --attack dictionary --rate 0.01 --victim nb
  poisonlab defend trim --discard 0.1 --attack label-flip --rate 0.1 --victim logreg
  poisonlab defend partition-aggregation --k 50 --attack label-flip --rate 0.03
"""

SHARED = ("victim", "features")
"""Attack parameters named like the command's own options: ``--attack-victim`` defaults to ``--victim``."""

EXAMPLE_ATTACK = ["--attack", "backdoor", "--rate", "0.01", "--repeat", "3"]


@dataclasses.dataclass(frozen=True)
class AttackOption:
    """One attack parameter on the ``defend`` command line, merged over every attack that has it."""

    field: str
    flags: tuple[str, ...]
    kind: str
    is_optional: bool
    attacks: tuple[str, ...]
    help: str
    file_flag: str | None

    @property
    def dest(self) -> str:
        """Where the parsed value goes (apart from the defense's own ``param_*``)."""
        return f"attack_param_{self.field}"

    @property
    def file_dest(self) -> str:
        """Where a list option's file goes."""
        return f"attack_param_{self.field}_file"


def attack_options(taken: set[str]) -> list[AttackOption]:
    """Every attack parameter, once, as an option; a field whose flag `taken` already holds (a
    defense parameter) becomes ``--attack-FIELD``, like the shared victim options."""
    from poisonlab.attacks import ATTACKS

    merged: dict[str, list[tuple[str, Option]]] = {}
    for name in ATTACKS.names():
        cls = ATTACKS.get(name)
        fields = [option.field for option in component_options(cls)]
        shared = [f for f in fields if f in SHARED or "--" + f.replace("_", "-") in taken]
        for option in component_options(cls, shared):
            merged.setdefault(option.field, []).append((name, option))
    out = []
    for field, found in merged.items():
        first = found[0][1]
        kinds = {option.kind for _, option in found}
        names = tuple(command_name(name) for name, _ in found)
        text = first.help if len(found) == 1 else first.help.split(" (default")[0]
        if first.is_shared and field not in SHARED:  # renamed for a defense parameter's sake
            text = text.split(" (default")[0] + " (default: the attack's)"
        out.append(
            AttackOption(
                field=field,
                flags=first.flags,
                kind=first.kind if len(kinds) == 1 else "text",
                is_optional=any(option.is_optional for _, option in found),
                attacks=names,
                help=f"{text} [{', '.join(names)}]",
                file_flag=first.file_flag,
            )
        )
    return out


def _number(kind: str, is_optional: bool) -> Any:
    convert = int if kind == "int" else float

    def number(text: str) -> int | float | None:
        if is_optional and text.strip().lower() == "none":
            return None
        return convert(text)

    number.__name__ = convert.__name__  # argparse names the type in its error: "invalid int value"
    return number


def _add_attack_options(parser: argparse.ArgumentParser, options: list[AttackOption]) -> None:
    from poisonlab.attacks import ATTACKS

    group = parser.add_argument_group(
        "attack", "the attack to defend against, and its parameters (each lists the attacks that take it)"
    )
    names = ATTACKS.names()
    group.add_argument(
        "--attack",
        metavar="ATTACK",
        type=lambda text: text.replace("-", "_"),
        choices=names,
        help=f"a registered attack to plant first: {', '.join(command_name(n) for n in names)} "
        "(default: none, the data as it is)",
    )
    for option in options:
        if option.kind == "flag":
            group.add_argument(
                *option.flags, dest=option.dest, action=argparse.BooleanOptionalAction, help=option.help
            )
        elif option.kind == "list":
            group.add_argument(
                *option.flags, dest=option.dest, action="extend", nargs="+", metavar="TEXT", help=option.help
            )
            if option.file_flag is not None:
                group.add_argument(
                    option.file_flag,
                    dest=option.file_dest,
                    metavar="FILE",
                    help="UTF-8 text file, one per line",
                )
        else:
            group.add_argument(
                *option.flags,
                dest=option.dest,
                type=_number(option.kind, option.is_optional) if option.kind in ("int", "float") else str,
                metavar=option.field.upper(),
                help=option.help,
            )
    group.add_argument("--rate", dest="attack_param_rate", type=float, metavar="FRACTION", help="poison rate")
    group.add_argument("--n", dest="attack_param_n", type=int, metavar="ROWS", help="number of poison rows")


def _examples(name: str, cls: Any) -> str:
    lines = [
        f"  poisonlab defend {command_name(name)} {shlex.join([*command_line(e), *EXAMPLE_ATTACK])}"
        for e in cls.examples()
    ]
    return "examples:\n" + "\n".join(lines) + "\n"


def add_parser(commands: Any) -> None:
    """Register ``defend`` and one subcommand per registered defense."""
    from poisonlab.defenses import DEFENSES

    parser = commands.add_parser(
        "defend",
        help=HELP,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands_made = add_component_commands(
        parser, DEFENSES, dest="defense", metavar="DEFENSE", examples=_examples, on_list=run_list
    )
    for name, cls, sub in commands_made:
        add_component_options(sub, cls)
        taken = {flag for option in component_options(cls) for flag in option.flags}
        options = attack_options(taken)
        _add_attack_options(sub, options)
        add_data_options(sub)
        add_victim_options(sub)
        add_output_options(sub)
        sub.set_defaults(handler=run, defense_name=name, attack_options=options)


def run_list(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``poisonlab defend --list``; without --list and without a defense, a usage error."""
    if not options.list:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: name a defense, or give --list to see them", file=sys.stderr)
        return EXIT_USAGE
    defenses = describe_defenses()
    if options.list_json:
        print_json({"defenses": defenses})
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="Defenses (poisonlab defend NAME --help for details)", title_justify="left")
        for column in ("Defense", "Parameters (default)", "Paper"):
            table.add_column(column, overflow="fold")
        for item in defenses:
            shown = [f"{p['option']} ({p['default']})" for p in item["parameters"]]
            table.add_row(
                f"[bold]{item['command']}[/bold]\n{item['summary']}", "\n".join(shown), item["paper"]
            )
        Console(highlight=False).print(table)
    return EXIT_OK


def describe_defenses() -> list[dict[str, Any]]:
    """Every registered defense: name, command, summary, paper, parameters (JSON-ready)."""
    from poisonlab.defenses import DEFENSES

    described = []
    for name in DEFENSES.names():
        cls = DEFENSES.get(name)
        described.append(
            {
                "name": name,
                "command": command_name(name),
                "summary": summary(cls),
                "paper": cls.paper,
                "supported_victims": list(getattr(cls, "supported_victims", ()) or []) or None,
                "parameters": describe_parameters(cls),
            }
        )
    return described


def build_attack(options: argparse.Namespace) -> Any:
    """The attack named by ``--attack``, with the attack options given on the command line.

    An option the chosen attack does not take is an error; options left out keep the attack's
    defaults, except ``--attack-victim``/``--attack-features``, which follow ``--victim``/``--features``.
    """
    from poisonlab.attacks import ATTACKS
    from poisonlab.cli._options import _read_lines

    cls = ATTACKS.get(options.attack)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for option in options.attack_options:
        value = getattr(options, option.dest)
        if option.kind == "list":
            items = list(value or [])
            path = getattr(options, option.file_dest, None)
            if path is not None:
                items += _read_lines(path, option.file_flag or "")
            value = tuple(items) if items else None
        if option.field not in fields:
            if value is not None:
                raise ParameterError(
                    f"The {command_name(options.attack)} attack takes no {option.flags[0]} option "
                    f"(it is a parameter of {', '.join(option.attacks)})."
                )
            continue
        if value is None and option.field in SHARED:
            value = getattr(options, option.field)
        if value is not None:
            kwargs[option.field] = value
    for field in ("rate", "n"):
        value = getattr(options, f"attack_param_{field}")
        if value is not None:
            if not has_budget(cls):
                raise ParameterError(f"The {command_name(options.attack)} attack takes no --{field} budget.")
            kwargs[field] = value
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ParameterError(
            f"The {command_name(options.attack)} attack needs --{missing[0].replace('_', '-')}."
        )
    return cls(**kwargs)


def run(options: argparse.Namespace) -> int:
    """Run the attack, train undefended and defended, print the comparison."""
    from poisonlab.cli.attack import with_class_indices
    from poisonlab.data import DEFAULT_SPLIT_SEED
    from poisonlab.defenses import DEFENSES
    from poisonlab.experiments.defend import evaluate_defense

    cls = DEFENSES.get(options.defense_name)
    defense = cls(**component_kwargs(cls, options))
    if options.attack is None:
        return run_on_data(options, defense, cls.paper)
    attack = build_attack(options)
    train, test = load_data_split(options)
    attack = with_class_indices(attack, train.classes)
    result = evaluate_defense(
        defense, attack, train, test, options.victim, random_state=options.seed, features=options.features
    )
    payload = {
        "data": str(options.data),
        "victim": options.victim,
        "features": options.features,
        "seed": options.seed,
        "split_seed": DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed,
        "n_test": len(test),
        **result.to_dict(),
        "paper": cls.paper,
    }
    if options.json:
        print_json(payload)
    else:
        render(payload, test.classes)
    return EXIT_OK


def run_on_data(options: argparse.Namespace, defense: Any, paper: str) -> int:
    """The defense on the data as it is: no attack; scored against its is_poison column, if any."""
    from poisonlab.data import DEFAULT_SPLIT_SEED
    from poisonlab.experiments.defend import defend_data

    given = [
        option.flags[0] for option in options.attack_options if getattr(options, option.dest) is not None
    ]
    given += [
        f"--{field}" for field in ("rate", "n") if getattr(options, f"attack_param_{field}") is not None
    ]
    if given:
        raise ParameterError(f"{given[0]} is an attack option; name the attack with --attack.")
    train, test = load_data_split(options)
    result = defend_data(
        defense,
        train,
        test,
        options.victim,
        is_poison=_ground_truth(options, train),
        random_state=options.seed,
        features=options.features,
    )
    payload = {
        "data": str(options.data),
        "victim": options.victim,
        "features": options.features,
        "seed": options.seed,
        "split_seed": DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed,
        "n_test": len(test),
        **result.to_dict(),
        "paper": paper,
    }
    if options.json:
        print_json(payload)
    else:
        render(payload, test.classes)
    return EXIT_OK


def _ground_truth(options: argparse.Namespace, train: Any) -> Any:
    """The data file's is_poison flags for the training rows (by id), or None."""
    from pathlib import Path

    from poisonlab.data import load_dataset
    from poisonlab.data.ground_truth import read_is_poison

    if not Path(options.data).is_file():
        return None
    flags = read_is_poison(options.data, text_column=options.text_column)
    if flags is None:
        return None
    ids = load_dataset(
        options.data,
        text_column=options.text_column,
        label_column=options.label_column,
        encoding=options.encoding,
    ).ids
    by_id = dict(zip(ids, flags.tolist()))
    return [by_id[row_id] for row_id in train.ids]


def _params(params: dict[str, Any]) -> str:
    shown = []
    for key, value in params.items():
        if value is None:
            continue
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        shown.append(f"{key}={text if len(text) <= 40 else text[:37] + '...'}")
    return ", ".join(shown)


def render(payload: dict[str, Any], classes: tuple[str, ...]) -> None:
    """Print the comparison for people: against an attack, or on the data as it is."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    planted = payload["attack"] is not None
    what = (
        f"against {payload['attack']} ({_params(payload['attack_params'])}) on {payload['data']}: "
        f"{payload['n_poison']} poison rows of {payload['n_train']} training rows"
        if planted
        else f"on {payload['data']} as it is (no attack planted): {payload['n_train']} training rows"
    )
    console.print(
        escape(
            f"{payload['defense']} ({_params(payload['defense_params'])}) {what}; victim {payload['victim']} "
            f"({payload['features']}); {payload['n_test']} test messages; seed {payload['seed']}, split seed "
            f"{payload['split_seed']}"
        )
    )
    table = Table(title_justify="left")
    columns = ("Metric", "Clean model", "Undefended", "Defended", "Change")
    for column in columns if planted else (columns[0], *columns[2:]):
        table.add_column(column, justify="left" if column == "Metric" else "right")
    undefended, defended = payload["undefended"], payload["defended"]
    rows = [("CACC (accuracy)", "accuracy")]
    if len(classes) == 2:
        rows += [("Ham loss", "ham_loss"), ("Spam leak", "spam_leak")]
    if "asr" in defended:
        rows.append(("ASR (backdoor)", "asr"))
    for label, key in rows:
        before, after = undefended.get(key), defended.get(key)
        change = (
            "n/a"
            if before is None or after is None or before != before or after != after
            else f"{(after - before) * 100:+.1f} pts"
        )
        cells = [percent(v) if v is not None else "n/a" for v in (before, after)]
        if planted:
            reference = payload["clean"].get(key)
            cells.insert(0, percent(reference) if reference is not None else "n/a")
        table.add_row(label, *cells, change)
    console.print(table)
    for line in findings(payload):
        console.print(escape(line))


def findings(payload: dict[str, Any]) -> list[str]:
    """The sentences under the table: what the defense did, scored against the poison truth."""
    lines = []
    if payload["attack"] is None:  # the data as it is: the removed rows, scored if the data says
        removed = payload["removed_ids"]
        if removed:
            shown = ", ".join(removed[:10]) + (f" and {len(removed) - 10} more" if len(removed) > 10 else "")
            lines.append(f"Removed {len(removed)} training rows: {shown}.")
        truth = payload["removed"]
        if truth is not None:
            lines.append(
                f"Against the data's is_poison column: {truth['poison']} of the removed rows are poison "
                f"({truth['poison']} of {truth['poison_total']} poison rows caught; precision "
                f"{percent(truth['precision'])}, recall {percent(truth['recall'])})."
            )
    for key, verb in (("removed", "Removed"), ("downweighted", "Down-weighted")):
        rows = payload.get(key) if payload["attack"] is not None else None
        if rows is not None:
            lines.append(
                f"{verb} {rows['rows']} training rows, {rows['poison']} of them poison "
                f"({rows['poison']} of {rows['poison_total']} poison rows caught; precision "
                f"{percent(rows['precision'])}, recall {percent(rows['recall'])})."
            )
    filtered = payload["filtered"]
    if filtered is not None:
        line = (
            f"Input filter: false alarms on {percent(filtered['false_alarm_rate'])} of "
            f"{filtered['n_clean']} clean held-out messages"
        )
        if filtered["triggered_flagged"] is not None:
            share = percent(filtered["triggered_flagged"])
            line += f"; flags {share} of {filtered['n_triggered']} triggered ones"
        if filtered["top_words"]:
            line += (
                " (words: " + ", ".join(f"{w['word']} x{w['messages']}" for w in filtered["top_words"]) + ")"
            )
        lines.append(line + ".")
    found = payload["defense_info"].get("trigger_words")
    if isinstance(found, list):
        shown = ", ".join(
            f"{w['word']} (decides {w['decided']} of the {w['rows']} rows carrying it; adjusted p "
            f"{w['p_value']:.2g})"
            for w in found
        )
        lines.append(f"Trigger words found in the training data: {shown or 'none'}.")
    certified = payload["certified"]
    if certified is not None:
        shown = ", ".join(f"r>={r}: {percent(v)}" for r, v in certified["certified_accuracy"].items())
        lines.append(
            f"Certified accuracy (correct and certified at radius >= r): {shown}; median radius "
            f"{certified['median_radius']}; disputed predictions {percent(certified['disputed_share'])}."
        )
    scalars = {k: v for k, v in payload["defense_info"].items() if isinstance(v, (int, float, str, bool))}
    if scalars:
        lines.append("Defense record: " + "; ".join(f"{k}={_short(v)}" for k, v in scalars.items()) + ".")
    seconds = payload["seconds"]
    if "attack_and_undefended" in seconds:
        lines.append(
            f"Time: attack and undefended models {seconds['attack_and_undefended']:.1f} s; "
            f"defense {seconds['defense']:.1f} s."
        )
    else:
        lines.append(f"Time: defense {seconds['defense']:.1f} s.")
    return lines


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
